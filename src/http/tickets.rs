//! Fallback tickets over HTTP: `POST /api/v1/tickets` (triaged on creation, `201` only after
//! the commit), the agents' queue and updates (admin API and pages), and CSV/JSON export.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use utoipa::ToSchema;

use super::admin::{Admin, AdminPage};
use super::feedback::{ApiJson, SESSION_COOKIE, cookie};
pub use super::limits::ClientIp;
use super::limits::RateLimiter;
use super::{ApiError, AppState};
use crate::content::Priority;
use crate::store::tickets::{AuditEntry, Delivery, Ticket, TicketFilter, TrailEntry};
use crate::triage::{SlaClock, SlaTarget, TicketStatus, TriageConfig, WarningLevel};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
const MAX_ASSIGNEE_CHARS: usize = 100;
const MAX_NOTE_CHARS: usize = 1000;
const LIMIT_WINDOW: Duration = Duration::from_secs(600);
const LIMIT_KEYS: usize = 100_000;

/// What the ticket routes share: the spam guard's limiters and the outbox's wake-up call.
#[derive(Debug)]
pub struct Desk {
    per_session: RateLimiter,
    per_ip: RateLimiter,
    /// Woken when a ticket (and so an outbox row) was committed.
    pub outbox: Arc<Notify>,
}

impl Desk {
    pub fn new(config: &TriageConfig) -> Self {
        Self {
            per_session: RateLimiter::per_window(
                config.tickets_per_session,
                LIMIT_WINDOW,
                LIMIT_KEYS,
            ),
            per_ip: RateLimiter::per_window(config.tickets_per_ip, LIMIT_WINDOW, LIMIT_KEYS),
            outbox: Arc::new(Notify::new()),
        }
    }
}

/// `POST /api/v1/tickets`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    pub email: String,
    pub subject: String,
    pub description: String,
    /// enterprise, business, professional, starter or free (as configured).
    pub customer_tier: Option<String>,
    pub session_id: Option<String>,
    /// Leave empty: a field only bots fill in.
    #[serde(default)]
    pub website: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlaDue {
    #[schema(value_type = String, format = DateTime)]
    pub first_response_due: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub resolution_due: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    pub id: String,
    pub status: TicketStatus,
    pub priority: String,
    pub category: Option<String>,
    /// Routing tier L1..L3.
    pub tier: String,
    pub sla: SlaDue,
    pub category_confidence: f64,
    pub customer_tier: String,
    pub at_risk: bool,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        field,
        message: message.into(),
    }
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid(field, format!("{field} is required")));
    }
    if v.chars().count() > max {
        return Err(invalid(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(v.to_string())
}

/// A plausible address: one `@`, a dotted domain, no spaces. Returns (email, lower-case domain).
fn check_email(v: &str) -> Result<(String, String), ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid("email", "email is required"));
    }
    let ok = v.chars().count() <= MAX_EMAIL_CHARS
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        return Err(invalid(
            "email",
            "email must be an address like name@example.com",
        ));
    }
    let domain = v.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase();
    Ok((v.to_string(), domain))
}

/// A checked ticket request.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub email: String,
    pub email_domain: String,
    pub subject: String,
    pub description: String,
    pub customer_tier: String,
    pub session_id: Option<String>,
}

/// Checks every field; the error names the first bad one.
pub fn check(req: &TicketRequest, config: &TriageConfig) -> Result<NewTicket, ApiError> {
    if req.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        return Err(invalid("website", "leave this field empty"));
    }
    let (email, email_domain) = check_email(&req.email)?;
    let subject = check_text("subject", &req.subject, MAX_SUBJECT_CHARS)?;
    let description = check_text("description", &req.description, MAX_DESCRIPTION_CHARS)?;
    let customer_tier = match req.customer_tier.as_deref().map(str::trim) {
        None | Some("") => config.default_customer_tier.clone(),
        Some(t) => {
            let t = t.to_lowercase();
            if !config.tier_multipliers.contains_key(&t) {
                return Err(invalid(
                    "customer_tier",
                    format!(
                        "customer_tier must be one of: {}",
                        config.tier_names().join(", ")
                    ),
                ));
            }
            t
        }
    };
    let session_id = req.session_id.clone().filter(|s| !s.is_empty());
    if let Some(s) = &session_id
        && (s.len() > 128
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(invalid(
            "session_id",
            "session_id must be 1 to 128 letters, digits, - or _",
        ));
    }
    Ok(NewTicket {
        email,
        email_domain,
        subject,
        description,
        customer_tier,
        session_id,
    })
}

