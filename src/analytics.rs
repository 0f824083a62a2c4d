//! The KB manager's reports: metric definitions with PRODUCT.md's targets and warnings, a
//! status per metric, and typed report rows (gaps, searches, deflection, helpfulness,
//! freshness, coverage) computed from the store's aggregates and the knowledge base.
//! Every report also has a [`Table`] view: the same rows for HTML, CSV and the terminal.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::content::KnowledgeBase;
use crate::search::{SearchEngine, SearchRequest};
use crate::store::reports::{
    ANSWER_BUCKET_SECS, BaseSessions, QueryDayStats, RefinementPair, Refinements, SessionBucket,
};
use crate::store::{Store, StoreError};

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

/// The time a report covers: `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Period {
    /// The default: the last 7 days.
    pub fn last_days(days: i64, now: DateTime<Utc>) -> Self {
        Self {
            since: now - Duration::days(days),
            until: now,
        }
    }

    /// `7d`, `24h`, `30d`, `2w`, or an ISO date (`2026-11-01`, from UTC midnight) or RFC 3339 time.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Self, ReportError> {
        let bad = || ReportError::BadPeriod(text.chars().take(64).collect());
        let t = text.trim();
        let since = if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            date.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc()
        } else if let Ok(time) = DateTime::parse_from_rfc3339(t) {
            time.with_timezone(&Utc)
        } else {
            let split = t.len().checked_sub(1).ok_or_else(bad)?;
            let (n, unit) = t.split_at(split);
            let n: i64 = n.parse().map_err(|_| bad())?;
            if !(1..=3660).contains(&n) {
                return Err(bad());
            }
            let span = match unit {
                "h" => Duration::hours(n),
                "d" => Duration::days(n),
                "w" => Duration::weeks(n),
                _ => return Err(bad()),
            };
            now - span
        };
        if since >= now {
            return Err(bad());
        }
        Ok(Self { since, until: now })
    }

    pub fn length(&self) -> Duration {
        self.until - self.since
    }

    /// The period of equal length just before this one.
    pub fn previous(&self) -> Self {
        Self {
            since: self.since - self.length(),
            until: self.since,
        }
    }

    /// The last 7 days of the period (all of it when shorter).
    fn last_week_start(&self) -> DateTime<Utc> {
        (self.until - Duration::days(7)).max(self.since)
    }
}

/// How a metric stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Meets the target.
    Ok,
    /// Misses the target but is not yet at the warning level.
    OffTarget,
    /// Past the warning level: act now.
    Warning,
    /// No fixed target (the metric should fall over time), or nothing measured yet.
    NoTarget,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::OffTarget => "off target",
            Status::Warning => "warning",
            Status::NoTarget => "—",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How a value is judged.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Higher is better: ok from `target`, warning below `warning`.
    AtLeast { target: f64, warning: f64 },
    /// Lower is better: ok below `target`, warning above `warning`.
    Below { target: f64, warning: f64 },
    /// Should be falling; no fixed level.
    Falling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ratio,
    Seconds,
}

/// A metric as PRODUCT.md defines it.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    pub target: &'static str,
    pub warning: &'static str,
    rule: Rule,
    unit: Unit,
}

macro_rules! metric {
    ($key:literal, $name:literal, $def:literal, $target:literal, $warning:literal, $rule:expr, $unit:expr) => {
        MetricDef {
            key: $key,
            name: $name,
            definition: $def,
            target: $target,
            warning: $warning,
            rule: $rule,
            unit: $unit,
        }
    };
}

pub const DEFLECTION_RATE: MetricDef = metric!(
    "deflection_rate",
    "Deflection rate",
    "help-center sessions with a search or article view and no ticket within 24 h",
    "30–50 %",
    "< 20 %",
    Rule::AtLeast {
        target: 0.30,
        warning: 0.20
    },
    Unit::Ratio
);
pub const SEARCH_SUCCESS: MetricDef = metric!(
    "search_success",
    "Search success",
    "searches followed by a result click",
    "≥ 60 %",
    "< 40 %",
    Rule::AtLeast {
        target: 0.60,
        warning: 0.40
    },
    Unit::Ratio
);
pub const ZERO_RESULT_RATE: MetricDef = metric!(
    "zero_result_rate",
    "Zero-result rate",
    "searches with no result",
    "< 10 %",
    "> 20 %",
    Rule::Below {
        target: 0.10,
        warning: 0.20
    },
    Unit::Ratio
);
pub const REFINEMENT_RATE: MetricDef = metric!(
    "refinement_rate",
    "Refinement rate",
    "searches followed by another search in the same session within 2 min",
    "falling",
    "—",
    Rule::Falling,
    Unit::Ratio
);
pub const DEFLECTION_FAILURE: MetricDef = metric!(
    "deflection_failure",
    "Deflection failure",
    "tickets filed after a search in the same session (share of tickets)",
    "falling",
    "—",
    Rule::Falling,
    Unit::Ratio
);
pub const HELPFULNESS: MetricDef = metric!(
    "helpfulness",
    "Article helpfulness",
    "yes / (yes + no) votes",
    "≥ 80 %",
    "< 60 %",
    Rule::AtLeast {
        target: 0.80,
        warning: 0.60
    },
    Unit::Ratio
);
pub const FRESHNESS: MetricDef = metric!(
    "freshness",
    "Content freshness",
    "published articles with last_reviewed within 180 days",
    "≥ 90 %",
    "< 70 %",
    Rule::AtLeast {
        target: 0.90,
        warning: 0.70
    },
    Unit::Ratio
);
pub const COVERAGE: MetricDef = metric!(
    "coverage",
    "Article coverage",
    "ticket types with at least one published article",
    "≥ 80 %",
    "< 50 %",
    Rule::AtLeast {
        target: 0.80,
        warning: 0.50
    },
    Unit::Ratio
);
pub const TIME_TO_ANSWER: MetricDef = metric!(
    "time_to_answer",
    "Time to answer",
    "session start to first article click or helpful vote (median)",
    "< 2 min",
    "> 5 min",
    Rule::Below {
        target: 120.0,
        warning: 300.0
    },
    Unit::Seconds
);

/// A measured metric and its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    /// A ratio (0..1) or seconds; `None` when nothing was measured.
    pub value: Option<f64>,
    /// The value for people: `12.5 %`, `1 min 30 s`.
    pub display: String,
    pub target: &'static str,
    pub warning: &'static str,
    pub status: Status,
}

impl MetricDef {
    /// Measures `numerator / denominator` (no value when the denominator is 0).
    pub fn ratio(&self, numerator: i64, denominator: i64) -> Metric {
        self.measure((denominator > 0).then(|| numerator as f64 / denominator as f64))
    }

    pub fn measure(&self, value: Option<f64>) -> Metric {
        let status = match (value, self.rule) {
            (None, _) | (_, Rule::Falling) => Status::NoTarget,
            (Some(v), Rule::AtLeast { target, warning }) => {
                if v >= target {
                    Status::Ok
                } else if v < warning {
                    Status::Warning
                } else {
                    Status::OffTarget
                }
            }
            (Some(v), Rule::Below { target, warning }) => {
                if v < target {
                    Status::Ok
                } else if v > warning {
                    Status::Warning
                } else {
                    Status::OffTarget
                }
            }
        };
        let display = match (value, self.unit) {
            (None, _) => "no data".to_string(),
            (Some(v), Unit::Ratio) => percent(v),
            (Some(v), Unit::Seconds) => duration(v),
        };
        Metric {
            key: self.key,
            name: self.name,
            definition: self.definition,
            value,
            display,
            target: self.target,
            warning: self.warning,
            status,
        }
    }
}

