//! What learning reads from the store — searches with their clicks, votes and the tickets
//! after them, suggestion replies and their votes, contact-page deflections, agents' ticket
//! types, KB managers' rejections — plus the salt of the client hash and the rejections list.
//! The same SQL on SQLite and PostgreSQL, ordered, so replicas sharing a store read the same
//! traffic and train the same model.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::learning::signals::{
    AgentLabel, Deflection, Rejection, SearchTrail, SuggestionTrail, Traffic,
};

type At = DateTime<Utc>;

/// A ticket filed this long after a search counts as "the results did not answer".
const TICKET_WINDOW_HOURS: i64 = 24;

impl Store {
    /// The traffic since `since`, at most `limit` searches (the newest).
    pub async fn traffic(&self, since: At, limit: i64) -> Result<Traffic, StoreError> {
        const SEARCHES: &str = "SELECT id, session_id, client, query, top_slugs, created_at
             FROM searches WHERE created_at >= $1 AND query <> ''
             ORDER BY created_at DESC, id LIMIT $2";
        const CLICKS: &str = "SELECT search_id, slug, CAST(position AS BIGINT) FROM clicks
             WHERE created_at >= $1 ORDER BY created_at, search_id, slug";
        const VOTES: &str = "SELECT session_id, slug, helpful, search_id, created_at FROM votes
             WHERE created_at >= $1 ORDER BY created_at, session_id, slug";
        const TICKETS: &str = "SELECT session_id, created_at FROM tickets
             WHERE created_at >= $1 AND session_id IS NOT NULL ORDER BY created_at";
        const SUGGESTIONS: &str = "SELECT session_id, client, message, slug, created_at
             FROM suggestions WHERE created_at >= $1 AND slug IS NOT NULL
             ORDER BY created_at, id";
        const DEFLECTIONS: &str = "SELECT session_id, slug, query, created_at
             FROM contact_deflections WHERE created_at >= $1 ORDER BY created_at, session_id";
        // The latest ticket type an agent set on each ticket.
        const LABELS: &str =
            "SELECT t.id, t.session_id, t.subject, t.description, a.new_value, a.created_at
             FROM ticket_audit a JOIN tickets t ON t.id = a.ticket_id
             WHERE a.field = 'ticket_type' AND a.new_value IS NOT NULL AND a.created_at >= $1
             ORDER BY a.created_at, a.id";
        type SearchRow = (String, String, Option<String>, String, String, At);
        type VoteRow = (String, String, bool, Option<String>, At);
        type LabelRow = (String, Option<String>, String, String, String, At);
        let (searches, clicks, votes, tickets, suggestions, deflections, labels) =
            on_backend!(self, |pool| {
                let searches: Vec<SearchRow> = sqlx::query_as(SEARCHES)
                    .bind(since)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                let clicks: Vec<(String, String, Option<i64>)> =
                    sqlx::query_as(CLICKS).bind(since).fetch_all(pool).await?;
                let votes: Vec<VoteRow> = sqlx::query_as(VOTES).bind(since).fetch_all(pool).await?;
                let tickets: Vec<(String, At)> =
                    sqlx::query_as(TICKETS).bind(since).fetch_all(pool).await?;
                let suggestions: Vec<(String, Option<String>, String, String, At)> =
                    sqlx::query_as(SUGGESTIONS)
                        .bind(since)
                        .fetch_all(pool)
                        .await?;
                let deflections: Vec<(String, String, String, At)> = sqlx::query_as(DEFLECTIONS)
                    .bind(since)
                    .fetch_all(pool)
                    .await?;
                let labels: Vec<LabelRow> =
                    sqlx::query_as(LABELS).bind(since).fetch_all(pool).await?;
                (
                    searches,
                    clicks,
                    votes,
                    tickets,
                    suggestions,
                    deflections,
                    labels,
                )
            });

        let mut clicks_of: HashMap<String, Vec<(String, Option<i64>)>> = HashMap::new();
        for (search_id, slug, position) in clicks {
            clicks_of
                .entry(search_id)
                .or_default()
                .push((slug, position));
        }
        let mut votes_of_search: HashMap<String, Vec<(String, bool)>> = HashMap::new();
        // Votes with no search: matched to a suggestion of the same session and article.
        let mut votes_of_session: HashMap<(String, String), bool> = HashMap::new();
        for (session, slug, helpful, search_id, _) in votes {
            match search_id {
                Some(id) => votes_of_search.entry(id).or_default().push((slug, helpful)),
                None => {
                    votes_of_session.insert((session, slug), helpful);
                }
            }
        }
        let mut tickets_of: HashMap<String, Vec<At>> = HashMap::new();
        for (session, at) in tickets {
            tickets_of.entry(session).or_default().push(at);
        }
        let mut client_of: HashMap<String, String> = HashMap::new();
        let mut queries_of: HashMap<String, Vec<(At, String)>> = HashMap::new();
        let mut out = Traffic::default();
        for (id, session_id, client, query, top_slugs, at) in searches.into_iter().rev() {
            if let Some(c) = &client {
                client_of.insert(session_id.clone(), c.clone());
            }
            queries_of
                .entry(session_id.clone())
                .or_default()
                .push((at, query.clone()));
            let ticket_after = tickets_of.get(&session_id).is_some_and(|ts| {
                ts.iter()
                    .any(|t| *t >= at && *t - at <= chrono::Duration::hours(TICKET_WINDOW_HOURS))
            });
            out.searches.push(SearchTrail {
                clicks: clicks_of.remove(&id).unwrap_or_default(),
                votes: votes_of_search.remove(&id).unwrap_or_default(),
                shown: top_slugs.split_whitespace().map(String::from).collect(),
                session_id,
                client,
                query,
                ticket_after,
                at,
            });
        }
        for (session_id, client, message, slug, at) in suggestions {
            let vote = votes_of_session
                .get(&(session_id.clone(), slug.clone()))
                .copied();
            if vote.is_some() {
                out.suggestions.push(SuggestionTrail {
                    session_id,
                    client,
                    message,
                    slug: Some(slug),
                    vote,
                    at,
                });
            }
        }
        for (session_id, slug, query, at) in deflections {
            out.deflections.push(Deflection {
                client: client_of.get(&session_id).cloned(),
                session_id,
                query,
                slug,
                at,
            });
        }
        // The latest label per ticket wins.
        let mut latest: HashMap<String, usize> = HashMap::new();
        for (ticket_id, session_id, subject, description, ticket_type, at) in labels {
            let queries = session_id
                .as_ref()
                .and_then(|s| queries_of.get(s))
                .map(|qs| {
                    qs.iter()
                        .filter(|(t, _)| *t <= at)
                        .map(|(_, q)| q.clone())
                        .collect()
                })
                .unwrap_or_default();
            let label = AgentLabel {
                ticket_id: ticket_id.clone(),
                text: format!("{subject}\n{description}"),
                ticket_type,
                queries,
                at,
            };
            match latest.get(&ticket_id) {
                Some(&i) => out.labels[i] = label,
                None => {
                    latest.insert(ticket_id, out.labels.len());
                    out.labels.push(label);
                }
            }
        }
        out.rejections = self.rejections().await?;
        Ok(out)
    }