pub(super) fn store(state: &AppState) -> Result<&crate::store::Store, ApiError> {
    state.store.as_ref().ok_or_else(|| {
        ApiError::Unavailable("no database is configured; tickets cannot be stored".into())
    })
}

fn parse_priority(s: &str) -> Option<Priority> {
    [
        Priority::P1,
        Priority::P2,
        Priority::P3,
        Priority::P4,
        Priority::P5,
    ]
    .into_iter()
    .find(|p| p.to_string() == s)
}

/// The SLA clock a stored ticket is on.
pub fn clock(t: &Ticket, config: &TriageConfig) -> SlaClock {
    let priority = parse_priority(&t.priority).unwrap_or(Priority::P4);
    SlaClock {
        calendar: config.calendar(priority),
        target: SlaTarget {
            first_response_minutes: u32::try_from(t.first_response_minutes).unwrap_or(u32::MAX),
            resolution_minutes: u32::try_from(t.resolution_minutes).unwrap_or(u32::MAX),
        },
        started_at: t.sla_started_at,
        paused_secs: t.paused_secs,
        paused_at: t.paused_at,
    }
}

fn keep_clock(t: &mut Ticket, c: &SlaClock) {
    t.sla_started_at = c.started_at;
    t.first_response_minutes = i64::from(c.target.first_response_minutes);
    t.resolution_minutes = i64::from(c.target.resolution_minutes);
    t.paused_secs = c.paused_secs;
    t.paused_at = c.paused_at;
    t.first_response_due = c.first_response_due();
    t.resolution_due = c.resolution_due();
}

/// Now, to the microsecond: PostgreSQL keeps no more, and the optimistic update compares
/// `updated_at` exactly.
fn now_micros() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

fn new_ticket_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("T-{}", &u[..10])
}

/// Triages and stores a ticket; `Ok` means it is committed (with its outbox row).
pub async fn file(state: &Arc<AppState>, new: NewTicket, source: &str) -> Result<Ticket, ApiError> {
    let store = store(state)?.clone();
    let text = format!("{}\n{}", new.subject, new.description);
    let (guess, kinds) = state
        .cpu(move |s| {
            let site = s.site();
            let c = &s.config.triage;
            let guess = crate::triage::category::from_search(
                &site.engine,
                &text,
                c.category_hits,
                &c.keyword_rules,
            );
            let kind = guess.as_ref().and_then(|g| {
                site.kb
                    .ticket_types
                    .iter()
                    .find(|t| t.id == g.ticket_type)
                    .map(|t| (t.priority, t.tier))
            });
            let decision = crate::triage::decide_priority(kind.map(|k| k.0), &text, &c.signals);
            (guess, (kind.map(|k| k.1), decision))
        })
        .await?;
    let (tier, decision) = kinds;
    let config = &state.config.triage;
    let now = now_micros();
    let urgent = matches!(decision.priority, Priority::P1 | Priority::P2);
    let at_risk = if urgent && config.at_risk_tickets > 0 {
        let since = now - chrono::Duration::days(i64::from(config.at_risk_days));
        let before = store
            .urgent_tickets_from(&new.email_domain, since)
            .await
            .map_err(|e| ApiError::Unavailable(format!("counting tickets: {e}")))?;
        before + 1 >= i64::from(config.at_risk_tickets)
    } else {
        false
    };
    let clock = SlaClock::start(
        config.calendar(decision.priority),
        config.targets(decision.priority, &new.customer_tier),
        now,
    );
    let mut t = Ticket {
        id: new_ticket_id(),
        session_id: new.session_id,
        email: new.email,
        email_domain: new.email_domain,
        subject: new.subject,
        description: new.description,
        customer_tier: new.customer_tier,
        category: guess.as_ref().map(|g| g.ticket_type.clone()),
        category_confidence: guess.as_ref().map_or(0.0, |g| g.confidence),
        priority: decision.priority.to_string(),
        priority_reason: decision.reason.clone(),
        routing_tier: tier.unwrap_or(crate::content::Tier::L1).to_string(),
        status: TicketStatus::New,
        assignee: None,
        at_risk,
        source: source.to_string(),
        sla_started_at: now,
        first_response_minutes: 0,
        resolution_minutes: 0,
        first_response_due: now,
        resolution_due: now,
        first_responded_at: None,
        paused_at: None,
        paused_secs: 0,
        resolved_at: None,
        created_at: now,
        updated_at: now,
    };
    keep_clock(&mut t, &clock);
    let created = AuditEntry {
        actor: "triage".into(),
        field: "created".into(),
        old_value: None,
        new_value: Some(format!(
            "{} {} ({}), category {} ({:.0}% of the vote), routing {}",
            t.status.as_str(),
            t.priority,
            decision.reason,
            t.category.as_deref().unwrap_or("unknown"),
            100.0 * t.category_confidence,
            t.routing_tier
        )),
        note: at_risk.then(|| "account at risk: several P1/P2 tickets within 30 days".into()),
        created_at: now,
    };
    let delivery = state.config.webhook.url.is_some().then(|| Delivery {
        id: uuid::Uuid::new_v4().simple().to_string(),
        ticket_id: t.id.clone(),
        event: "ticket.created".into(),
        attempts: 0,
        next_attempt_at: now,
    });
    store
        .create_ticket(&t, &created, delivery.as_ref())
        .await
        .map_err(|e| ApiError::Unavailable(format!("storing a ticket: {e}")))?;
    if delivery.is_some() {
        state.desk.outbox.notify_one();
    }
    tracing::info!(id = %t.id, priority = %t.priority, category = ?t.category, "ticket filed");
    Ok(t)
}