/// `0.125` → `12.5 %`.
pub fn percent(ratio: f64) -> String {
    format!("{:.1} %", ratio * 100.0)
}

/// `95.0` → `1 min 35 s`.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as i64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn opt_percent(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), percent)
}

// ---------------------------------------------------------------------------------------
// Report rows.

/// Failing searches (zero results, or results but no click) for one query and its typo variants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapCluster {
    /// The most searched variant.
    pub query: String,
    /// Every normalized variant in the cluster, most searched first.
    pub variants: Vec<String>,
    pub zero_results: i64,
    pub no_click: i64,
    /// Failed searches (zero results + no click).
    pub failed: i64,
    /// Sessions with a failed search of any variant, counted per typo-corrected query and
    /// per day or hour (the kept aggregates hold no session ids): a session retrying a typo
    /// counts once; one that failed on two different wordings, or on two days, counts for each.
    pub sessions: i64,
    pub last_seen: Option<DateTime<Utc>>,
    /// The article the index finds closest now, if any.
    pub closest_article: Option<ArticleRef>,
    /// Zero-result searches in the last 7 days.
    pub zero_results_last_week: i64,
    /// ≥ 10 zero-result searches in a week: write an article.
    pub new_article_signal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleRef {
    pub slug: String,
    pub title: String,
}

/// Tickets of one type (category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketTypeCount {
    pub ticket_type: String,
    pub name: Option<String>,
    pub tickets: i64,
}

