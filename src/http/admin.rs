//! Admin endpoints behind a bearer token, and the metrics exposition.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// Proof that the request carried the admin token.
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = &state.config.admin_token else {
            return Err(ApiError::Unauthorized(
                "admin is disabled: set DEFLECT_ADMIN_TOKEN to enable it".into(),
            ));
        };
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if token.matches(given.trim()) {
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
    let result = state.cpu(|s| s.live.reload(crate::cli::today())).await?;
    state.metrics.reloaded(result.is_ok());
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