/// The spam guard's rate limits, per session and per address.
pub fn rate_limit(state: &AppState, session: Option<&str>, ip: &ClientIp) -> Result<(), ApiError> {
    if let Some(s) = session {
        state.desk.per_session.check(s)?;
    }
    if let Some(ip) = ip.0 {
        state.desk.per_ip.check(&ip.to_string())?;
    }
    Ok(())
}

pub fn response(t: &Ticket) -> TicketResponse {
    TicketResponse {
        id: t.id.clone(),
        status: t.status,
        priority: t.priority.clone(),
        category: t.category.clone(),
        tier: t.routing_tier.clone(),
        sla: SlaDue {
            first_response_due: t.first_response_due,
            resolution_due: t.resolution_due,
        },
        category_confidence: t.category_confidence,
        customer_tier: t.customer_tier.clone(),
        at_risk: t.at_risk,
    }
}

/// Files a ticket: triaged, stored with its self-service trail's session, handed off.
#[utoipa::path(post, path = "/api/v1/tickets", request_body = TicketRequest, responses(
    (status = 201, body = TicketResponse, description = "committed"),
    (status = 400, body = super::api::ErrorEnvelope),
    (status = 422, body = super::api::ErrorEnvelope, description = "a field is invalid (named in `field`)"),
    (status = 429, body = super::api::ErrorEnvelope),
    (status = 503, body = super::api::ErrorEnvelope, description = "not stored; retry"),
))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ip: ClientIp,
    ApiJson(mut body): ApiJson<TicketRequest>,
) -> Result<(StatusCode, Json<TicketResponse>), ApiError> {
    if body.session_id.is_none() {
        body.session_id = cookie(&headers, SESSION_COOKIE);
    }
    let new = check(&body, &state.config.triage)?;
    rate_limit(&state, new.session_id.as_deref(), &ip)?;
    let t = file(&state, new, "api").await?;
    Ok((StatusCode::CREATED, Json(response(&t))))
}

/// A ticket as the queue shows it: stored fields plus where its SLA stands now.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub sla: SlaState,
}

#[derive(Debug, Serialize)]
pub struct SlaState {
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    /// Share of the SLA used, in percent (of first response until answered, else resolution).
    pub elapsed_percent: f64,
    /// None once resolved or closed.
    pub level: Option<WarningLevel>,
    pub level_label: String,
    pub paused: bool,
    /// The due times in the team's time zone, for people.
    pub first_response_due_local: String,
    pub resolution_due_local: String,
}

pub fn view(t: Ticket, config: &TriageConfig, now: DateTime<Utc>) -> TicketView {
    let c = clock(&t, config);
    let open = t.status.is_open();
    let f = if open {
        c.elapsed_fraction(now, t.first_responded_at.is_some())
    } else {
        0.0
    };
    let level = open.then(|| WarningLevel::from_fraction(f));
    let paused = t.paused_at.is_some();
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&config.time_zone)
            .format("%a %d %b %H:%M %Z")
            .to_string()
    };
    TicketView {
        sla: SlaState {
            first_response_due: t.first_response_due,
            resolution_due: t.resolution_due,
            elapsed_percent: (f * 1000.0).round() / 10.0,
            level,
            level_label: match (level, paused) {
                (None, _) => "done".into(),
                (Some(l), true) => format!("{} (paused)", l.label()),
                (Some(l), false) => l.label().into(),
            },
            paused,
            first_response_due_local: local(t.first_response_due),
            resolution_due_local: local(t.resolution_due),
        },
        ticket: t,
    }
}