/// A query that found nothing before its session filed a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryBeforeTicket {
    pub query: String,
    pub tickets: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapsReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub clusters: Vec<GapCluster>,
    /// Ticket types with ≥ 10 tickets in the last 7 days.
    pub busy_ticket_types: Vec<TicketTypeCount>,
    pub zero_result_queries_before_tickets: Vec<QueryBeforeTicket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopQuery {
    pub query: String,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    pub click_through: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySearches {
    pub day: String,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    pub zero_result_rate: Option<f64>,
    pub search_success: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refinement {
    pub from: String,
    pub to: String,
    pub count: i64,
    /// `from` failed and `to` was clicked.
    pub ended_in_click: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynonymProposal {
    pub from: String,
    pub to: String,
    pub evidence: i64,
    /// Ready to paste into synonyms.txt.
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchesReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    pub refinements: i64,
    pub top_queries: Vec<TopQuery>,
    pub daily: Vec<DaySearches>,
    pub top_refinements: Vec<Refinement>,
    pub synonym_proposals: Vec<SynonymProposal>,
}

/// The self-service funnel over one day or week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeflectionFunnel {
    /// `2026-11-22` for a day, `2026-W47` for an ISO week.
    pub period: String,
    pub sessions: i64,
    pub clicked: i64,
    pub voted_helpful: i64,
    pub filed_ticket: i64,
    pub deflection_rate: Option<f64>,
    /// Median seconds to the first click or helpful vote.
    pub median_time_to_answer_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeflectionReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub total: DeflectionFunnel,
    pub daily: Vec<DeflectionFunnel>,
    pub weekly: Vec<DeflectionFunnel>,
    pub tickets: i64,
    pub tickets_after_search: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleHelpfulness {
    pub slug: String,
    pub title: Option<String>,
    pub yes: i64,
    pub no: i64,
    pub rate: Option<f64>,
    pub previous_rate: Option<f64>,
    /// Change of the rate against the previous period, in percentage points.
    pub change_points: Option<f64>,
    /// Reasons given with "No", most frequent first.
    pub reasons: Vec<(String, i64)>,
    /// Below 60 % with at least 5 votes.
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub slug: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HelpfulnessReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub articles: Vec<ArticleHelpfulness>,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleArticle {
    pub slug: String,
    pub title: String,
    pub owner: Option<String>,
    pub last_reviewed: NaiveDate,
    pub days_since_review: i64,
    /// Views plus result clicks in the period.
    pub traffic: i64,
    /// The last commit touching the file, when content/ is a git repository.
    pub last_changed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FreshnessReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub published: i64,
    pub fresh: i64,
    /// Stale and popular first.
    pub stale: Vec<StaleArticle>,
    pub git: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketTypeCoverage {
    pub id: String,
    pub name: String,
    pub articles: Vec<String>,
    pub covered: bool,
    /// Tickets of this type filed in the period.
    pub tickets: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub ticket_types: Vec<TicketTypeCoverage>,
    /// Ticket categories by tickets filed in the period, including ones outside the taxonomy.
    pub most_filed: Vec<TicketTypeCount>,
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
            ReportName::Gaps => Report::Gaps(gaps(inputs, period).await?),
            ReportName::Searches => Report::Searches(searches(inputs, period).await?),
            ReportName::Deflection => Report::Deflection(deflection(inputs, period).await?),
            ReportName::Helpfulness => Report::Helpfulness(helpfulness(inputs, period).await?),
            ReportName::Freshness => Report::Freshness(freshness(inputs, period).await?),
            ReportName::Coverage => Report::Coverage(coverage(inputs, period).await?),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Closed days and hours: aggregated once, then read back.

/// A day's searches and refinements are final an hour after it ends (late clicks).
const SETTLE_SEARCHES: Duration = crate::store::reports::CLICK_SETTLE;
/// A day's sessions are final once a ticket can no longer count against them (24 h) plus an hour.
const SETTLE_SESSIONS: Duration = crate::store::reports::SESSION_SETTLE;

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `t` rounded down to the hour.
fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp().div_euclid(3600) * 3600;
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

/// `t` rounded up to the hour.
fn hour_ceil(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = hour_floor(t);
    if floor == t {
        t
    } else {
        floor + Duration::hours(1)
    }
}

/// How long a chunk computed before its numbers were final (late clicks, a ticket within
/// 24 h of a session) is read back before it is computed again: the last day's numbers in a
/// report can be this old. The background job refreshes them about as often.
pub const REFRESH: Duration = Duration::minutes(5);

/// A kept piece of a period: a whole UTC day (`2026-11-16`) or one hour (`2026-11-16T05`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    key: String,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Splits `[since, until)` (whole hours) into hours, and whole days where the day ends by
/// `days_until` (days whose numbers are final: they are computed once, not refreshed).
fn chunks(since: DateTime<Utc>, until: DateTime<Utc>, days_until: DateTime<Utc>) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut t = since;
    while t < until {
        let day = t.date_naive();
        let next_midnight = midnight(day.succ_opt().unwrap_or(day));
        let (key, next) =
            if t == midnight(day) && next_midnight <= until && next_midnight <= days_until {
                (day.format("%Y-%m-%d").to_string(), next_midnight)
            } else {
                (t.format("%Y-%m-%dT%H").to_string(), t + Duration::hours(1))
            };
        out.push(Chunk {
            key,
            since: t,
            until: next,
        });
        t = next;
    }
    out
}

/// Whether a kept chunk ending at `until` can be read back at `now`: it was computed once its
/// numbers were final (`settle` after its end), or less than [`REFRESH`] ago.
fn usable(
    computed_at: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
    settle: Duration,
    now: DateTime<Utc>,
) -> bool {
    computed_at.is_some_and(|at| at >= until + settle || now - at < REFRESH)
}

/// Runs a chunked aggregate over `period`: every whole hour (whole days once they are final)
/// is computed once and kept, then read back — while its numbers can still change (for
/// `settle` after its end) for [`REFRESH`] at a time; only the partial first and current
/// hours are always computed live, so a report's cost does not grow with the traffic of the
/// period. `compute(since, until)` must return rows that can simply be concatenated (the
/// callers sum rows with the same key).
async fn by_chunks<T, F, Fut>(
    store: &Store,
    query: &str,
    period: Period,
    settle: Duration,
    compute: F,
) -> Result<Vec<T>, ReportError>
where
    T: Serialize + serde::de::DeserializeOwned,
    F: Fn(DateTime<Utc>, DateTime<Utc>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, StoreError>>,
{
    let now = Utc::now();
    let start = hour_ceil(period.since);
    let end = hour_floor(period.until.min(now));
    if start >= end {
        return Ok(compute(period.since, period.until).await?);
    }
    let mut rows = Vec::new();
    if period.since < start {
        rows.extend(compute(period.since, start).await?);
    }
    let fmt = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let last_day = end.date_naive();
    let cached: HashMap<String, (String, Option<DateTime<Utc>>)> = store
        .cached_days(
            query,
            &fmt(start.date_naive()),
            &fmt(last_day.succ_opt().unwrap_or(last_day)),
        )
        .await?
        .into_iter()
        .map(|(key, json, at)| (key, (json, at)))
        .collect();
    for chunk in chunks(start, end, now - settle) {
        // A row format from another version does not parse: compute it again.
        if let Some(chunk_rows) = cached
            .get(&chunk.key)
            .filter(|(_, at)| usable(*at, chunk.until, settle, now))
            .and_then(|(json, _)| serde_json::from_str::<Vec<T>>(json).ok())
        {
            rows.extend(chunk_rows);
            continue;
        }
        let computed_at = Utc::now();
        let chunk_rows = compute(chunk.since, chunk.until).await?;
        match serde_json::to_string(&chunk_rows) {
            Ok(json) => {
                store
                    .cache_day(query, &chunk.key, &json, computed_at)
                    .await?;
            }
            Err(e) => tracing::warn!("caching {query} for {}: {e}", chunk.key),
        }
        rows.extend(chunk_rows);
    }
    if end < period.until {
        rows.extend(compute(end, period.until).await?);
    }
    Ok(rows)
}

async fn query_day_stats(store: &Store, period: Period) -> Result<Vec<QueryDayStats>, ReportError> {
    by_chunks(
        store,
        "query_day_stats/3",
        period,
        SETTLE_SEARCHES,
        |a, b| store.query_day_stats(a, b),
    )
    .await
}

async fn failed_sessions_by_base(
    store: &Store,
    period: Period,
) -> Result<Vec<BaseSessions>, ReportError> {
    by_chunks(
        store,
        "failed_sessions_by_base/1",
        period,
        SETTLE_SEARCHES,
        |a, b| store.failed_sessions_by_base(a, b),
    )
    .await
}

/// Refinements over the period: the chunks' top pairs merged (a pair that is never among a
/// day's or an hour's top 500 is missed; the total is exact).
async fn refinements(store: &Store, period: Period) -> Result<Refinements, ReportError> {
    let parts = by_chunks(
        store,
        "refinements/2",
        period,
        SETTLE_SEARCHES,
        |a, b| async move {
            Ok(vec![
                store.refinements(a, b, REFINEMENT_WINDOW_SECS, 500).await?,
            ])
        },
    )
    .await?;
    let mut total = 0;
    let mut pairs: HashMap<(String, String), (i64, i64)> = HashMap::new();
    for part in parts {
        total += part.total;
        for p in part.pairs {
            let e = pairs.entry((p.from, p.to)).or_default();
            *e = (e.0 + p.count, e.1 + p.fixed);
        }
    }
    let mut pairs: Vec<RefinementPair> = pairs
        .into_iter()
        .map(|((from, to), (count, fixed))| RefinementPair {
            from,
            to,
            count,
            fixed,
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.fixed
            .cmp(&a.fixed)
            .then(b.count.cmp(&a.count))
            .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
    });
    pairs.truncate(200);
    Ok(Refinements { total, pairs })
}

async fn session_buckets(store: &Store, period: Period) -> Result<Vec<SessionBucket>, ReportError> {
    by_chunks(
        store,
        "session_buckets/2",
        period,
        SETTLE_SESSIONS,
        |a, b| store.session_buckets(a, b, TICKET_WINDOW_SECS),
    )
    .await
}

/// Keeps the hours and days of the last 31 days aggregated — the ones still changing
/// refreshed a little more often than [`REFRESH`] — so a report request finds them ready, and
/// forgets aggregated days past the retention period (they hold queries as typed;
/// `retention_days` 0 keeps them): runs now and then every 4 minutes, in the background.
pub fn spawn_warmup(store: Store, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(240));
        loop {
            every.tick().await;
            let now = Utc::now();
            if retention_days > 0 {
                let cutoff = now - Duration::days(i64::from(retention_days));
                let day = cutoff.date_naive().format("%Y-%m-%d").to_string();
                if let Err(e) = store.forget_report_days_before(&day).await {
                    tracing::warn!("forgetting old report days: {e}");
                }
            }
            let period = Period {
                since: midnight((now - Duration::days(31)).date_naive()),
                until: now,
            };
            let started = std::time::Instant::now();
            let result = async {
                query_day_stats(&store, period).await?;
                failed_sessions_by_base(&store, period).await?;
                refinements(&store, period).await?;
                session_buckets(&store, period).await?;
                Ok::<_, ReportError>(())
            }
            .await;
            match result {
                Ok(()) => {
                    tracing::debug!(ms = started.elapsed().as_millis(), "report days aggregated");
                }
                Err(e) => tracing::warn!("aggregating report days: {e}"),
            }
        }
    })
}

// ---------------------------------------------------------------------------------------
// gaps

/// Searches for one normalized query over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryStats {
    pub normalized: String,
    pub corrected_query: Option<String>,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    /// Searches with results but no click.
    pub no_click: i64,
    /// Zero-result searches on the last 7 days of the period.
    pub zero_results_last_week: i64,
    pub last_seen: DateTime<Utc>,
    pub last_failed: Option<DateTime<Utc>>,
}

/// Folds the per-day rows into one row per query, most searched first.
pub fn per_query(rows: &[QueryDayStats], last_week_from: NaiveDate) -> Vec<QueryStats> {
    let mut by: HashMap<&str, QueryStats> = HashMap::new();
    for r in rows {
        let recent =
            NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").is_ok_and(|d| d >= last_week_from);
        let q = by
            .entry(r.normalized.as_str())
            .or_insert_with(|| QueryStats {
                normalized: r.normalized.clone(),
                corrected_query: None,
                searches: 0,
                zero_results: 0,
                clicked: 0,
                no_click: 0,
                zero_results_last_week: 0,
                last_seen: r.last_seen,
                last_failed: None,
            });
        q.searches += r.searches;
        q.zero_results += r.zero_results;
        q.clicked += r.clicked;
        // Zero-result searches are never clicked: the rest of the unclicked had results.
        q.no_click += r.searches - r.clicked - r.zero_results;
        if recent {
            q.zero_results_last_week += r.zero_results;
        }
        q.last_seen = q.last_seen.max(r.last_seen);
        q.last_failed = q.last_failed.max(r.last_failed);
        if q.corrected_query.is_none() {
            q.corrected_query.clone_from(&r.corrected_query);
        }
    }
    let mut out: Vec<QueryStats> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.searches
            .cmp(&a.searches)
            .then_with(|| a.normalized.cmp(&b.normalized))
    });
    out
}

