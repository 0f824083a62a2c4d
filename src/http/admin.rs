//! Admin endpoints behind a token — a bearer header for scripts; for the admin pages, a login
//! that exchanges the token for a server-side session (revocable by logging out and by
//! rotating the token, shared by replicas through the store) — wrong tokens rate-limited per
//! client, cookie-authenticated changes accepted from this site's own pages only; and the
//! metrics exposition.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value, json};

use sha2::Digest;

use super::extract::PageQuery;
use super::limits::{Rate, RateLimiter, client_ip};
use super::{ApiError, AppState};
use crate::config::Secret;
use crate::store::admin::AdminSession;

/// The admin pages' login cookie (HttpOnly, Secure, SameSite=Strict): a random session id.
pub const ADMIN_COOKIE: &str = "deflect_admin";
/// How long an admin login lasts, in seconds.
const SESSION_SECS: i64 = 12 * 3600;
/// Wrong admin tokens one client may send at once, and again per minute; past that every
/// admin request of that client is a 429 (the right token too) until the bucket refills.
const WRONG_TOKENS: Rate = Rate {
    per_minute: 10,
    burst: 5,
};
/// Clients whose wrong tokens are counted at most (memory bound).
const TRACKED_CLIENTS: usize = 100_000;

/// Admin logins and the guard against guessing the token.
#[derive(Debug)]
pub struct AdminGuard {
    /// Sessions by id hash when there is no store (one process only).
    memory: Mutex<HashMap<String, AdminSession>>,
    wrong_tokens: RateLimiter,
}

impl Default for AdminGuard {
    fn default() -> Self {
        Self {
            memory: Mutex::new(HashMap::new()),
            wrong_tokens: RateLimiter::new(WRONG_TOKENS, TRACKED_CLIENTS),
        }
    }
}

/// Which token opened a session: rotating `DEFLECT_ADMIN_TOKEN` changes it, which ends every
/// session the old token opened.
fn fingerprint(token: &Secret) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"deflect admin session\0");
    h.update(token.expose().as_bytes());
    hex::encode(h.finalize())
}

fn hash_id(id: &str) -> String {
    hex::encode(sha2::Sha256::digest(id.as_bytes()))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The token from `Authorization: Bearer`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The session id from the login cookie.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == ADMIN_COOKIE)
        .map(|(_, value)| value)
}

/// Who is asking, as the wrong-token limit counts clients.
fn client_key(state: &AppState, parts: &Parts) -> String {
    client_ip(
        parts.extensions.get::<ConnectInfo<SocketAddr>>(),
        &parts.headers,
        state.config.widget.trust_proxy,
    )
    .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

/// Why a request is not let in as admin.
#[derive(Debug)]
enum Denied {
    /// No admin token is configured.
    Disabled,
    /// No token and no live session.
    Missing,
    Wrong,
    /// Too many wrong tokens from this client: seconds to wait.
    Limited(u64),
    /// A cookie-authenticated change from another site's page.
    CrossOrigin,
}

/// How a request proved it is admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    Bearer,
    Session,
}

/// Checks a presented token against the configured one, counting wrong ones per client.
fn check_token(state: &AppState, client: &str, token: &Secret, given: &str) -> Result<(), Denied> {
    let limiter = &state.admin.wrong_tokens;
    if let Some(wait) = limiter.blocked(client) {
        return Err(Denied::Limited(wait));
    }
    if token.matches(given) {
        return Ok(());
    }
    match limiter.check(client) {
        Err(ApiError::TooManyRequests { retry_after }) => Err(Denied::Limited(retry_after)),
        _ => Err(Denied::Wrong),
    }
}

/// Whether the session id names a live session of the current token.
async fn session_is_live(state: &AppState, token: &Secret, id: &str) -> bool {
    let id_hash = hash_id(id);
    let found = match &state.store {
        Some(store) => match store.admin_session(&id_hash).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("reading an admin session failed: {e}");
                None
            }
        },
        None => state
            .admin
            .memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id_hash)
            .cloned(),
    };
    found.is_some_and(|s| s.expires_at > now() && s.token_fingerprint == fingerprint(token))
}

