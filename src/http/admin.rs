//! Admin endpoints behind a token — a bearer header for scripts, a login cookie for the admin
//! pages — and the metrics exposition.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::PageQuery;
use super::{ApiError, AppState};

/// The admin pages' login cookie (HttpOnly, Secure, SameSite=Strict).
pub const ADMIN_COOKIE: &str = "deflect_admin";
/// How long an admin login lasts.
const ADMIN_COOKIE_MAX_AGE: u32 = 12 * 3600;

/// The admin token from the `Authorization: Bearer` header, else from the login cookie.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == ADMIN_COOKIE)
        .map(|(_, value)| value)
}

/// Whether the request proves it holds the admin token (constant-time comparison).
pub(super) fn is_admin(state: &AppState, headers: &HeaderMap) -> bool {
    match (&state.config.admin_token, presented_token(headers)) {
        (Some(token), Some(given)) => token.matches(given),
        _ => false,
    }
}

/// Proof that the request carried the admin token (header or login cookie); API routes.
pub struct Admin;

/// Proof of admin for HTML pages: without it the visitor is sent to the login page.
pub struct AdminPage;

impl FromRequestParts<Arc<AppState>> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if is_admin(state, &parts.headers) {
            return Ok(AdminPage);
        }
        let next = parts
            .uri
            .path_and_query()
            .map_or("/admin", axum::http::uri::PathAndQuery::as_str);
        let target = format!("/admin/login?next={}", urlencode(next));
        Err(Redirect::to(&target).into_response())
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

pub async fn login(State(state): State<Arc<AppState>>, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref()).to_string();
    let token = form.token.trim();
    let ok = state
        .config
        .admin_token
        .as_ref()
        .is_some_and(|t| t.matches(token));
    // The cookie carries the token itself, so it must be a valid cookie value to be usable.
    let cookie_safe = token
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b";,\\\"".contains(&b));
    if !ok || !cookie_safe {
        let mut res = super::templates::render(
            &state,
            "admin_login.html",
            context! {
                site_name => &state.config.site_name,
                next,
                disabled => state.config.admin_token.is_none(),
                error => if ok { "This token cannot be kept in a cookie: use one made of letters, digits and - _ . ~" } else { "That token is not right." },
            },
        );
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return res;
    }
    let cookie = format!(
        "{ADMIN_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={ADMIN_COOKIE_MAX_AGE}"
    );
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

pub async fn logout() -> Response {
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
        if state.config.admin_token.is_none() {
            return Err(ApiError::Unauthorized(
                "admin is disabled: set DEFLECT_ADMIN_TOKEN to enable it".into(),
            ));
        }
        if is_admin(state, &parts.headers) {
            Ok(Admin)
        } else {
            Err(ApiError::Unauthorized(
                "missing or wrong admin token: send `Authorization: Bearer <token>`".into(),
            ))
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
