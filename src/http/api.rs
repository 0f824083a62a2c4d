//! The v1 JSON API: search, autocomplete, articles, health.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, MAX_QUERY_BYTES};
use crate::search::{MAX_LIMIT, SearchRequest};

#[derive(Debug, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    pub limit: Option<usize>,
    pub category: Option<String>,
}

fn params(p: Result<Query<SearchParams>, QueryRejection>) -> Result<SearchParams, ApiError> {
    let Query(p) =
        p.map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))?;
    if p.q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::QueryTooLong(format!(
            "the query is {} bytes long; the limit is {MAX_QUERY_BYTES}",
            p.q.len()
        )));
    }
    if p.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(p)
}

/// Runs a search on the blocking pool: it is CPU work, kept off the async executor.
pub(super) async fn run_search(state: Arc<AppState>, p: SearchParams) -> Result<Value, ApiError> {
    tokio::task::spawn_blocking(move || {
        let req = SearchRequest {
            query: &p.q,
            limit: p.limit.unwrap_or(crate::search::DEFAULT_LIMIT),
            category: p.category.as_deref(),
        };
        let site = state.site();
        let found = site.engine.search(&req);
        json!({
            "search_id": state.next_search_id(),
            "query": found.query,
            "total": found.total,
            "corrected_query": found.corrected_query,
            "results": found.hits.iter().map(|h| json!({
                "slug": h.article.slug,
                "title": h.article.front.title,
                "url": h.article.url(),
                "summary": h.article.front.summary,
                "snippet": h.snippet,
                "category": h.article.category,
                "score": h.score,
            })).collect::<Vec<_>>(),
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("search task failed: {e}")))
}

pub async fn search(
    State(state): State<Arc<AppState>>,
    p: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(run_search(state, params(p)?).await?))
}

pub async fn autocomplete(
    State(state): State<Arc<AppState>>,
    p: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let p = params(p)?;
    let suggestions = tokio::task::spawn_blocking(move || {
        let req = SearchRequest { query: &p.q, limit: p.limit.unwrap_or(6).min(10), category: None };
        state
            .site()
            .engine
            .search(&req)
            .hits
            .iter()
            .map(|h| json!({"slug": h.article.slug, "title": h.article.front.title, "url": h.article.url()}))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("autocomplete task failed: {e}")))?;
    Ok(Json(json!({ "suggestions": suggestions })))
}

pub async fn article(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let site = state.site();
    let a = site
        .engine
        .articles()
        .iter()
        .find(|a| a.slug == slug)
        .ok_or_else(|| ApiError::NotFound(format!("no published article `{slug}`")))?;
    Ok(Json(json!({
        "slug": a.slug,
        "title": a.front.title,
        "url": a.url(),
        "summary": a.front.summary,
        "category": a.category,
        "last_reviewed": a.front.last_reviewed,
        "ticket_types": a.front.ticket_types,
        "tags": a.front.tags,
        "related": a.front.related,
        "quick_answer": a.quick_answer,
        "html": a.html,
    })))
}

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"status": "ready", "articles": state.site().engine.articles().len()}))
}