    /// Wordings KB managers rejected, per article.
    pub async fn rejections(&self) -> Result<Vec<Rejection>, StoreError> {
        const SQL: &str = "SELECT slug, phrase FROM learning_rejections ORDER BY slug, phrase";
        let rows: Vec<(String, String)> =
            on_backend!(self, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(slug, phrase)| Rejection { slug, phrase })
            .collect())
    }

    /// Rejects a wording for an article (again is a no-op).
    pub async fn reject(&self, slug: &str, phrase: &str) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO learning_rejections (slug, phrase, created_at)
             VALUES ($1, $2, $3) ON CONFLICT (slug, phrase) DO NOTHING";
        on_backend!(self, |pool| {
            sqlx::query(SQL)
                .bind(slug)
                .bind(phrase)
                .bind(Utc::now())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The salt of the client hash, shared by every replica of this store (made once).
    pub async fn client_salt(&self) -> Result<String, StoreError> {
        const INSERT: &str = "INSERT INTO learning_state (key, value) VALUES ('client_salt', $1)
             ON CONFLICT (key) DO NOTHING";
        const SELECT: &str = "SELECT value FROM learning_state WHERE key = 'client_salt'";
        let fresh = uuid::Uuid::new_v4().simple().to_string();
        let (salt,): (String,) = on_backend!(self, |pool| {
            sqlx::query(INSERT).bind(&fresh).execute(pool).await?;
            sqlx::query_as(SELECT).fetch_one(pool).await?
        });
        Ok(salt)
    }

    /// How many events learning could read that arrived after `since` (retrain-after-N).
    pub async fn events_since(&self, since: At) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT (SELECT COUNT(*) FROM clicks WHERE created_at > $1)
             + (SELECT COUNT(*) FROM votes WHERE created_at > $1)
             + (SELECT COUNT(*) FROM contact_deflections WHERE created_at > $1)
             + (SELECT COUNT(*) FROM ticket_audit WHERE field = 'ticket_type' AND created_at > $1)";
        let (n,): (i64,) = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .fetch_one(pool)
            .await?);
        Ok(n)
    }
}

/// Searches with and without learning, side by side (the A/B split by session).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct LearningGroup {
    /// `true`: answered with learning; `false`: the control group (or `learned=false`).
    pub learned: bool,
    pub searches: i64,
    /// Searches followed by a result click.
    pub clicked: i64,
    pub sessions: i64,
    /// Sessions with no ticket (deflected) among those.
    pub deflected_sessions: i64,
    pub helpful_votes: i64,
    pub votes: i64,
}

impl Store {
    /// Click-through, deflection and helpful votes of searches served with and without
    /// learning since `since`.
    pub async fn learning_ab(&self, since: At) -> Result<Vec<LearningGroup>, StoreError> {
        const SQL: &str = "SELECT s.learned,
                COUNT(*),
                COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id)
                    THEN s.id END),
                COUNT(DISTINCT s.session_id),
                COUNT(DISTINCT CASE WHEN NOT EXISTS (SELECT 1 FROM tickets t
                    WHERE t.session_id = s.session_id AND t.created_at >= s.created_at)
                    THEN s.session_id END),
                (SELECT COUNT(*) FROM votes v JOIN searches s2 ON s2.id = v.search_id
                    WHERE s2.learned = s.learned AND s2.created_at >= $1 AND v.helpful),
                (SELECT COUNT(*) FROM votes v JOIN searches s2 ON s2.id = v.search_id
                    WHERE s2.learned = s.learned AND s2.created_at >= $1)
             FROM searches s WHERE s.created_at >= $1 AND s.learned IS NOT NULL
             GROUP BY s.learned ORDER BY s.learned DESC";
        type Row = (bool, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(
                |(
                    learned,
                    searches,
                    clicked,
                    sessions,
                    deflected_sessions,
                    helpful_votes,
                    votes,
                )| {
                    LearningGroup {
                        learned,
                        searches,
                        clicked,
                        sessions,
                        deflected_sessions,
                        helpful_votes,
                        votes,
                    }
                },
            )
            .collect())
    }
}
