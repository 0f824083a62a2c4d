//! The learned models a help center serves with: `[learning]` settings, training both models
//! (wording → article, wording → ticket type) from the store's traffic, the A/B split, and the
//! live pair swapped atomically like the index.

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::signals::{Traffic, examples};
use super::{Model, TrainConfig};
use crate::content::KnowledgeBase;

/// `[learning]` in deflect.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// Use what traffic taught (search, autocomplete, suggest, triage). Off: answers as if
    /// nothing were learned; evidence is still recorded.
    pub enabled: bool,
    /// Evidence loses half its weight every this many days.
    pub half_life_days: f64,
    /// Distinct clients needed before an article (or ticket type) is learned at all.
    pub min_support: u32,
    /// The most weight one client gives one article, and gives in all.
    pub per_client_cap: f32,
    /// Share of sessions (0..1) served without learning, for the A/B report.
    pub ab_control_share: f64,
    /// Retrain at least this often, in minutes (0: only on demand and after events).
    pub retrain_minutes: u64,
    /// Retrain after this many new clicks, votes and labels (0: never for that reason).
    pub retrain_after_events: u64,
    /// Read at most this many days of traffic (older evidence has decayed anyway).
    pub history_days: u32,
}

impl Default for LearningConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            half_life_days: 60.0,
            min_support: 3,
            per_client_cap: 3.0,
            ab_control_share: 0.1,
            retrain_minutes: 60,
            retrain_after_events: 2_000,
            history_days: 365,
        }
    }
}

/// What one training produced.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    pub articles: Model,
    pub ticket_types: Model,
    pub stats: LearnedStats,
}

/// What the admin API reports about the live models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LearnedStats {
    /// Examples that counted, for articles and ticket types together.
    pub examples: usize,
    /// Distinct sessions behind them.
    pub sessions: usize,
    /// Articles the model can point to.
    pub articles: usize,
    /// Ticket types the triage model knows.
    pub ticket_types: usize,
    /// Distinct clients behind the article model.
    pub clients: usize,
    pub took_ms: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub trained_at: Option<DateTime<Utc>>,
}

impl Learned {
    /// Nothing learned: every answer is the engine's alone.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.articles.is_empty() && self.ticket_types.is_empty()
    }
}

/// Trains both models from `traffic`, judged against today's knowledge base (evidence for a
/// deleted article is dropped; an agent's ticket type counts for the articles answering it now).
pub fn train(
    traffic: &Traffic,
    kb: &KnowledgeBase,
    cfg: &LearningConfig,
    now: DateTime<Utc>,
) -> Learned {
    let started = std::time::Instant::now();
    let ex = examples(traffic, &super::signals::Articles::of(kb));
    let train_cfg = TrainConfig {
        half_life_days: cfg.half_life_days,
        min_support: cfg.min_support,
        per_client_cap: cfg.per_client_cap,
        now,
        ..TrainConfig::default()
    };
    let articles = Model::train(&ex.articles, &train_cfg);
    // Agents' labels are trusted: one labelled ticket is enough support for a ticket type
    // (each is its own client, so the per-client caps hold for traffic alone).
    let ticket_types = Model::train(
        &ex.ticket_types,
        &TrainConfig {
            min_support: 1,
            ..train_cfg
        },
    );
    let sessions: std::collections::HashSet<&str> = ex
        .articles
        .iter()
        .chain(&ex.ticket_types)
        .map(|e| e.session.as_str())
        .collect();
    let stats = LearnedStats {
        examples: articles.stats().examples + ticket_types.stats().examples,
        sessions: sessions.len(),
        articles: articles.stats().labels,
        ticket_types: ticket_types.stats().labels,
        clients: articles.stats().clients,
        took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        trained_at: Some(now),
    };
    Learned {
        articles,
        ticket_types,
        stats,
    }
}

/// Whether a session is in the A/B control group (served without learning): a stable hash of
/// the session id against the configured share, so a visitor stays in one group.
pub fn in_control_group(session_id: &str, share: f64) -> bool {
    if share <= 0.0 || session_id.is_empty() {
        return false;
    }
    // FNV-1a: stable across versions and platforms, unlike the std hasher.
    let h = session_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h % 10_000) as f64 / 10_000.0 < share
}

/// The live models: read per request, replaced whole after a training.
#[derive(Debug)]
pub struct LiveLearning(ArcSwap<Learned>);

impl Default for LiveLearning {
    fn default() -> Self {
        Self(ArcSwap::from_pointee(Learned::empty()))
    }
}

impl LiveLearning {
    pub fn get(&self) -> Arc<Learned> {
        self.0.load_full()
    }

    pub fn set(&self, learned: Learned) {
        self.0.store(Arc::new(learned));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_group_is_stable_and_about_its_share() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("session-{i}")).collect();
        let control = ids.iter().filter(|s| in_control_group(s, 0.2)).count();
        assert!((1_700..2_300).contains(&control), "{control}");
        assert!(
            ids.iter()
                .all(|s| in_control_group(s, 0.2) == in_control_group(s, 0.2))
        );
        assert!(!ids.iter().any(|s| in_control_group(s, 0.0)));
    }
}
