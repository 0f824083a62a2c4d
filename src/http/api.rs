//! The v1 JSON API: search, autocomplete, articles, health, and its OpenAPI description
//! generated from these types and handlers.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiError, AppState, MAX_QUERY_BYTES};
use crate::search::{MAX_LIMIT, SearchRequest, analysis};
use crate::store::SearchEvent;

/// A query's words, lowercased and folded: how searches are grouped in reports.
fn normalize(query: &str) -> String {
    analysis::words(query)
        .into_iter()
        .map(|w| w.text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Query-string parameters of search and autocomplete.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The customer's words, as typed.
    #[serde(default)]
    pub q: String,
    /// Results wanted, 1 to 100 (default 10).
    pub limit: Option<usize>,
    /// Only articles in this category (folder path), subcategories included.
    pub category: Option<String>,
    /// The widget's or page's anonymous session, to connect searches, clicks and votes.
    pub session_id: Option<String>,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub summary: String,
    /// HTML-escaped text with `<mark>` around what matched.
    pub snippet: String,
    pub category: String,
    pub score: f32,
}

/// A search's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    /// Identifies this search, e.g. for reporting clicks.
    pub search_id: String,
    pub query: String,
    /// How many articles matched in all.
    pub total: usize,
    /// The spelling the results are for, when the query looked misspelled.
    pub corrected_query: Option<String>,
    pub results: Vec<SearchResult>,
}

/// An as-you-type suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub slug: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutocompleteResponse {
    pub suggestions: Vec<Suggestion>,
}

/// A published article.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleResponse {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub summary: String,
    pub category: String,
    /// YYYY-MM-DD.
    pub last_reviewed: String,
    pub ticket_types: Vec<String>,
    pub tags: Vec<String>,
    pub related: Vec<String>,
    /// The `## Quick answer` text.
    pub quick_answer: Option<String>,
    /// The rendered body.
    pub html: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// Published articles in the index (readyz only).
    pub articles: Option<usize>,
}

/// The error envelope of every 4xx/5xx response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `query_too_long`.
    pub code: String,
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Deflect help center API", version = "1"),
    paths(
        search,
        autocomplete,
        article,
        healthz,
        readyz,
        super::admin::reindex,
        super::suggest::suggest_handler
    ),
    components(schemas(
        SearchResponse,
        SearchResult,
        AutocompleteResponse,
        Suggestion,
        ArticleResponse,
        Health,
        ErrorEnvelope,
        ErrorBody,
        super::suggest::SuggestRequest,
        super::suggest::SuggestResponse,
        super::suggest::AnswerBody,
        super::suggest::SuggestedArticle,
        super::suggest::Handoff,
        crate::suggest::Context
    ))
)]
pub struct ApiDoc;

fn params(p: Result<Query<SearchParams>, QueryRejection>) -> Result<SearchParams, ApiError> {
    let Query(p) =
        p.map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))?;
    if p.q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::QueryTooLong(format!(
            "the query is {} bytes long; the limit is {MAX_QUERY_BYTES}",
            p.q.len()
        )));
    }
    if p.session_id.as_ref().is_some_and(|s| s.len() > 128) {
        return Err(ApiError::BadRequest(
            "session_id is longer than 128 characters".into(),
        ));
    }
    if p.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(p)
}

/// Runs a search on the blocking pool: it is CPU work, kept off the async executor.
pub(super) async fn run_search(
    state: Arc<AppState>,
    p: SearchParams,
) -> Result<SearchResponse, ApiError> {
    state
        .cpu(move |state| {
            let req = SearchRequest {
                query: &p.q,
                limit: p.limit.unwrap_or(crate::search::DEFAULT_LIMIT),
                category: p.category.as_deref(),
            };
            let site = state.site();
            let found = site.engine.search(&req);
            let search_id = state.next_search_id();
            if let Some(events) = &state.events {
                events.record(SearchEvent {
                    id: search_id.clone(),
                    session_id: p.session_id.clone().unwrap_or_default(),
                    query: found.query.clone(),
                    normalized: normalize(&found.query),
                    result_count: i64::try_from(found.total).unwrap_or(i64::MAX),
                    top_slugs: found
                        .hits
                        .iter()
                        .take(5)
                        .map(|h| h.article.slug.clone())
                        .collect(),
                    corrected_query: found.corrected_query.clone(),
                    at: chrono::Utc::now(),
                });
            }
            SearchResponse {
                search_id,
                query: found.query,
                total: found.total,
                corrected_query: found.corrected_query,
                results: found
                    .hits
                    .into_iter()
                    .map(|h| SearchResult {
                        slug: h.article.slug.clone(),
                        title: h.article.front.title.clone(),
                        url: h.article.url(),
                        summary: h.article.front.summary.clone(),
                        snippet: h.snippet,
                        category: h.article.category.clone(),
                        score: h.score,
                    })
                    .collect(),
            }
        })
        .await
}

/// Searches the published articles.
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses(
    (status = 200, body = SearchResponse),
    (status = 400, description = "bad parameters or a query over 1024 bytes", body = ErrorEnvelope),
))]
pub async fn search(
    State(state): State<Arc<AppState>>,
    p: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    Ok(Json(run_search(state, params(p)?).await?))
}

/// Articles for a partly typed query: the last word is a prefix, typos tolerated.
#[utoipa::path(get, path = "/api/v1/autocomplete", params(SearchParams), responses(
    (status = 200, body = AutocompleteResponse),
    (status = 400, body = ErrorEnvelope),
))]
pub async fn autocomplete(
    State(state): State<Arc<AppState>>,
    p: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<AutocompleteResponse>, ApiError> {
    let p = params(p)?;
    let suggestions = state
        .cpu(move |state| {
            let req = SearchRequest {
                query: &p.q,
                limit: p.limit.unwrap_or(6).min(10),
                category: None,
            };
            state
                .site()
                .engine
                .search(&req)
                .hits
                .iter()
                .map(|h| Suggestion {
                    slug: h.article.slug.clone(),
                    title: h.article.front.title.clone(),
                    url: h.article.url(),
                })
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(AutocompleteResponse { suggestions }))
}

/// One published article: metadata, rendered HTML and its quick answer.
#[utoipa::path(get, path = "/api/v1/articles/{slug}", params(("slug" = String, Path, description = "the article's slug")), responses(
    (status = 200, body = ArticleResponse),
    (status = 404, body = ErrorEnvelope),
))]
pub async fn article(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
) -> Result<Json<ArticleResponse>, ApiError> {
    let site = state.site();
    let a = site
        .engine
        .article(&slug)
        .ok_or_else(|| ApiError::NotFound(format!("no published article `{slug}`")))?;
    Ok(Json(ArticleResponse {
        slug: a.slug.clone(),
        title: a.front.title.clone(),
        url: a.url(),
        summary: a.front.summary.clone(),
        category: a.category.clone(),
        last_reviewed: a.front.last_reviewed.to_string(),
        ticket_types: a.front.ticket_types.clone(),
        tags: a.front.tags.clone(),
        related: a.front.related.clone(),
        quick_answer: a.quick_answer.clone(),
        html: a.html.clone(),
    }))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        articles: None,
    })
}

/// The index is loaded and searches can be served.
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = Health)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Json<Health> {
    Json(Health {
        status: "ready".into(),
        articles: Some(state.site().engine.articles().len()),
    })
}

/// The OpenAPI description of this API.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
