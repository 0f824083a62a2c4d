//! The embeddable widget: `/widget.js`, the CORS allow-list that lets it call the API from
//! other sites, and the rate limits of the suggestion endpoint.
//!
//! CORS is a small hand-written middleware rather than tower-http's `cors` feature: the rules
//! are one allow-list and four routes, and it keeps another dependency tree out of the build.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::limits::{Rate, RateLimiter};
use super::{ApiError, AppState};
use crate::config::WidgetConfig;

const WIDGET_JS: &str = include_str!("../../assets/widget.js");

/// The suggestion endpoint's rate limits.
#[derive(Debug)]
pub struct WidgetLimits {
    pub session: RateLimiter,
    pub ip: RateLimiter,
}

impl WidgetLimits {
    pub fn new(c: &WidgetConfig) -> Self {
        Self {
            session: RateLimiter::new(
                Rate {
                    per_minute: c.session_per_minute,
                    burst: c.session_burst,
                },
                c.max_tracked,
            ),
            ip: RateLimiter::new(
                Rate {
                    per_minute: c.ip_per_minute,
                    burst: c.ip_burst,
                },
                c.max_tracked,
            ),
        }
    }
}

/// `GET /widget.js`: the script third-party pages embed.
pub async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// Routes other origins may call.
fn cross_origin(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/suggest" | "/api/v1/search" | "/api/v1/autocomplete"
    ) || (path.starts_with("/api/v1/articles/") && path.ends_with("/votes"))
}

fn allowed<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let o = origin.to_str().ok()?;
    state
        .config
        .widget
        .allowed_origins
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(o))
        .then_some(origin)
}

/// Answers preflights and adds `Access-Control-Allow-Origin` for allowed origins on the
/// widget's routes; other origins get no CORS headers, so browsers keep their pages out.
pub async fn cors(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !cross_origin(req.uri().path()) {
        return next.run(req).await;
    }
    let origin = allowed(&state, req.headers()).cloned();
    if req.method() == Method::OPTIONS {
        let Some(origin) = origin else {
            return ApiError::Forbidden("this origin may not call the API".into()).into_response();
        };
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        return res;
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_widget_routes_are_cross_origin() {
        for p in [
            "/api/v1/suggest",
            "/api/v1/search",
            "/api/v1/autocomplete",
            "/api/v1/articles/card-arrival/votes",
        ] {
            assert!(cross_origin(p), "{p}");
        }
        for p in [
            "/api/v1/admin/reindex",
            "/api/v1/articles/card-arrival",
            "/admin",
            "/",
        ] {
            assert!(!cross_origin(p), "{p}");
        }
    }

    #[test]
    fn the_script_is_small() {
        assert!(WIDGET_JS.len() < 20 * 1024, "{} bytes", WIDGET_JS.len());
        assert!(
            !WIDGET_JS.contains("innerHTML"),
            "render text with textContent"
        );
    }
}
