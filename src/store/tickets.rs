//! Tickets in the store: creation (with its audit entry and webhook outbox row in one
//! transaction), the queue, updates with an audit log, the session's self-service trail,
//! the durable webhook outbox, and the new-article signals tickets give the content team.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Store, StoreError};
use crate::triage::TicketStatus;

/// A fallback ticket as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: String,
    pub session_id: Option<String>,
    pub email: String,
    pub email_domain: String,
    pub subject: String,
    pub description: String,
    pub customer_tier: String,
    /// The ticket type, if triage found one (column and JSON field `category`, kept for
    /// compatibility).
    #[serde(rename = "category")]
    #[sqlx(rename = "category")]
    pub ticket_type: Option<String>,
    /// The share of the articles' vote the ticket type got (JSON `category_confidence`).
    #[serde(rename = "category_confidence")]
    #[sqlx(rename = "category_confidence")]
    pub ticket_type_confidence: f64,
    /// "P1".."P5".
    pub priority: String,
    pub priority_reason: String,
    /// "L1".."L3".
    pub routing_tier: String,
    #[sqlx(try_from = "String")]
    pub status: TicketStatus,
    pub assignee: Option<String>,
    pub at_risk: bool,
    /// "api" or "form".
    pub source: String,
    pub sla_started_at: DateTime<Utc>,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub paused_secs: i64,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a ticket's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub actor: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Which tickets the queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub routing_tier: Option<String>,
    pub ticket_type: Option<String>,
    /// Only open tickets (not resolved or closed).
    pub open_only: bool,
    pub limit: i64,
}

/// One step of what the customer tried before filing, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrailEntry {
    pub at: DateTime<Utc>,
    /// search, click, view, vote, suggestion, deflected
    pub kind: &'static str,
    /// The query or message as typed, or the article slug.
    pub text: String,
    pub slug: Option<String>,
    /// e.g. "0 results", "helpful", "not helpful: outdated", "handoff".
    pub detail: String,
}

/// A pending webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: String,
    pub ticket_id: String,
    pub event: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
}

const TICKET_COLUMNS: &str =
    "id, session_id, email, email_domain, subject, description, customer_tier, category,
    category_confidence, priority, priority_reason, routing_tier, status, assignee, at_risk, source,
    sla_started_at, first_response_minutes, resolution_minutes, first_response_due, resolution_due,
    first_responded_at, paused_at, paused_secs, resolved_at, created_at, updated_at";

const LIST_LIMIT: i64 = 200;
const TRAIL_LIMIT: i64 = 200;

macro_rules! bind_ticket {
    ($q:expr, $t:expr) => {
        $q.bind(&$t.id)
            .bind(&$t.session_id)
            .bind(&$t.email)
            .bind(&$t.email_domain)
            .bind(&$t.subject)
            .bind(&$t.description)
            .bind(&$t.customer_tier)
            .bind(&$t.ticket_type)
            .bind($t.ticket_type_confidence)
            .bind(&$t.priority)
            .bind(&$t.priority_reason)
            .bind(&$t.routing_tier)
            .bind($t.status.as_str())
            .bind(&$t.assignee)
            .bind($t.at_risk)
            .bind(&$t.source)
            .bind($t.sla_started_at)
            .bind($t.first_response_minutes)
            .bind($t.resolution_minutes)
            .bind($t.first_response_due)
            .bind($t.resolution_due)
            .bind($t.first_responded_at)
            .bind($t.paused_at)
            .bind($t.paused_secs)
            .bind($t.resolved_at)
            .bind($t.created_at)
            .bind($t.updated_at)
    };
}

const INSERT_AUDIT: &str =
    "INSERT INTO ticket_audit (ticket_id, actor, field, old_value, new_value, note, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