/// The English stems of a normalized (lowercased, folded) text's words.
fn stems(stemmer: &rust_stemmers::Stemmer, text: &str) -> String {
    text.split_whitespace()
        .map(|w| stemmer.stem(&w.to_lowercase()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What typo variants share: the stems of the typo-corrected form (or of the query as typed).
fn cluster_key(stemmer: &rust_stemmers::Stemmer, q: &QueryStats) -> String {
    let base = q
        .corrected_query
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(&q.normalized);
    stems(stemmer, base)
}

/// Whether two cluster keys are one typo apart (two from 10 characters; none up to 4,
/// where one letter makes another word: card, cart).
pub fn is_typo_of(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let shortest = a.chars().count().min(b.chars().count());
    let allowed = match shortest {
        0..=4 => 0,
        5..=9 => 1,
        _ => 2,
    };
    allowed > 0
        && a.len().abs_diff(b.len()) <= allowed
        && strsim::damerau_levenshtein(a, b) <= allowed
}

/// Groups failing queries: first by the stems of their typo-corrected form, then greedily by
/// typo distance between those keys (the most searched groups first).
pub fn cluster_gaps(stats: &[QueryStats]) -> Vec<GapCluster> {
    let mut failing: Vec<&QueryStats> = stats
        .iter()
        .filter(|q| q.zero_results + q.no_click > 0)
        .collect();
    failing.sort_by(|a, b| {
        (b.zero_results + b.no_click)
            .cmp(&(a.zero_results + a.no_click))
            .then_with(|| a.normalized.cmp(&b.normalized))
    });
    let mut keys: Vec<String> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut members: Vec<Vec<&QueryStats>> = Vec::new();
    let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    for (i, q) in failing.into_iter().enumerate() {
        let key = cluster_key(&stemmer, q);
        // Typo distance only among the most failed queries (and against the first clusters):
        // quadratic work stays bounded; the tail is grouped by exact key.
        let found = by_key.get(&key).copied().or_else(|| {
            (i < FUZZY_CLUSTER_LIMIT)
                .then(|| {
                    keys.iter()
                        .take(FUZZY_CLUSTER_LIMIT)
                        .position(|k| is_typo_of(k, &key))
                })
                .flatten()
        });
        match found {
            Some(c) => members[c].push(q),
            None => {
                by_key.insert(key.clone(), keys.len());
                keys.push(key);
                members.push(vec![q]);
            }
        }
    }
    let mut clusters: Vec<GapCluster> = members
        .into_iter()
        .map(|m| {
            let mut variants: Vec<&QueryStats> = m;
            variants.sort_by(|a, b| {
                b.searches
                    .cmp(&a.searches)
                    .then_with(|| a.normalized.cmp(&b.normalized))
            });
            let zero_results = variants.iter().map(|q| q.zero_results).sum();
            let no_click = variants.iter().map(|q| q.no_click).sum();
            let last_week = variants.iter().map(|q| q.zero_results_last_week).sum();
            GapCluster {
                query: variants[0].normalized.clone(),
                variants: variants.iter().map(|q| q.normalized.clone()).collect(),
                zero_results,
                no_click,
                failed: zero_results + no_click,
                sessions: 0,
                last_seen: variants.iter().filter_map(|q| q.last_failed).max(),
                closest_article: None,
                zero_results_last_week: last_week,
                new_article_signal: last_week >= NEW_ARTICLE_SIGNAL,
            }
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.zero_results
            .cmp(&a.zero_results)
            .then(b.failed.cmp(&a.failed))
            .then_with(|| a.query.cmp(&b.query))
    });
    clusters
}

async fn gaps(inputs: Inputs<'_>, period: Period) -> Result<GapsReport, ReportError> {
    let store = inputs.store;
    let rows = query_day_stats(store, period).await?;
    let stats = per_query(&rows, period.last_week_start().date_naive());
    let mut clusters = cluster_gaps(&stats);
    clusters.truncate(GAP_CLUSTERS);
    let mut sessions: HashMap<String, i64> = HashMap::new();
    for b in failed_sessions_by_base(store, period).await? {
        *sessions.entry(b.base).or_default() += b.sessions;
    }
    let base_of: HashMap<&str, &str> = stats
        .iter()
        .map(|q| {
            let base = q.corrected_query.as_deref().filter(|c| !c.is_empty());
            (q.normalized.as_str(), base.unwrap_or(&q.normalized))
        })
        .collect();
    for c in &mut clusters {
        let mut bases: Vec<&str> = c
            .variants
            .iter()
            .map(|v| base_of.get(v.as_str()).copied().unwrap_or(v))
            .collect();
        bases.sort_unstable();
        bases.dedup();
        c.sessions = bases.iter().filter_map(|b| sessions.get(*b)).sum();
    }
    for c in clusters.iter_mut().take(CLOSEST_LOOKUPS) {
        let mut req = SearchRequest::new(&c.query);
        req.limit = 1;
        c.closest_article = inputs.engine.search(&req).hits.first().map(|h| ArticleRef {
            slug: h.article.slug.clone(),
            title: h.article.front.title.clone(),
        });
    }
    let week = Period {
        since: period.until - Duration::days(7),
        until: period.until,
    };
    let names: HashMap<&str, &str> = inputs
        .kb
        .ticket_types
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    let busy_ticket_types = store
        .tickets_by_category(week.since, week.until)
        .await?
        .into_iter()
        .filter(|(_, n)| *n >= NEW_ARTICLE_SIGNAL)
        .map(|(category, tickets)| {
            let id = category.unwrap_or_default();
            TicketTypeCount {
                name: names.get(id.as_str()).map(|n| (*n).to_string()),
                ticket_type: id,
                tickets,
            }
        })
        .collect();
    let before = store
        .zero_result_queries_before_tickets(period.since, period.until, 50)
        .await?
        .into_iter()
        .map(|(query, tickets)| QueryBeforeTicket { query, tickets })
        .collect();
    let (searches, zero): (i64, i64) = stats
        .iter()
        .fold((0, 0), |(s, z), q| (s + q.searches, z + q.zero_results));
    Ok(GapsReport {
        period,
        metrics: vec![ZERO_RESULT_RATE.ratio(zero, searches)],
        clusters,
        busy_ticket_types,
        zero_result_queries_before_tickets: before,
    })
}

// ---------------------------------------------------------------------------------------
// searches

/// Synonym lines from refinements that ended in a click, skipping what search already
/// handles: a completion of the first query (as-you-type) or a typo of it.
pub fn propose_synonyms(
    pairs: &[Refinement],
    corrected: &HashMap<&str, &str>,
) -> Vec<SynonymProposal> {
    let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    let stems = |s: &str| stems(&stemmer, s);
    let mut out: Vec<SynonymProposal> = Vec::new();
    for p in pairs.iter().filter(|p| p.ended_in_click > 0) {
        let (from, to) = (p.from.trim(), p.to.trim());
        if from.is_empty() || to.is_empty() || to.starts_with(from) || from.starts_with(to) {
            continue;
        }
        let fixed_by_correction = corrected.get(from).is_some_and(|c| c.trim() == to);
        let (sf, st) = (stems(from), stems(to));
        if fixed_by_correction || sf == st || is_typo_of(from, to) || is_typo_of(&sf, &st) {
            continue;
        }
        if out.iter().any(|o| o.from == from) {
            continue; // one rule per source: the best-supported target came first
        }
        out.push(SynonymProposal {
            from: from.to_string(),
            to: to.to_string(),
            evidence: p.ended_in_click,
            line: format!("{from} => {to}"),
        });
    }
    out
}

async fn searches(inputs: Inputs<'_>, period: Period) -> Result<SearchesReport, ReportError> {
    let store = inputs.store;
    let rows = query_day_stats(store, period).await?;
    let stats = per_query(&rows, period.last_week_start().date_naive());
    let mut days: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    for r in &rows {
        let d = days.entry(r.day.as_str()).or_default();
        *d = (d.0 + r.searches, d.1 + r.zero_results, d.2 + r.clicked);
    }
    let refinements = refinements(store, period).await?;
    let (searches, zero_results, clicked) = stats.iter().fold((0, 0, 0), |(s, z, c), q| {
        (s + q.searches, z + q.zero_results, c + q.clicked)
    });
    let top_queries = stats
        .iter()
        .take(25)
        .map(|q| TopQuery {
            query: q.normalized.clone(),
            searches: q.searches,
            zero_results: q.zero_results,
            clicked: q.clicked,
            click_through: rate(q.clicked, q.searches),
        })
        .collect();
    let top_refinements: Vec<Refinement> = refinements
        .pairs
        .iter()
        .map(|p| Refinement {
            from: p.from.clone(),
            to: p.to.clone(),
            count: p.count,
            ended_in_click: p.fixed,
        })
        .collect();
    let corrected: HashMap<&str, &str> = stats
        .iter()
        .filter_map(|q| Some((q.normalized.as_str(), q.corrected_query.as_deref()?)))
        .collect();
    let synonym_proposals = propose_synonyms(&top_refinements, &corrected);
    Ok(SearchesReport {
        period,
        metrics: vec![
            SEARCH_SUCCESS.ratio(clicked, searches),
            ZERO_RESULT_RATE.ratio(zero_results, searches),
            REFINEMENT_RATE.ratio(refinements.total, searches),
        ],
        searches,
        zero_results,
        clicked,
        refinements: refinements.total,
        top_queries,
        daily: days
            .into_iter()
            .map(|(day, (searches, zero_results, clicked))| DaySearches {
                zero_result_rate: rate(zero_results, searches),
                search_success: rate(clicked, searches),
                day: day.to_string(),
                searches,
                zero_results,
                clicked,
            })
            .collect(),
        top_refinements: top_refinements.into_iter().take(25).collect(),
        synonym_proposals,
    })
}

// ---------------------------------------------------------------------------------------
// deflection

/// The median of a histogram of (value, count); values are bucket floors, the median is
/// reported at the bucket's middle.
fn median(histogram: &BTreeMap<i64, i64>) -> Option<f64> {
    let total: i64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    let half = (total + 1) / 2;
    let mut seen = 0;
    for (&value, &count) in histogram {
        seen += count;
        if seen >= half {
            return Some(value as f64 + ANSWER_BUCKET_SECS as f64 / 2.0);
        }
    }
    None
}

#[derive(Default)]
struct FunnelAcc {
    sessions: i64,
    clicked: i64,
    helpful: i64,
    ticket: i64,
    answers: BTreeMap<i64, i64>,
}

impl FunnelAcc {
    fn add(&mut self, b: &SessionBucket) {
        self.sessions += b.sessions;
        self.clicked += if b.clicked { b.sessions } else { 0 };
        self.helpful += if b.helpful { b.sessions } else { 0 };
        self.ticket += if b.ticket { b.sessions } else { 0 };
        if let Some(secs) = b.answer_secs {
            *self.answers.entry(secs).or_default() += b.sessions;
        }
    }

    fn funnel(&self, period: String) -> DeflectionFunnel {
        DeflectionFunnel {
            period,
            sessions: self.sessions,
            clicked: self.clicked,
            voted_helpful: self.helpful,
            filed_ticket: self.ticket,
            deflection_rate: rate(self.sessions - self.ticket, self.sessions),
            median_time_to_answer_secs: median(&self.answers),
        }
    }
}

/// Funnels per day, per ISO week, and in all, from the store's session buckets.
pub fn funnels(
    buckets: &[SessionBucket],
) -> (
    DeflectionFunnel,
    Vec<DeflectionFunnel>,
    Vec<DeflectionFunnel>,
) {
    let mut total = FunnelAcc::default();
    let mut days: BTreeMap<String, FunnelAcc> = BTreeMap::new();
    let mut weeks: BTreeMap<String, FunnelAcc> = BTreeMap::new();
    for b in buckets {
        total.add(b);
        days.entry(b.day.clone()).or_default().add(b);
        let week = NaiveDate::parse_from_str(&b.day, "%Y-%m-%d").map_or_else(
            |_| b.day.clone(),
            |d| {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            },
        );
        weeks.entry(week).or_default().add(b);
    }
    (
        total.funnel("all".into()),
        days.into_iter().map(|(d, a)| a.funnel(d)).collect(),
        weeks.into_iter().map(|(w, a)| a.funnel(w)).collect(),
    )
}

async fn deflection(inputs: Inputs<'_>, period: Period) -> Result<DeflectionReport, ReportError> {
    let store = inputs.store;
    let buckets = session_buckets(store, period).await?;
    let tickets = store.ticket_totals(period.since, period.until).await?;
    let (total, daily, weekly) = funnels(&buckets);
    Ok(DeflectionReport {
        period,
        metrics: vec![
            DEFLECTION_RATE.measure(total.deflection_rate),
            TIME_TO_ANSWER.measure(total.median_time_to_answer_secs),
            DEFLECTION_FAILURE.ratio(tickets.after_search, tickets.tickets),
        ],
        total,
        daily,
        weekly,
        tickets: tickets.tickets,
        tickets_after_search: tickets.after_search,
    })
}

// ---------------------------------------------------------------------------------------
// helpfulness

async fn helpfulness(inputs: Inputs<'_>, period: Period) -> Result<HelpfulnessReport, ReportError> {
    let store = inputs.store;
    let previous = period.previous();
    let votes = store
        .article_votes(previous.since, period.since, period.until)
        .await?;
    let mut reasons: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for r in store.vote_reasons(period.since, period.until).await? {
        reasons.entry(r.slug).or_default().push((r.reason, r.count));
    }
    let (mut yes, mut no) = (0, 0);
    let mut articles: Vec<ArticleHelpfulness> = votes
        .into_iter()
        .filter(|v| v.yes + v.no > 0)
        .map(|v| {
            yes += v.yes;
            no += v.no;
            let r = rate(v.yes, v.yes + v.no);
            let p = rate(v.previous_yes, v.previous_yes + v.previous_no);
            ArticleHelpfulness {
                title: inputs
                    .kb
                    .articles
                    .iter()
                    .find(|a| a.slug == v.slug)
                    .map(|a| a.front.title.clone()),
                reasons: reasons.remove(&v.slug).unwrap_or_default(),
                flagged: v.yes + v.no >= FLAG_MIN_VOTES && r.is_some_and(|r| r < FLAG_BELOW),
                change_points: r.zip(p).map(|(r, p)| ((r - p) * 1000.0).round() / 10.0),
                slug: v.slug,
                yes: v.yes,
                no: v.no,
                rate: r,
                previous_rate: p,
            }
        })
        .collect();
    // Flagged first, then the least helpful with the most votes.
    articles.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then(a.rate.unwrap_or(1.0).total_cmp(&b.rate.unwrap_or(1.0)))
            .then((b.yes + b.no).cmp(&(a.yes + a.no)))
            .then_with(|| a.slug.cmp(&b.slug))
    });
    let comments = store
        .vote_comments(period.since, period.until, 50)
        .await?
        .into_iter()
        .map(|c| Comment {
            slug: c.slug,
            helpful: c.helpful,
            reason: c.reason,
            comment: c.comment,
            at: c.at,
        })
        .collect();
    Ok(HelpfulnessReport {
        period,
        metrics: vec![HELPFULNESS.ratio(yes, yes + no)],
        articles,
        comments,
    })
}

// ---------------------------------------------------------------------------------------
// freshness

/// The last commit time of every file under `dir`, from one `git log` pass; `None` when
/// `dir` is not in a git repository or git is not installed.
pub fn git_last_changes(dir: &Path) -> Option<HashMap<String, String>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "log",
            "--format=format:%x00%cI",
            "--name-only",
            "--relative",
            "--no-renames",
            "--",
            ".",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut last: HashMap<String, String> = HashMap::new();
    let mut when = String::new();
    for line in text.lines() {
        if let Some(time) = line.strip_prefix('\0') {
            when = time.trim().to_string();
        } else if !line.trim().is_empty() {
            // Newest commits come first: keep the first time seen per file.
            last.entry(line.trim().to_string())
                .or_insert_with(|| when.clone());
        }
    }
    Some(last)
}