/// Whether the request comes from a page of this site: its `Origin` (or, without one, its
/// `Referer`) names the host the request was sent to, or the configured `public_url`'s.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let host_of = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        let host = rest.split(['/', '?', '#']).next()?;
        (!host.is_empty()).then(|| host.to_ascii_lowercase())
    };
    let from = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .or_else(|| headers.get(header::REFERER).and_then(|v| v.to_str().ok()))
        .and_then(host_of);
    let Some(from) = from else {
        return false;
    };
    let to = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    to.as_deref() == Some(from.as_str())
        || host_of(&state.config.public_url).as_deref() == Some(from.as_str())
}

/// Whether the request is admin: a bearer token (scripts), or a live login session — which,
/// for anything but reading, must come from this site's own pages.
async fn authenticate(state: &AppState, parts: &Parts) -> Result<Proof, Denied> {
    let Some(token) = &state.config.admin_token else {
        return Err(Denied::Disabled);
    };
    if let Some(given) = bearer(&parts.headers) {
        let client = client_key(state, parts);
        return check_token(state, &client, token, given).map(|()| Proof::Bearer);
    }
    match session_cookie(&parts.headers) {
        Some(id) if session_is_live(state, token, id).await => {
            let reading = matches!(
                parts.method,
                axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
            );
            if reading || same_origin(state, &parts.headers) {
                Ok(Proof::Session)
            } else {
                Err(Denied::CrossOrigin)
            }
        }
        _ => Err(Denied::Missing),
    }
}

const CROSS_ORIGIN: &str = "an admin change made with the login cookie must come from this site's own pages (its Origin header names another site, or none)";

/// Proof that the request carried the admin token or a live login session; API routes.
pub struct Admin;

/// Proof of admin for HTML pages: without it the visitor is sent to the login page.
pub struct AdminPage;

