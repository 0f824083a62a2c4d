//! The gaps report: failing searches clustered by typo distance, busy ticket types, and where
//! a new article is needed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::*;

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
pub(super) fn stems(stemmer: &rust_stemmers::Stemmer, text: &str) -> String {
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
    let allowed = crate::search::vocabulary::typos_allowed(shortest) as usize;
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

pub(super) async fn build(inputs: Inputs<'_>, period: Period) -> Result<GapsReport, ReportError> {
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

impl GapsReport {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
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
        for g in &self.clusters {
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
        for t in &self.busy_ticket_types {
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
        for q in &self.zero_result_queries_before_tickets {
            before.row(vec![q.query.clone(), q.tickets.to_string()]);
        }
        vec![c, busy, before]
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_time::now;
    use super::*;

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
}