impl Store {
    /// Stores a new ticket, its first audit entry and (with a webhook) its outbox row in one
    /// transaction: when this returns `Ok`, all of them are committed.
    pub async fn create_ticket(
        &self,
        t: &Ticket,
        created: &AuditEntry,
        delivery: Option<&Delivery>,
    ) -> Result<(), StoreError> {
        let insert = format!(
            "INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
        );
        const OUTBOX: &str = "INSERT INTO webhook_outbox (id, ticket_id, event, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)";
        on_backend!(self, |pool| {
            let mut tx = pool.begin().await?;
            bind_ticket!(sqlx::query(&insert), t)
                .execute(&mut *tx)
                .await?;
            audit_query(&t.id, created).execute(&mut *tx).await?;
            if let Some(d) = delivery {
                sqlx::query(OUTBOX)
                    .bind(&d.id)
                    .bind(&d.ticket_id)
                    .bind(&d.event)
                    .bind(d.attempts)
                    .bind(d.next_attempt_at)
                    .bind(t.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1");
        Ok(on_backend!(self, |pool| sqlx::query_as::<_, Ticket>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Tickets matching the filter, newest first (the queue sorts by urgency itself).
    pub async fn tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>, StoreError> {
        let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE 1 = 1");
        let mut binds: Vec<&str> = Vec::new();
        for (column, value) in [
            ("status", &f.status),
            ("priority", &f.priority),
            ("routing_tier", &f.routing_tier),
            ("category", &f.ticket_type),
        ] {
            if let Some(v) = value {
                binds.push(v);
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        }
        if f.open_only {
            sql.push_str(" AND status NOT IN ('resolved', 'closed')");
        }
        let limit = if f.limit <= 0 { LIST_LIMIT } else { f.limit };
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id LIMIT ${}",
            binds.len() + 1
        ));
        Ok(on_backend!(self, |pool| {
            let mut q = sqlx::query_as::<_, Ticket>(&sql);
            for b in &binds {
                q = q.bind(*b);
            }
            q.bind(limit).fetch_all(pool).await?
        }))
    }

    /// Writes a changed ticket and the audit entries saying what changed, in one transaction.
    /// Fails with `Ok(false)` when the ticket changed since `expected_updated_at` was read.
    pub async fn update_ticket(
        &self,
        t: &Ticket,
        expected_updated_at: DateTime<Utc>,
        changes: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE tickets SET priority = $2, priority_reason = $3, status = $4,
                assignee = $5, sla_started_at = $6, first_response_minutes = $7,
                resolution_minutes = $8, first_response_due = $9, resolution_due = $10,
                first_responded_at = $11, paused_at = $12, paused_secs = $13, resolved_at = $14,
                updated_at = $15
             WHERE id = $1 AND updated_at = $16";
        on_backend!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(SQL)
                .bind(&t.id)
                .bind(&t.priority)
                .bind(&t.priority_reason)
                .bind(t.status.as_str())
                .bind(&t.assignee)
                .bind(t.sla_started_at)
                .bind(t.first_response_minutes)
                .bind(t.resolution_minutes)
                .bind(t.first_response_due)
                .bind(t.resolution_due)
                .bind(t.first_responded_at)
                .bind(t.paused_at)
                .bind(t.paused_secs)
                .bind(t.resolved_at)
                .bind(t.updated_at)
                .bind(expected_updated_at)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            for c in changes {
                audit_query(&t.id, c).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(true)
    }

    /// A ticket's audit log, oldest first.
    pub async fn audit_log(&self, ticket_id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        const SQL: &str = "SELECT actor, field, old_value, new_value, note, created_at
             FROM ticket_audit WHERE ticket_id = $1 ORDER BY id";
        Ok(on_backend!(self, |pool| sqlx::query_as::<_, AuditEntry>(
            SQL
        )
        .bind(ticket_id)
        .fetch_all(pool)
        .await?))
    }

    /// P1 and P2 tickets from an email domain since a time (for the at-risk flag).
    pub async fn urgent_tickets_from(
        &self,
        email_domain: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM tickets WHERE email_domain = $1
             AND created_at >= $2 AND priority IN ('P1', 'P2')";
        let (n,): (i64,) = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(email_domain)
            .bind(since)
            .fetch_one(pool)
            .await?);
        Ok(n)
    }

    /// What a session tried before filing: searches, clicks, article views, votes, suggestion
    /// replies and contact-page deflections, oldest first.
    pub async fn trail(&self, session_id: &str) -> Result<Vec<TrailEntry>, StoreError> {
        type At = DateTime<Utc>;
        const SEARCHES: &str =
            "SELECT query, CAST(result_count AS BIGINT), created_at FROM searches
             WHERE session_id = $1 ORDER BY created_at LIMIT $2";
        const CLICKS: &str = "SELECT slug, created_at FROM clicks
             WHERE session_id = $1 ORDER BY created_at LIMIT $2";
        const VIEWS: &str = "SELECT slug, created_at FROM article_views
             WHERE session_id = $1 ORDER BY created_at LIMIT $2";
        const VOTES: &str = "SELECT slug, helpful, reason, comment, created_at FROM votes
             WHERE session_id = $1 ORDER BY created_at LIMIT $2";
        const SUGGESTIONS: &str = "SELECT message, action, slug, created_at FROM suggestions
             WHERE session_id = $1 ORDER BY created_at LIMIT $2";
        const DEFLECTIONS: &str = "SELECT slug, query, created_at FROM contact_deflections
             WHERE session_id = $1 ORDER BY created_at LIMIT $2";
        let mut out = Vec::new();
        if session_id.is_empty() {
            return Ok(out);
        }
        on_backend!(self, |pool| {
            let rows: Vec<(String, i64, At)> = sqlx::query_as(SEARCHES)
                .bind(session_id)
                .bind(TRAIL_LIMIT)
                .fetch_all(pool)
                .await?;
            out.extend(rows.into_iter().map(|(q, n, at)| TrailEntry {
                at,
                kind: "search",
                text: q,
                slug: None,
                detail: format!("{n} result{}", if n == 1 { "" } else { "s" }),
            }));
            let rows: Vec<(String, At)> = sqlx::query_as(CLICKS)
                .bind(session_id)
                .bind(TRAIL_LIMIT)
                .fetch_all(pool)
                .await?;
            out.extend(rows.into_iter().map(|(slug, at)| TrailEntry {
                at,
                kind: "click",
                text: slug.clone(),
                slug: Some(slug),
                detail: "opened a search result".into(),
            }));
            let rows: Vec<(String, At)> = sqlx::query_as(VIEWS)
                .bind(session_id)
                .bind(TRAIL_LIMIT)
                .fetch_all(pool)
                .await?;
            out.extend(rows.into_iter().map(|(slug, at)| TrailEntry {
                at,
                kind: "view",
                text: slug.clone(),
                slug: Some(slug),
                detail: "read the article".into(),
            }));
            type VoteRow = (String, bool, Option<String>, Option<String>, At);
            let rows: Vec<VoteRow> = sqlx::query_as(VOTES)
                .bind(session_id)
                .bind(TRAIL_LIMIT)
                .fetch_all(pool)
                .await?;
            out.extend(
                rows.into_iter()
                    .map(|(slug, helpful, reason, comment, at)| TrailEntry {
                        at,
                        kind: "vote",
                        text: slug.clone(),
                        slug: Some(slug),
                        detail: match (helpful, reason, comment) {
                            (true, _, _) => "helpful".into(),
                            (false, r, c) => format!(
                                "not helpful{}{}",
                                r.map(|r| format!(": {r}")).unwrap_or_default(),
                                c.map(|c| format!(" — {c}")).unwrap_or_default()
                            ),
                        },
                    }),
            );
            let rows: Vec<(String, String, Option<String>, At)> = sqlx::query_as(SUGGESTIONS)
                .bind(session_id)
                .bind(TRAIL_LIMIT)
                .fetch_all(pool)
                .await?;
            out.extend(
                rows.into_iter()
                    .map(|(message, action, slug, at)| TrailEntry {
                        at,
                        kind: "suggestion",
                        text: message,
                        slug,
                        detail: action,
                    }),
            );
            let rows: Vec<(String, String, At)> = sqlx::query_as(DEFLECTIONS)
                .bind(session_id)
                .bind(TRAIL_LIMIT)
                .fetch_all(pool)
                .await?;
            out.extend(rows.into_iter().map(|(slug, query, at)| TrailEntry {
                at,
                kind: "deflected",
                text: query,
                slug: Some(slug),
                detail: "this answered my question".into(),
            }));
        });
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    /// "This answered my question" on the contact page.
    pub async fn record_contact_deflection(
        &self,
        session_id: &str,
        slug: &str,
        query: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO contact_deflections (session_id, slug, query, created_at) VALUES ($1, $2, $3, $4)";
        on_backend!(self, |pool| {
            sqlx::query(SQL)
                .bind(session_id)
                .bind(slug)
                .bind(query)
                .bind(at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deliveries due now, oldest first.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        const SQL: &str = "SELECT id, ticket_id, event, attempts, next_attempt_at FROM webhook_outbox
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2";
        Ok(on_backend!(self, |pool| sqlx::query_as::<_, Delivery>(SQL)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// When the next pending delivery is due, if any.
    pub async fn next_delivery_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        const SQL: &str =
            "SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE delivered_at IS NULL";
        let (t,): (Option<DateTime<Utc>>,) =
            on_backend!(self, |pool| sqlx::query_as(SQL).fetch_one(pool).await?);
        Ok(t)
    }

    /// Takes a due delivery for one attempt: pushes its next attempt to `lease_until` so no
    /// other replica (or loop) sends it meanwhile. `false` if someone else took it.
    pub async fn claim_delivery(
        &self,
        d: &Delivery,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE webhook_outbox SET next_attempt_at = $3, attempts = attempts + 1
             WHERE id = $1 AND delivered_at IS NULL AND next_attempt_at = $2";
        let n = on_backend!(self, |pool| sqlx::query(SQL)
            .bind(&d.id)
            .bind(d.next_attempt_at)
            .bind(lease_until)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    pub async fn mark_delivered(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE webhook_outbox SET delivered_at = $2, last_error = NULL WHERE id = $1";
        on_backend!(self, |pool| {
            sqlx::query(SQL).bind(id).bind(at).execute(pool).await?;
        });
        Ok(())
    }

    pub async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE webhook_outbox SET last_error = $2, next_attempt_at = $3 WHERE id = $1";
        on_backend!(self, |pool| {
            sqlx::query(SQL)
                .bind(id)
                .bind(error)
                .bind(next_attempt_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deliveries not yet delivered.
    pub async fn pending_deliveries(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM webhook_outbox WHERE delivered_at IS NULL";
        let (n,): (i64,) = on_backend!(self, |pool| sqlx::query_as(SQL).fetch_one(pool).await?);
        Ok(n)
    }
}

fn audit_query<'q, DB: sqlx::Database>(
    ticket_id: &'q str,
    e: &'q AuditEntry,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query::<DB>(INSERT_AUDIT)
        .bind(ticket_id)
        .bind(&e.actor)
        .bind(&e.field)
        .bind(e.old_value.clone())
        .bind(e.new_value.clone())
        .bind(e.note.clone())
        .bind(e.created_at)
}