async fn freshness(inputs: Inputs<'_>, period: Period) -> Result<FreshnessReport, ReportError> {
    let traffic: HashMap<String, i64> = inputs
        .store
        .article_traffic(period.since, period.until, i64::MAX)
        .await?
        .into_iter()
        .collect();
    let root = inputs.kb.root.clone();
    let git = tokio::task::spawn_blocking(move || git_last_changes(&root))
        .await
        .ok()
        .flatten();
    let published: Vec<_> = inputs.kb.published().collect();
    let cutoff = inputs.today - Duration::days(FRESH_DAYS);
    let fresh = published
        .iter()
        .filter(|a| a.front.last_reviewed >= cutoff)
        .count();
    let mut stale: Vec<StaleArticle> = published
        .iter()
        .filter(|a| a.front.last_reviewed < cutoff)
        .map(|a| StaleArticle {
            slug: a.slug.clone(),
            title: a.front.title.clone(),
            owner: a.front.owner.clone(),
            last_reviewed: a.front.last_reviewed,
            days_since_review: (inputs.today - a.front.last_reviewed).num_days(),
            traffic: traffic.get(&a.slug).copied().unwrap_or(0),
            last_changed: git.as_ref().and_then(|g| {
                let rel = a.path.to_string_lossy().replace('\\', "/");
                g.get(&rel).cloned()
            }),
        })
        .collect();
    stale.sort_by(|a, b| {
        b.traffic
            .cmp(&a.traffic)
            .then(a.last_reviewed.cmp(&b.last_reviewed))
            .then_with(|| a.slug.cmp(&b.slug))
    });
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    Ok(FreshnessReport {
        period,
        metrics: vec![FRESHNESS.ratio(n(fresh), n(published.len()))],
        published: n(published.len()),
        fresh: n(fresh),
        stale,
        git: git.is_some(),
    })
}