/// Open tickets first, the most urgent (largest share of SLA used) first.
fn by_urgency(v: &mut [TicketView]) {
    v.sort_by(|a, b| {
        b.ticket
            .status
            .is_open()
            .cmp(&a.ticket.status.is_open())
            .then(b.sla.elapsed_percent.total_cmp(&a.sla.elapsed_percent))
            .then(a.ticket.priority.cmp(&b.ticket.priority))
            .then(a.ticket.created_at.cmp(&b.ticket.created_at))
    });
}

/// `?status=&priority=&tier=&type=&open=` on the queue.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub tier: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub open: Option<bool>,
    pub format: Option<String>,
}

fn filter(q: &QueueQuery) -> Result<TicketFilter, ApiError> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let f = TicketFilter {
        status: some(&q.status),
        priority: some(&q.priority),
        routing_tier: some(&q.tier),
        category: some(&q.kind),
        open_only: q.open.unwrap_or(false),
        limit: 500,
    };
    if let Some(s) = &f.status
        && TicketStatus::parse(s).is_none()
    {
        return Err(ApiError::BadRequest(format!(
            "status must be one of: {}",
            TicketStatus::ALL.map(TicketStatus::as_str).join(", ")
        )));
    }
    if let Some(p) = &f.priority
        && parse_priority(p).is_none()
    {
        return Err(ApiError::BadRequest("priority must be P1 to P5".into()));
    }
    Ok(f)
}

async fn queue(state: &AppState, q: &QueueQuery) -> Result<Vec<TicketView>, ApiError> {
    let f = filter(q)?;
    let tickets = store(state)?
        .tickets(&f)
        .await
        .map_err(|e| ApiError::Unavailable(format!("listing tickets: {e}")))?;
    let now = Utc::now();
    let mut v: Vec<TicketView> = tickets
        .into_iter()
        .map(|t| view(t, &state.config.triage, now))
        .collect();
    by_urgency(&mut v);
    Ok(v)
}

fn query(
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<QueueQuery, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))
}

/// `GET /api/v1/admin/tickets`: the queue, most urgent first.
pub async fn list(
    _: Admin,
    State(state): State<Arc<AppState>>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let v = queue(&state, &query(q)?).await?;
    Ok(Json(serde_json::json!({ "tickets": v })))
}

/// A ticket with its trail and audit log.
#[derive(Debug, Serialize)]
pub struct TicketDetail {
    pub ticket: TicketView,
    pub trail: Vec<TrailEntry>,
    pub audit: Vec<AuditEntry>,
}

async fn detail(state: &AppState, id: &str) -> Result<TicketDetail, ApiError> {
    let store = store(state)?;
    let unavailable =
        |e: crate::store::StoreError| ApiError::Unavailable(format!("reading ticket {id}: {e}"));
    let t = store
        .ticket(id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::NotFound(format!("no ticket `{id}`")))?;
    let trail = match &t.session_id {
        Some(s) => store.trail(s).await.map_err(unavailable)?,
        None => Vec::new(),
    };
    let audit = store.audit_log(id).await.map_err(unavailable)?;
    Ok(TicketDetail {
        ticket: view(t, &state.config.triage, Utc::now()),
        trail,
        audit,
    })
}

pub async fn get(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    Ok(Json(detail(&state, &id).await?))
}

/// `PATCH /api/v1/admin/tickets/{id}` (and the detail page's forms).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketUpdate {
    pub status: Option<String>,
    pub priority: Option<String>,
    /// An agent or team; empty unassigns.
    pub assignee: Option<String>,
    pub note: Option<String>,
    /// Who makes the change (shown in the audit log) [default: admin].
    pub actor: Option<String>,
}

