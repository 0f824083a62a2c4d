//! The KB manager's reports: metric definitions with the support world's targets and
//! warnings (the README's "Metrics and their targets"), a status per metric, and typed report rows (gaps, searches, deflection, helpfulness,
//! freshness, coverage) computed from the store's aggregates and the knowledge base.
//! Every report also has a [`Table`] view: the same rows for HTML, CSV and the terminal.
//!
//! One file per report (its rows beside the code that computes them); the period, the
//! metric definitions, the kept hour/day aggregates and the table rendering are shared.

mod chunks;
mod coverage;
mod deflection;
mod freshness;
mod gaps;
mod helpfulness;
mod metrics;
mod period;
mod searches;
mod table;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::content::KnowledgeBase;
use crate::search::{SearchEngine, SearchRequest};
use crate::store::reports::{
    ANSWER_BUCKET_SECS, BaseSessions, QueryDayStats, RefinementPair, Refinements, SessionBucket,
};
use crate::store::{Store, StoreError};
// What the reports' files share, for their `use super::*`.
use chunks::{failed_sessions_by_base, query_day_stats, refinements, session_buckets};
use gaps::stems;
use metrics::{opt_percent, rate};
use table::{funnel_table, time};

pub use chunks::{REFRESH, spawn_warmup};
pub use coverage::*;
pub use deflection::*;
pub use freshness::*;
pub use gaps::*;
pub use helpfulness::*;
pub use metrics::*;
pub use period::Period;
pub use searches::*;
pub use table::Table;

/// The new-article signal: this many zero-result searches (or tickets) in a week.
pub const NEW_ARTICLE_SIGNAL: i64 = 10;
/// An article below this helpfulness with at least [`FLAG_MIN_VOTES`] votes is flagged.
pub const FLAG_BELOW: f64 = 0.60;
pub const FLAG_MIN_VOTES: i64 = 5;
/// Articles count as fresh when reviewed within this many days.
pub const FRESH_DAYS: i64 = 180;
/// Refinements: another search in the same session within this many seconds.
pub const REFINEMENT_WINDOW_SECS: f64 = 120.0;
/// A ticket this long after a session's start counts against its deflection.
pub const TICKET_WINDOW_SECS: f64 = 24.0 * 3600.0;
/// Query clusters looked up in the index for their closest article.
const CLOSEST_LOOKUPS: usize = 50;
/// Distinct failing queries clustered by typo distance; the long tail keeps exact groups.
const FUZZY_CLUSTER_LIMIT: usize = 500;
/// The gaps report lists this many clusters (most failed searches first).
pub const GAP_CLUSTERS: usize = 100;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "no report named `{0}` — use one of: gaps, searches, deflection, helpfulness, freshness, coverage"
    )]
    UnknownReport(String),
    #[error(
        "`{0}` is not a period — use e.g. 7d, 24h, 30d or a date like 2026-11-01 (UTC midnight)"
    )]
    BadPeriod(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The six reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportName {
    Gaps,
    Searches,
    Deflection,
    Helpfulness,
    Freshness,
    Coverage,
}

impl ReportName {
    pub const ALL: [ReportName; 6] = [
        ReportName::Gaps,
        ReportName::Searches,
        ReportName::Deflection,
        ReportName::Helpfulness,
        ReportName::Freshness,
        ReportName::Coverage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::Gaps => "gaps",
            ReportName::Searches => "searches",
            ReportName::Deflection => "deflection",
            ReportName::Helpfulness => "helpfulness",
            ReportName::Freshness => "freshness",
            ReportName::Coverage => "coverage",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ReportName::Gaps => "Content gaps",
            ReportName::Searches => "Searches",
            ReportName::Deflection => "Deflection",
            ReportName::Helpfulness => "Helpfulness",
            ReportName::Freshness => "Freshness",
            ReportName::Coverage => "Coverage",
        }
    }
}

impl std::str::FromStr for ReportName {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportName::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ReportError::UnknownReport(s.chars().take(64).collect()))
    }
}

/// Any of the six reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "report", rename_all = "lowercase")]
pub enum Report {
    Gaps(GapsReport),
    Searches(SearchesReport),
    Deflection(DeflectionReport),
    Helpfulness(HelpfulnessReport),
    Freshness(FreshnessReport),
    Coverage(CoverageReport),
}

/// What the reports read besides the store.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub store: &'a Store,
    pub kb: &'a KnowledgeBase,
    pub engine: &'a SearchEngine,
    /// Content freshness is judged against this day.
    pub today: NaiveDate,
}

impl Report {
    pub fn name(&self) -> ReportName {
        match self {
            Report::Gaps(_) => ReportName::Gaps,
            Report::Searches(_) => ReportName::Searches,
            Report::Deflection(_) => ReportName::Deflection,
            Report::Helpfulness(_) => ReportName::Helpfulness,
            Report::Freshness(_) => ReportName::Freshness,
            Report::Coverage(_) => ReportName::Coverage,
        }
    }

    pub fn metrics(&self) -> &[Metric] {
        match self {
            Report::Gaps(r) => &r.metrics,
            Report::Searches(r) => &r.metrics,
            Report::Deflection(r) => &r.metrics,
            Report::Helpfulness(r) => &r.metrics,
            Report::Freshness(r) => &r.metrics,
            Report::Coverage(r) => &r.metrics,
        }
    }

    pub fn period(&self) -> Period {
        match self {
            Report::Gaps(r) => r.period,
            Report::Searches(r) => r.period,
            Report::Deflection(r) => r.period,
            Report::Helpfulness(r) => r.period,
            Report::Freshness(r) => r.period,
            Report::Coverage(r) => r.period,
        }
    }

    /// Builds a report over `period`.
    pub async fn build(
        name: ReportName,
        inputs: Inputs<'_>,
        period: Period,
    ) -> Result<Report, ReportError> {
        Ok(match name {
            ReportName::Gaps => Report::Gaps(gaps::build(inputs, period).await?),
            ReportName::Searches => Report::Searches(searches::build(inputs, period).await?),
            ReportName::Deflection => Report::Deflection(deflection::build(inputs, period).await?),
            ReportName::Helpfulness => {
                Report::Helpfulness(helpfulness::build(inputs, period).await?)
            }
            ReportName::Freshness => Report::Freshness(freshness::build(inputs, period).await?),
            ReportName::Coverage => Report::Coverage(coverage::build(inputs, period).await?),
        })
    }
}

/// The fixed "now" the reports' unit tests share.
#[cfg(test)]
mod test_time {
    use chrono::{DateTime, Utc};

    pub(super) fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }
}
