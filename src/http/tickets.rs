//! Fallback tickets over HTTP: `POST /api/v1/tickets` (triaged on creation, `201` only after
//! the commit), the agents' queue and updates (admin API and pages), and CSV/JSON export.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use utoipa::ToSchema;

use super::admin::{Admin, AdminPage};
use super::extract::{ApiQuery, PageQuery};
use super::feedback::{ApiJson, SESSION_COOKIE, cookie};
pub use super::limits::ClientIp;
use super::limits::RateLimiter;
use super::{ApiError, AppState};
use crate::store::tickets::Ticket;
use crate::tickets::{
    NewTicket, QueueQuery, TicketDetail, TicketError, TicketRequest, TicketUpdate, TicketView,
    to_csv,
};
use crate::triage::{TicketStatus, TriageConfig};

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::Invalid { field, message } => ApiError::Invalid { field, message },
            TicketError::BadRequest(m) => ApiError::BadRequest(m),
            TicketError::NotFound(id) => ApiError::NotFound(format!("no ticket `{id}`")),
            TicketError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

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
    /// The ticket type triage chose (named `category` for compatibility; not the KB folder).
    pub category: Option<String>,
    /// The routing tier L1..L3 (not the customer's plan: that is `customer_tier`).
    pub tier: String,
    pub sla: SlaDue,
    /// The share of the articles' vote the ticket type got.
    pub category_confidence: f64,
    /// The customer's plan, which scales the SLA targets.
    pub customer_tier: String,
    pub at_risk: bool,
}

/// The store, or why tickets cannot be kept.
pub(super) fn store(state: &AppState) -> Result<&crate::store::Store, ApiError> {
    state.store.as_ref().ok_or_else(|| {
        ApiError::Unavailable("no database is configured; tickets cannot be stored".into())
    })
}

/// Triages (on the blocking pool: it searches), stores and hands off a checked ticket;
/// `Ok` means it is committed with its outbox row.
pub async fn file(state: &Arc<AppState>, new: NewTicket, source: &str) -> Result<Ticket, ApiError> {
    let store = store(state)?.clone();
    let text = format!("{}\n{}", new.subject, new.description);
    let session = new.session_id.clone().unwrap_or_default();
    let triaged = state
        .cpu(move |s| {
            let site = s.site();
            let learning = s.learning.get();
            let learned = if s.uses_learning(None, &session) {
                learning.as_ref()
            } else {
                &crate::learning::Learned::empty()
            };
            crate::tickets::triage(&site.engine, &site.kb, &s.config.triage, &text, learned)
        })
        .await?;
    let with_delivery = state.config.webhook.url.is_some();
    let t = crate::tickets::file(
        &store,
        &state.config.triage,
        new,
        triaged,
        source,
        with_delivery,
    )
    .await?;
    if with_delivery {
        state.desk.outbox.notify_one();
    }
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
        category: t.ticket_type.clone(),
        tier: t.routing_tier.clone(),
        sla: SlaDue {
            first_response_due: t.first_response_due,
            resolution_due: t.resolution_due,
        },
        category_confidence: t.ticket_type_confidence,
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
    let new = crate::tickets::check(&body, &state.config.triage)?;
    rate_limit(&state, new.session_id.as_deref(), &ip)?;
    let t = file(&state, new, "api").await?;
    Ok((StatusCode::CREATED, Json(response(&t))))
}

async fn queue(state: &AppState, q: &QueueQuery) -> Result<Vec<TicketView>, ApiError> {
    Ok(crate::tickets::queue(store(state)?, &state.config.triage, q).await?)
}

async fn detail(state: &AppState, id: &str) -> Result<TicketDetail, ApiError> {
    Ok(crate::tickets::detail(store(state)?, &state.config.triage, id).await?)
}