/// Applies an update to a ticket: the new ticket and the audit entries, or why not.
pub fn apply(
    mut t: Ticket,
    u: &TicketUpdate,
    config: &TriageConfig,
    now: DateTime<Utc>,
) -> Result<(Ticket, Vec<AuditEntry>), ApiError> {
    let actor = u
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("admin");
    if actor.chars().count() > MAX_ASSIGNEE_CHARS {
        return Err(invalid(
            "actor",
            format!("actor is longer than {MAX_ASSIGNEE_CHARS} characters"),
        ));
    }
    let note = u.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(invalid(
            "note",
            format!("note is longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let mut changes = Vec::new();
    let mut log = |field: &str, old: Option<String>, new: Option<String>| {
        changes.push(AuditEntry {
            actor: actor.to_string(),
            field: field.to_string(),
            old_value: old,
            new_value: new,
            note: note.map(String::from),
            created_at: now,
        });
    };
    let mut c = clock(&t, config);
    if let Some(p) = u
        .priority
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let p =
            parse_priority(p).ok_or_else(|| invalid("priority", "priority must be P1 to P5"))?;
        if p.to_string() != t.priority {
            c.calendar = config.calendar(p);
            c.target = config.targets(p, &t.customer_tier);
            log("priority", Some(t.priority.clone()), Some(p.to_string()));
            t.priority = p.to_string();
            t.priority_reason = format!("set by {actor}");
        }
    }
    if let Some(a) = &u.assignee {
        let a = a.trim();
        if a.chars().count() > MAX_ASSIGNEE_CHARS || a.chars().any(char::is_control) {
            return Err(invalid(
                "assignee",
                format!("assignee must be at most {MAX_ASSIGNEE_CHARS} printable characters"),
            ));
        }
        let new = (!a.is_empty()).then(|| a.to_string());
        if new != t.assignee {
            log("assignee", t.assignee.clone(), new.clone());
            t.assignee = new;
        }
    }
    if let Some(s) = u.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let next = TicketStatus::parse(s).ok_or_else(|| {
            invalid(
                "status",
                format!(
                    "status must be one of: {}",
                    TicketStatus::ALL.map(TicketStatus::as_str).join(", ")
                ),
            )
        })?;
        let transition = t
            .status
            .check_move(next)
            .map_err(|m| invalid("status", m))?;
        use crate::triage::lifecycle::Transition;
        match transition {
            Transition::Reopen => {
                c.restart(now);
                t.first_responded_at = None;
                t.resolved_at = None;
                if next == TicketStatus::PendingCustomer {
                    c.pause(now);
                }
            }
            Transition::Pause => c.pause(now),
            Transition::Resume => c.resume(now),
            Transition::Plain => {}
        }
        if next.counts_as_response() && t.first_responded_at.is_none() {
            t.first_responded_at = Some(now);
        }
        if !next.is_open() && t.resolved_at.is_none() {
            t.resolved_at = Some(now);
        }
        log(
            "status",
            Some(t.status.as_str().into()),
            Some(next.as_str().into()),
        );
        if transition == Transition::Reopen
            && let Some(last) = changes.last_mut()
        {
            {
                last.note = Some(format!(
                    "reopened: a new SLA period{}",
                    note.map(|n| format!(" — {n}")).unwrap_or_default()
                ));
            }
        }
        t.status = next;
    }
    if changes.is_empty() {
        if let Some(n) = note {
            changes.push(AuditEntry {
                actor: actor.to_string(),
                field: "note".into(),
                old_value: None,
                new_value: None,
                note: Some(n.to_string()),
                created_at: now,
            });
        } else {
            return Err(ApiError::BadRequest(
                "nothing to change: send status, priority, assignee or note".into(),
            ));
        }
    }
    keep_clock(&mut t, &c);
    t.updated_at = now;
    Ok((t, changes))
}

async fn update_ticket(state: &AppState, id: &str, u: &TicketUpdate) -> Result<Ticket, ApiError> {
    let store = store(state)?;
    let unavailable =
        |e: crate::store::StoreError| ApiError::Unavailable(format!("updating ticket {id}: {e}"));
    for _ in 0..3 {
        let t = store
            .ticket(id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ApiError::NotFound(format!("no ticket `{id}`")))?;
        let read_at = t.updated_at;
        // Keep timestamps strictly increasing so the optimistic check sees every change.
        let now = now_micros().max(read_at + chrono::Duration::microseconds(1));
        let (t, changes) = apply(t, u, &state.config.triage, now)?;
        if store
            .update_ticket(&t, read_at, &changes)
            .await
            .map_err(unavailable)?
        {
            return Ok(t);
        }
    }
    Err(ApiError::Unavailable(format!(
        "ticket {id} kept changing; retry"
    )))
}

pub async fn patch(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<TicketUpdate>,
) -> Result<Json<TicketView>, ApiError> {
    let t = update_ticket(&state, &id, &u).await?;
    Ok(Json(view(t, &state.config.triage, Utc::now())))
}

/// `GET /api/v1/admin/tickets/export?format=csv|json` (filters as the queue).
pub async fn export(
    _: Admin,
    State(state): State<Arc<AppState>>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let v = queue(&state, &q).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(serde_json::json!({ "tickets": v })).into_response()),
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let header = [
                "id",
                "status",
                "priority",
                "category",
                "category_confidence",
                "routing_tier",
                "customer_tier",
                "email",
                "subject",
                "description",
                "assignee",
                "at_risk",
                "first_response_due",
                "resolution_due",
                "sla_elapsed_percent",
                "sla_level",
                "session_id",
                "created_at",
            ];
            let csv_err = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
            w.write_record(header).map_err(csv_err)?;
            for x in &v {
                let t = &x.ticket;
                w.write_record([
                    t.id.clone(),
                    t.status.as_str().into(),
                    t.priority.clone(),
                    t.category.clone().unwrap_or_default(),
                    format!("{:.3}", t.category_confidence),
                    t.routing_tier.clone(),
                    t.customer_tier.clone(),
                    t.email.clone(),
                    csv_safe(&t.subject),
                    csv_safe(&t.description),
                    t.assignee.clone().unwrap_or_default(),
                    t.at_risk.to_string(),
                    t.first_response_due.to_rfc3339(),
                    t.resolution_due.to_rfc3339(),
                    format!("{:.1}", x.sla.elapsed_percent),
                    x.sla.level.map_or("done", WarningLevel::as_str).into(),
                    t.session_id.clone().unwrap_or_default(),
                    t.created_at.to_rfc3339(),
                ])
                .map_err(csv_err)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"tickets.csv\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(ApiError::BadRequest(format!(
            "format must be csv or json, not `{other}`"
        ))),
    }
}