impl FromRequestParts<Arc<AppState>> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match authenticate(state, parts).await {
            Ok(_) => Ok(AdminPage),
            Err(Denied::CrossOrigin) => {
                Err(ApiError::Forbidden(CROSS_ORIGIN.into()).into_response())
            }
            Err(Denied::Limited(retry_after)) => {
                Err(ApiError::TooManyRequests { retry_after }.into_response())
            }
            Err(_) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/admin", axum::http::uri::PathAndQuery::as_str);
                let target = format!("/admin/login?next={}", urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
pub(super) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only admin paths are followed after login: never an open redirect.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/admin")
                && !n.starts_with("/admin/login")
                && !n.contains("//")
                // Only printable ASCII: a control character cannot go into a Location header.
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/admin",
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The login form: the admin token, kept afterwards in a secure cookie.
pub async fn login_page(
    State(state): State<Arc<AppState>>,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Response {
    let next = query.next;
    super::templates::render(
        &state,
        "admin_login.html",
        context! {
            site_name => &state.config.site_name,
            next => safe_next(next.as_deref()),
            disabled => state.config.admin_token.is_none(),
        },
    )
}

/// The login form's fields. `Debug` leaves the token out.
#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("token", &"***")
            .field("next", &self.next)
            .finish()
    }
}

/// The login page again, with an error and a status.
fn login_error(state: &AppState, next: &str, status: StatusCode, error: &str) -> Response {
    let mut res = super::templates::render(
        state,
        "admin_login.html",
        context! {
            site_name => &state.config.site_name,
            next,
            disabled => state.config.admin_token.is_none(),
            error,
        },
    );
    *res.status_mut() = status;
    res
}

/// Exchanges the admin token for a login session: a random id in the cookie, its hash in the
/// store (shared by every replica), expiring after 12 hours.
pub async fn login(
    State(state): State<Arc<AppState>>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref()).to_string();
    if parts.headers.contains_key(header::ORIGIN) && !same_origin(&state, &parts.headers) {
        return login_error(
            &state,
            &next,
            StatusCode::FORBIDDEN,
            "Log in from this site's own login page.",
        );
    }
    let Some(token) = &state.config.admin_token else {
        return login_error(
            &state,
            &next,
            StatusCode::UNAUTHORIZED,
            "That token is not right.",
        );
    };
    let client = client_key(&state, &parts);
    match check_token(&state, &client, token, form.token.trim()) {
        Ok(()) => {}
        Err(Denied::Limited(wait)) => {
            let mut res = login_error(
                &state,
                &next,
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many wrong tokens from your address: try again in {wait} s."),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
        Err(_) => {
            return login_error(
                &state,
                &next,
                StatusCode::UNAUTHORIZED,
                "That token is not right.",
            );
        }
    }
    let id = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let created_at = now();
    let session = AdminSession {
        id_hash: hash_id(&id),
        token_fingerprint: fingerprint(token),
        created_at,
        expires_at: created_at + SESSION_SECS,
    };
    match &state.store {
        Some(store) => {
            if let Err(e) = store.create_admin_session(&session).await {
                tracing::error!("storing an admin session failed: {e}");
                return login_error(
                    &state,
                    &next,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable, so no login can be kept: try again shortly.",
                );
            }
        }
        None => {
            let mut memory = state
                .admin
                .memory
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            memory.retain(|_, s| s.expires_at > created_at);
            memory.insert(session.id_hash.clone(), session);
        }
    }
    let cookie = format!(
        "{ADMIN_COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={SESSION_SECS}"
    );
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Ends the login session on the server (every replica) and clears the cookie.
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        if !same_origin(&state, &headers) {
            return ApiError::Forbidden(CROSS_ORIGIN.into()).into_response();
        }
        let id_hash = hash_id(id);
        match &state.store {
            Some(store) => {
                if let Err(e) = store.delete_admin_session(&id_hash).await {
                    tracing::error!("ending an admin session failed: {e}");
                    return ApiError::Unavailable(format!("ending an admin session: {e}"))
                        .into_response();
                }
            }
            None => {
                state
                    .admin
                    .memory
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&id_hash);
            }
        }
    }
    let mut res = Redirect::to("/admin/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "deflect_admin=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
        ),
    );
    res
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match authenticate(state, parts).await {
            Ok(_) => Ok(Admin),
            Err(Denied::Disabled) => Err(ApiError::Unauthorized(
                "admin is disabled: set DEFLECT_ADMIN_TOKEN to enable it".into(),
            )),
            Err(Denied::Limited(retry_after)) => Err(ApiError::TooManyRequests { retry_after }),
            Err(Denied::CrossOrigin) => Err(ApiError::Forbidden(CROSS_ORIGIN.into())),
            Err(Denied::Missing | Denied::Wrong) => Err(ApiError::Unauthorized(
                "missing or wrong admin token: send `Authorization: Bearer <token>`".into(),
            )),
        }
    }
}

/// Reloads content from disk and swaps the index atomically (admin token required).
#[utoipa::path(post, path = "/api/v1/admin/reindex", security(("bearer" = [])), responses(
    (status = 200, description = "the new index is live"),
    (status = 401, body = super::api::ErrorEnvelope),
))]
pub async fn reindex(
    _: Admin,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Value>, ApiError> {
    let result = state
        .cpu(|s| s.live.reload(crate::content::today()))
        .await?;
    state.metrics.reloaded(result.is_ok());
    state.learning_wake.notify_one();
    let report = result.map_err(|e| ApiError::Internal(format!("reindex failed: {e:#}")))?;
    state
        .metrics
        .articles
        .set(i64::try_from(report.articles).unwrap_or(i64::MAX));
    Ok(Json(json!({ "reindexed": report })))
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