// ---------------------------------------------------------------------------------------
// coverage

async fn coverage(inputs: Inputs<'_>, period: Period) -> Result<CoverageReport, ReportError> {
    let filed = inputs
        .store
        .tickets_by_category(period.since, period.until)
        .await?;
    let count_of: HashMap<&str, i64> = filed
        .iter()
        .map(|(c, n)| (c.as_deref().unwrap_or(""), *n))
        .collect();
    let mut ticket_types: Vec<TicketTypeCoverage> = inputs
        .kb
        .ticket_types
        .iter()
        .map(|t| {
            let articles: Vec<String> = inputs
                .kb
                .published()
                .filter(|a| a.front.ticket_types.contains(&t.id))
                .map(|a| a.slug.clone())
                .collect();
            TicketTypeCoverage {
                id: t.id.clone(),
                name: t.name.clone(),
                covered: !articles.is_empty(),
                articles,
                tickets: count_of.get(t.id.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    // Uncovered and most filed first: that is what to write next.
    ticket_types.sort_by(|a, b| {
        a.covered
            .cmp(&b.covered)
            .then(b.tickets.cmp(&a.tickets))
            .then_with(|| a.id.cmp(&b.id))
    });
    let covered = ticket_types.iter().filter(|t| t.covered).count();
    let names: HashMap<&str, &str> = inputs
        .kb
        .ticket_types
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    let most_filed = filed
        .iter()
        .map(|(c, n)| {
            let id = c.clone().unwrap_or_default();
            TicketTypeCount {
                name: names.get(id.as_str()).map(|s| (*s).to_string()),
                ticket_type: id,
                tickets: *n,
            }
        })
        .collect();
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    Ok(CoverageReport {
        period,
        metrics: vec![COVERAGE.ratio(n(covered), n(ticket_types.len()))],
        ticket_types,
        most_filed,
    })
}

// ---------------------------------------------------------------------------------------
// Table views: the same rows for HTML, CSV and the terminal.

/// One table of a report, all cells as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Chooses the table for CSV export (`?table=`).
    pub key: &'static str,
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(key: &'static str, title: &'static str, columns: &[&'static str]) -> Self {
        Self {
            key,
            title,
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// CSV with a header row.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.columns)?;
        for r in &self.rows {
            w.write_record(r)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Aligned plain text for the terminal.
    pub fn to_text(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count().min(60));
            }
        }
        let line = |cells: Vec<&str>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| {
                    let c: String = c.chars().take(60).collect();
                    format!("{c:<w$}")
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = format!("{}\n", self.title);
        out.push_str(&line(self.columns.clone()));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        if self.rows.is_empty() {
            out.push_str("(none)\n");
        }
        out
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn secs(s: Option<f64>) -> String {
    s.map_or_else(|| "–".to_string(), duration)
}

fn funnel_table(key: &'static str, title: &'static str, rows: &[DeflectionFunnel]) -> Table {
    let mut t = Table::new(
        key,
        title,
        &[
            "period",
            "sessions",
            "clicked",
            "voted_helpful",
            "filed_ticket",
            "deflection_rate",
            "median_time_to_answer",
        ],
    );
    for f in rows {
        t.row(vec![
            f.period.clone(),
            f.sessions.to_string(),
            f.clicked.to_string(),
            f.voted_helpful.to_string(),
            f.filed_ticket.to_string(),
            opt_percent(f.deflection_rate),
            secs(f.median_time_to_answer_secs),
        ]);
    }
    t
}

impl Report {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        match self {
            Report::Gaps(r) => {
                let mut c = Table::new(
                    "clusters",
                    "Failing searches by query (typo variants together)",
                    &[
                        "query",
                        "variants",
                        "zero_results",
                        "no_click",
                        "sessions",
                        "last_seen",
                        "closest_article",
                        "zero_results_last_7_days",
                        "new_article_signal",
                    ],
                );
                for g in &r.clusters {
                    c.row(vec![
                        g.query.clone(),
                        g.variants.join(" | "),
                        g.zero_results.to_string(),
                        g.no_click.to_string(),
                        g.sessions.to_string(),
                        time(g.last_seen),
                        g.closest_article
                            .as_ref()
                            .map_or_else(String::new, |a| format!("{} ({})", a.title, a.slug)),
                        g.zero_results_last_week.to_string(),
                        if g.new_article_signal {
                            "write an article"
                        } else {
                            ""
                        }
                        .to_string(),
                    ]);
                }
                let mut busy = Table::new(
                    "ticket_types",
                    "Ticket types with ≥ 10 tickets in the last 7 days",
                    &["ticket_type", "name", "tickets"],
                );
                for t in &r.busy_ticket_types {
                    busy.row(vec![
                        t.ticket_type.clone(),
                        t.name.clone().unwrap_or_default(),
                        t.tickets.to_string(),
                    ]);
                }
                let mut before = Table::new(
                    "before_tickets",
                    "Zero-result queries followed by a ticket in the same session",
                    &["query", "tickets"],
                );
                for q in &r.zero_result_queries_before_tickets {
                    before.row(vec![q.query.clone(), q.tickets.to_string()]);
                }
                vec![c, busy, before]
            }
            Report::Searches(r) => {
                let mut top = Table::new(
                    "top_queries",
                    "Top queries",
                    &[
                        "query",
                        "searches",
                        "zero_results",
                        "clicked",
                        "click_through",
                    ],
                );
                for q in &r.top_queries {
                    top.row(vec![
                        q.query.clone(),
                        q.searches.to_string(),
                        q.zero_results.to_string(),
                        q.clicked.to_string(),
                        opt_percent(q.click_through),
                    ]);
                }
                let mut daily = Table::new(
                    "daily",
                    "Per day",
                    &[
                        "day",
                        "searches",
                        "zero_results",
                        "clicked",
                        "zero_result_rate",
                        "search_success",
                    ],
                );
                for d in &r.daily {
                    daily.row(vec![
                        d.day.clone(),
                        d.searches.to_string(),
                        d.zero_results.to_string(),
                        d.clicked.to_string(),
                        opt_percent(d.zero_result_rate),
                        opt_percent(d.search_success),
                    ]);
                }
                let mut refine = Table::new(
                    "refinements",
                    "Refinements (another search within 2 min)",
                    &["from", "to", "count", "ended_in_click"],
                );
                for p in &r.top_refinements {
                    refine.row(vec![
                        p.from.clone(),
                        p.to.clone(),
                        p.count.to_string(),
                        p.ended_in_click.to_string(),
                    ]);
                }
                let mut syn = Table::new(
                    "synonyms",
                    "Proposed synonyms (paste into synonyms.txt)",
                    &["line", "evidence"],
                );
                for s in &r.synonym_proposals {
                    syn.row(vec![s.line.clone(), s.evidence.to_string()]);
                }
                vec![top, daily, refine, syn]
            }
            Report::Deflection(r) => vec![
                funnel_table("daily", "Funnel per day", &r.daily),
                funnel_table("weekly", "Funnel per week", &r.weekly),
                funnel_table(
                    "total",
                    "Funnel over the period",
                    std::slice::from_ref(&r.total),
                ),
            ],
            Report::Helpfulness(r) => {
                let mut a = Table::new(
                    "articles",
                    "Helpfulness per article",
                    &[
                        "slug",
                        "title",
                        "yes",
                        "no",
                        "rate",
                        "previous_rate",
                        "change_points",
                        "reasons",
                        "flagged",
                    ],
                );
                for h in &r.articles {
                    a.row(vec![
                        h.slug.clone(),
                        h.title.clone().unwrap_or_default(),
                        h.yes.to_string(),
                        h.no.to_string(),
                        opt_percent(h.rate),
                        opt_percent(h.previous_rate),
                        h.change_points
                            .map_or_else(String::new, |c| format!("{c:+.1}")),
                        h.reasons
                            .iter()
                            .map(|(r, n)| format!("{r}: {n}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if h.flagged { "below 60 %" } else { "" }.to_string(),
                    ]);
                }
                let mut c = Table::new(
                    "comments",
                    "Latest comments",
                    &["time", "slug", "helpful", "reason", "comment"],
                );
                for x in &r.comments {
                    c.row(vec![
                        time(Some(x.at)),
                        x.slug.clone(),
                        if x.helpful { "yes" } else { "no" }.to_string(),
                        x.reason.clone().unwrap_or_default(),
                        x.comment.clone(),
                    ]);
                }
                vec![a, c]
            }
            Report::Freshness(r) => {
                let mut s = Table::new(
                    "stale",
                    "Stale articles (not reviewed in 180 days), most read first",
                    &[
                        "slug",
                        "title",
                        "owner",
                        "last_reviewed",
                        "days_since_review",
                        "traffic",
                        "last_changed",
                    ],
                );
                for a in &r.stale {
                    s.row(vec![
                        a.slug.clone(),
                        a.title.clone(),
                        a.owner.clone().unwrap_or_default(),
                        a.last_reviewed.to_string(),
                        a.days_since_review.to_string(),
                        a.traffic.to_string(),
                        a.last_changed.clone().unwrap_or_default(),
                    ]);
                }
                vec![s]
            }
            Report::Coverage(r) => {
                let mut t = Table::new(
                    "ticket_types",
                    "Ticket types and their articles",
                    &["ticket_type", "name", "covered", "articles", "tickets"],
                );
                for c in &r.ticket_types {
                    t.row(vec![
                        c.id.clone(),
                        c.name.clone(),
                        if c.covered { "yes" } else { "no" }.to_string(),
                        c.articles.join(" "),
                        c.tickets.to_string(),
                    ]);
                }
                let mut m = Table::new(
                    "most_filed",
                    "Ticket types customers file most",
                    &["ticket_type", "name", "tickets"],
                );
                for c in &r.most_filed {
                    m.row(vec![
                        if c.ticket_type.is_empty() {
                            "(none)".into()
                        } else {
                            c.ticket_type.clone()
                        },
                        c.name.clone().unwrap_or_default(),
                        c.tickets.to_string(),
                    ]);
                }
                vec![t, m]
            }
        }
    }

    /// Metrics and every table as plain text.
    pub fn to_text(&self) -> String {
        let p = self.period();
        let mut out = format!(
            "{} — {} to {}\n\n",
            self.name().title(),
            p.since.format("%Y-%m-%d %H:%M"),
            p.until.format("%Y-%m-%d %H:%M UTC")
        );
        for m in self.metrics() {
            out.push_str(&format!(
                "{:<22} {:>12}   target {}, warning {}   [{}]\n",
                m.name, m.display, m.target, m.warning, m.status
            ));
        }
        for t in self.tables() {
            out.push('\n');
            out.push_str(&t.to_text());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn chunks_are_whole_days_between_hours() {
        let far = at("2030-01-01T00:00:00Z");
        let keys = |a: &str, b: &str| -> Vec<String> {
            chunks(at(a), at(b), far)
                .into_iter()
                .map(|c| c.key)
                .collect()
        };
        assert_eq!(
            keys("2026-11-20T22:00:00Z", "2026-11-23T02:00:00Z"),
            [
                "2026-11-20T22",
                "2026-11-20T23",
                "2026-11-21",
                "2026-11-22",
                "2026-11-23T00",
                "2026-11-23T01"
            ]
        );
        // Less than a day: hours only, even across midnight.
        assert_eq!(
            keys("2026-11-20T23:00:00Z", "2026-11-21T01:00:00Z"),
            ["2026-11-20T23", "2026-11-21T00"]
        );
        assert!(keys("2026-11-20T23:00:00Z", "2026-11-20T23:00:00Z").is_empty());
        // The chunks tile the range: each starts where the one before ended.
        // Days that are not final yet stay hours.
        assert_eq!(
            chunks(
                at("2026-11-21T00:00:00Z"),
                at("2026-11-22T02:00:00Z"),
                at("2026-11-21T23:00:00Z")
            )
            .len(),
            26
        );
        let c = chunks(at("2026-11-01T05:00:00Z"), at("2026-11-09T17:00:00Z"), far);
        assert_eq!(c[0].since, at("2026-11-01T05:00:00Z"));
        assert!(c.windows(2).all(|w| w[0].until == w[1].since));
        assert_eq!(c.last().map(|c| c.until), Some(at("2026-11-09T17:00:00Z")));
        assert_eq!(
            hour_ceil(at("2026-11-01T05:00:01Z")),
            at("2026-11-01T06:00:00Z")
        );
        assert_eq!(
            hour_floor(at("2026-11-01T05:59:59Z")),
            at("2026-11-01T05:00:00Z")
        );
    }

    #[test]
    fn kept_chunks_are_final_or_recent() {
        let until = at("2026-11-22T10:00:00Z");
        let settle = Duration::hours(1);
        let now = at("2026-11-22T12:00:00Z");
        // Computed after it settled: read back for good.
        assert!(usable(Some(at("2026-11-22T11:00:00Z")), until, settle, now));
        assert!(usable(
            Some(at("2026-11-22T11:00:00Z")),
            until,
            settle,
            now + Duration::days(30)
        ));
        // Computed before it settled: only while recent.
        let early = at("2026-11-22T10:58:00Z");
        assert!(usable(
            Some(early),
            until,
            settle,
            early + Duration::minutes(4)
        ));
        assert!(!usable(Some(early), until, settle, early + REFRESH));
        assert!(!usable(None, until, settle, now));
    }

    #[test]
    fn periods() {
        let n = now();
        let ok = [
            ("7d", n - Duration::days(7)),
            ("24h", n - Duration::hours(24)),
            ("30d", n - Duration::days(30)),
            ("2w", n - Duration::days(14)),
            (
                "2026-11-01",
                NaiveDate::from_ymd_opt(2026, 11, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc())
                    .unwrap_or_default(),
            ),
        ];
        for (text, since) in ok {
            let p = Period::parse(text, n).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(p.since, since, "{text}");
            assert_eq!(p.until, n);
        }
        for bad in [
            "",
            "7",
            "d",
            "7y",
            "-3d",
            "0d",
            "2027-01-01",
            "seven days",
            "99999999d",
        ] {
            assert!(Period::parse(bad, n).is_err(), "{bad} should be refused");
        }
        let p = Period::parse("7d", n).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.previous().until, p.since);
        assert_eq!(p.previous().length(), p.length());
    }

    #[test]
    fn statuses_follow_targets_and_warnings() {
        let cases = [
            (SEARCH_SUCCESS, 0.65, Status::Ok),
            (SEARCH_SUCCESS, 0.50, Status::OffTarget),
            (SEARCH_SUCCESS, 0.39, Status::Warning),
            (ZERO_RESULT_RATE, 0.05, Status::Ok),
            (ZERO_RESULT_RATE, 0.15, Status::OffTarget),
            (ZERO_RESULT_RATE, 0.25, Status::Warning),
            (DEFLECTION_RATE, 0.35, Status::Ok),
            (DEFLECTION_RATE, 0.25, Status::OffTarget),
            (DEFLECTION_RATE, 0.10, Status::Warning),
            (TIME_TO_ANSWER, 60.0, Status::Ok),
            (TIME_TO_ANSWER, 200.0, Status::OffTarget),
            (TIME_TO_ANSWER, 400.0, Status::Warning),
            (REFINEMENT_RATE, 0.9, Status::NoTarget),
        ];
        for (def, v, want) in cases {
            assert_eq!(def.measure(Some(v)).status, want, "{} at {v}", def.key);
        }
        assert_eq!(HELPFULNESS.ratio(1, 0).status, Status::NoTarget);
        assert_eq!(HELPFULNESS.ratio(4, 5).display, "80.0 %");
        assert_eq!(duration(95.0), "1 min 35 s");
    }

    fn q(normalized: &str, corrected: Option<&str>, zero: i64, no_click: i64) -> QueryStats {
        QueryStats {
            normalized: normalized.into(),
            corrected_query: corrected.map(String::from),
            searches: zero + no_click + 1,
            zero_results: zero,
            clicked: 1,
            no_click,
            zero_results_last_week: zero,
            last_seen: now(),
            last_failed: Some(now()),
        }
    }

    #[test]
    fn typo_variants_cluster_together() {
        let stats = [
            q("reset password", None, 8, 0),
            q("reset pasword", Some("reset password"), 3, 0),
            q("resetting passwords", None, 1, 0),
            q("crypto wallet", None, 12, 0),
            q("crypto walet", None, 1, 0),
            q("card", None, 0, 2),
            q("cart", None, 0, 1),
            q("fine", None, 0, 0),
        ];
        let c = cluster_gaps(&stats);
        let summary: Vec<(&str, i64, bool)> = c
            .iter()
            .map(|g| (g.query.as_str(), g.zero_results, g.new_article_signal))
            .collect();
        assert_eq!(
            summary,
            [
                ("crypto wallet", 13, true),
                ("reset password", 12, true),
                ("card", 0, false),
                ("cart", 0, false),
            ],
            "short words are never merged by distance: {c:?}"
        );
        assert_eq!(
            c[1].variants,
            ["reset password", "reset pasword", "resetting passwords"]
        );
    }

    #[test]
    fn synonyms_skip_completions_and_typos() {
        let pair = |from: &str, to: &str| Refinement {
            from: from.into(),
            to: to.into(),
            count: 3,
            ended_in_click: 2,
        };
        let pairs = [
            pair("pas", "password"),
            pair("pasword", "password"),
            pair("cash machine", "atm"),
            pair("cash machine", "atm withdrawal"),
            pair("lost card", "lost cards"),
            Refinement {
                ended_in_click: 0,
                ..pair("iban", "account number")
            },
            pair("wire", "transfer"),
        ];
        let corrected = HashMap::from([("wire", "transfer")]);
        let lines: Vec<String> = propose_synonyms(&pairs, &corrected)
            .into_iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, ["cash machine => atm"]);
    }

    #[test]
    fn funnel_and_median_from_buckets() {
        let b = |day: &str, clicked, ticket, answer: Option<i64>, sessions| SessionBucket {
            day: day.into(),
            clicked,
            helpful: false,
            ticket,
            answer_secs: answer,
            sessions,
        };
        let buckets = [
            b("2026-11-16", true, false, Some(10), 3),
            b("2026-11-16", false, true, None, 1),
            b("2026-11-23", true, false, Some(300), 2),
        ];
        let (total, days, weeks) = funnels(&buckets);
        assert_eq!(
            (total.sessions, total.clicked, total.filed_ticket),
            (6, 5, 1)
        );
        assert_eq!(total.deflection_rate, Some(5.0 / 6.0));
        // Answers: 10,10,10,300,300 → median in the 10 s bucket.
        assert_eq!(total.median_time_to_answer_secs, Some(12.5));
        assert_eq!(days.len(), 2);
        assert_eq!(weeks[0].period, "2026-W47");
        assert_eq!(weeks[1].period, "2026-W48");
    }

    #[test]
    fn csv_has_a_header_and_quotes() {
        let mut t = Table::new("x", "X", &["query", "n"]);
        t.row(vec!["a, \"b\"".into(), "1".into()]);
        assert_eq!(
            t.to_csv().ok().as_deref(),
            Some("query,n\n\"a, \"\"b\"\"\",1\n")
        );
    }
}