/// Customer text opened in a spreadsheet must not run as a formula.
fn csv_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

// ---- Admin pages ----

/// `/admin/tickets`: the queue with filters.
pub async fn queue_page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query(q).unwrap_or_default();
    let (tickets, error) = match queue(&state, &q).await {
        Ok(v) => (v, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let types: Vec<String> = state
        .site()
        .kb
        .ticket_types
        .iter()
        .map(|t| t.id.clone())
        .collect();
    super::pages::render(
        &state,
        "admin_tickets.html",
        context! {
            site_name => &state.config.site_name,
            logged_in => true,
            tickets => ser(&tickets),
            error,
            statuses => TicketStatus::ALL.map(TicketStatus::as_str),
            priorities => ["P1", "P2", "P3", "P4", "P5"],
            tiers => ["L1", "L2", "L3"],
            types,
            f => context! { status => q.status, priority => q.priority, tier => q.tier, kind => q.kind },
        },
    )
}

/// `/admin/tickets/{id}`: the ticket, what the customer tried, the audit log, and forms.
pub async fn ticket_page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    q: Result<Query<PageMessage>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match detail(&state, &id).await {
        Ok(d) => super::pages::render(
            &state,
            "admin_ticket.html",
            context! {
                site_name => &state.config.site_name,
                logged_in => true,
                t => ser(&d.ticket),
                trail => ser(&d.trail),
                audit => ser(&d.audit),
                statuses => TicketStatus::ALL.map(TicketStatus::as_str),
                priorities => ["P1", "P2", "P3", "P4", "P5"],
                error => q.ok().and_then(|q| q.0.error),
            },
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageMessage {
    pub error: Option<String>,
}

/// The detail page's forms; back to the page, with the problem if any.
pub async fn update_form(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    axum::Form(u): axum::Form<TicketUpdate>,
) -> Response {
    let base = format!("/admin/tickets/{}", super::admin::urlencode(&id));
    match update_ticket(&state, &id, &u).await {
        Ok(_) => Redirect::to(&base).into_response(),
        Err(ApiError::NotFound(m)) => ApiError::NotFound(m).into_response(),
        Err(e) => Redirect::to(&format!(
            "{base}?error={}",
            super::admin::urlencode(&e.to_string())
        ))
        .into_response(),
    }
}

fn ser<T: Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}
