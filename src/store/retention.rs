//! Whether events are recorded and how long they are kept: the `[analytics]` settings and the
//! purge job that deletes events older than the retention period (tickets are kept: they
//! are the support team's records, not analytics).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// The `[analytics]` table of deflect.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// Record searches, clicks, article views and suggestion replies. Votes are customer
    /// feedback and are always stored.
    pub record: bool,
    /// Delete events and votes older than this many days; 0 keeps them forever.
    pub retention_days: u32,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        Self {
            record: true,
            retention_days: 180,
        }
    }
}

impl AnalyticsConfig {
    /// Applies the settings one source gives.
    pub fn apply(&mut self, layer: AnalyticsLayer) {
        if let Some(v) = layer.record {
            self.record = v;
        }
        if let Some(v) = layer.retention_days {
            self.retention_days = v;
        }
    }

    /// Where the purge cuts at `now`, if anything is ever purged.
    pub fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.retention_days > 0)
            .then(|| now - chrono::Duration::days(i64::from(self.retention_days)))
    }
}

/// `[analytics]` as one source (file, environment) gives it: unset keys keep the lower layer's.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsLayer {
    pub record: Option<bool>,
    pub retention_days: Option<u32>,
}

impl AnalyticsLayer {
    /// `DEFLECT_ANALYTICS_RECORD`, `DEFLECT_ANALYTICS_RETENTION_DAYS`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        use anyhow::Context;
        let record = get("DEFLECT_ANALYTICS_RECORD")
            .map(|v| match v.as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => anyhow::bail!(
                    "DEFLECT_ANALYTICS_RECORD={v} is not a boolean — use true or false"
                ),
            })
            .transpose()?;
        let retention_days = get("DEFLECT_ANALYTICS_RETENTION_DAYS")
            .map(|v| {
                v.parse().with_context(|| {
                    format!("DEFLECT_ANALYTICS_RETENTION_DAYS={v} is not a number of days")
                })
            })
            .transpose()?;
        Ok(Self {
            record,
            retention_days,
        })
    }
}

/// Rows deleted by one purge, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub searches: u64,
    pub clicks: u64,
    pub article_views: u64,
    pub suggestions: u64,
    pub votes: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.searches + self.clicks + self.article_views + self.suggestions + self.votes
    }
}

/// How often the purge runs (and once at start).
const EVERY: Duration = Duration::from_secs(60 * 60);

impl Store {
    /// Deletes searches, clicks, article views, suggestion replies and votes created before
    /// `cutoff`, in one transaction. Tickets are kept.
    pub async fn purge_older_than(&self, cutoff: DateTime<Utc>) -> Result<Purged, StoreError> {
        const TABLES: [&str; 5] = [
            "searches",
            "clicks",
            "article_views",
            "suggestions",
            "votes",
        ];
        let mut counts = [0u64; 5];
        on_backend!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (table, n) in TABLES.iter().zip(counts.iter_mut()) {
                *n = sqlx::query(&format!("DELETE FROM {table} WHERE created_at < $1"))
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        });
        let [searches, clicks, article_views, suggestions, votes] = counts;
        Ok(Purged {
            searches,
            clicks,
            article_views,
            suggestions,
            votes,
        })
    }
}

/// Purges at start and then every hour, until the task is aborted.
pub async fn purge_job(store: Store, config: AnalyticsConfig) {
    if config.retention_days == 0 {
        return;
    }
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(cutoff) = config.cutoff(Utc::now()) else {
            return;
        };
        match store.purge_older_than(cutoff).await {
            Ok(p) if p.total() > 0 => tracing::info!(
                ?p,
                days = config.retention_days,
                "purged events past retention"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("purging old events failed (retrying in an hour): {e}"),
        }
    }
}