async fn update(state: &AppState, id: &str, u: &TicketUpdate) -> Result<Ticket, ApiError> {
    let site = state.site();
    Ok(crate::tickets::update(
        store(state)?,
        &state.config.triage,
        id,
        u,
        &site.kb.ticket_types,
    )
    .await?)
}

/// `GET /api/v1/admin/tickets`: the queue, most urgent first.
#[utoipa::path(get, path = "/api/v1/admin/tickets", security(("bearer" = [])), params(QueueQuery), responses(
    (status = 200, description = "`{tickets: [...]}`, open tickets first, the most urgent first"),
    (status = 400, body = super::api::ErrorEnvelope),
    (status = 401, body = super::api::ErrorEnvelope),
    (status = 503, body = super::api::ErrorEnvelope),
))]
pub async fn list(
    _: Admin,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let v = queue(&state, &q).await?;
    Ok(Json(serde_json::json!({ "tickets": v })))
}

/// One ticket with the customer's self-service trail and its audit log.
#[utoipa::path(get, path = "/api/v1/admin/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, description = "`{ticket, trail, audit}`"),
    (status = 401, body = super::api::ErrorEnvelope),
    (status = 404, body = super::api::ErrorEnvelope),
))]
pub async fn get(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    Ok(Json(detail(&state, &id).await?))
}

/// Changes a ticket's status, priority or assignee, or adds a note; audited.
#[utoipa::path(patch, path = "/api/v1/admin/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, description = "the ticket as the queue shows it"),
    (status = 400, body = super::api::ErrorEnvelope),
    (status = 401, body = super::api::ErrorEnvelope),
    (status = 404, body = super::api::ErrorEnvelope),
    (status = 422, body = super::api::ErrorEnvelope, description = "a field is invalid (named in `field`)"),
))]
pub async fn patch(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<TicketUpdate>,
) -> Result<Json<TicketView>, ApiError> {
    let t = update(&state, &id, &u).await?;
    Ok(Json(crate::tickets::view(
        t,
        &state.config.triage,
        Utc::now(),
    )))
}

/// The same update as `PATCH`, for clients that cannot send one.
#[utoipa::path(post, path = "/api/v1/admin/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, description = "the ticket as the queue shows it"),
    (status = 422, body = super::api::ErrorEnvelope),
))]
pub async fn post_update(
    admin: Admin,
    state: State<Arc<AppState>>,
    id: Path<String>,
    body: ApiJson<TicketUpdate>,
) -> Result<Json<TicketView>, ApiError> {
    patch(admin, state, id, body).await
}

/// `GET /api/v1/admin/tickets/export?format=csv|json` (filters as the queue).
#[utoipa::path(get, path = "/api/v1/admin/tickets/export", security(("bearer" = [])), params(QueueQuery), responses(
    (status = 200, description = "the queue as CSV (`format=csv`) or JSON"),
    (status = 400, body = super::api::ErrorEnvelope),
    (status = 401, body = super::api::ErrorEnvelope),
))]
pub async fn export(
    _: Admin,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Response, ApiError> {
    let v = queue(&state, &q).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(serde_json::json!({ "tickets": v })).into_response()),
        "csv" => {
            let bytes = to_csv(&v).map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
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

// ---- Admin pages ----

/// `/admin/tickets`: the queue with filters.
pub async fn queue_page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    PageQuery(q): PageQuery<QueueQuery>,
) -> Response {
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
    super::templates::render(
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
            f => context! { status => q.status, priority => q.priority, tier => q.tier, kind => q.ticket_type },
        },
    )
}

/// `/admin/tickets/{id}`: the ticket, what the customer tried, the audit log, and forms.
pub async fn ticket_page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<PageMessage>,
) -> Response {
    match detail(&state, &id).await {
        Ok(d) => super::templates::render(
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
                ticket_types => state.site().kb.ticket_types.iter()
                    .map(|tt| context! { id => &tt.id, name => &tt.name })
                    .collect::<Vec<_>>(),
                error => q.error,
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
    match update(&state, &id, &u).await {
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
