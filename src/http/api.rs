//! The v1 JSON API: search, autocomplete, articles, health, and its OpenAPI description
//! generated from these types and handlers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::extract::ApiQuery;
use super::limits::ClientIp;
use super::{ApiError, AppState, MAX_QUERY_BYTES};
use crate::search::{MAX_LIMIT, SearchRequest, SearchResults, analysis};
use crate::store::SearchEvent;

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
    /// `false`: answer as if nothing were learned from traffic (A/B comparisons, debugging).
    pub learned: Option<bool>,
    /// Who asked, as learning counts clients (set by the server, never from the URL).
    #[serde(skip)]
    #[param(ignore)]
    pub client: Option<String>,
}

/// Query-string parameters of `GET /api/v1/articles/{slug}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewParams {
    /// The reader's session: when given, the request counts as an article view.
    pub session_id: Option<String>,
    /// The search that led here, if any (report the click itself with the clicks endpoint).
    pub search_id: Option<String>,
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
    /// The search these keystrokes belong to, when recorded (a session was given): report a
    /// chosen suggestion as a click on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_id: Option<String>,
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
    /// Why the server is not ready (readyz only, with a 503).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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

/// The document's base: its title and the schemas every route shares. The paths come from
/// the route table itself (`super::api_routes`), so a route cannot be left out.
#[derive(OpenApi)]
#[openapi(
    info(title = "Deflect help center API", version = "1"),
    components(schemas(ErrorEnvelope, ErrorBody))
)]
pub struct ApiDoc;

/// Checks the parameters every search shares: query length, session id, limit.
fn params(p: SearchParams) -> Result<SearchParams, ApiError> {
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

/// Queues the search event and returns the search's id; a session's as-you-type requests
/// share one id (see [`super::session::AsYouType`]) and the store keeps the latest query.
fn log_search(
    state: &AppState,
    session_id: &str,
    found: &SearchResults<'_>,
    client: Option<String>,
    learned: bool,
) -> String {
    let Some(events) = &state.events else {
        return state.next_search_id();
    };
    let normalized = analysis::normalize(&found.query);
    let search_id =
        state
            .typing
            .search_id(session_id, &normalized, std::time::Instant::now(), || {
                state.next_search_id()
            });
    events.record(SearchEvent {
        id: search_id.clone(),
        session_id: session_id.to_string(),
        query: found.query.clone(),
        normalized,
        result_count: i64::try_from(found.total).unwrap_or(i64::MAX),
        top_slugs: found
            .hits
            .iter()
            .take(5)
            .map(|h| h.article.slug.clone())
            .collect(),
        corrected_query: found.corrected_query.clone(),
        at: chrono::Utc::now(),
        client,
        learned: Some(learned),
    });
    search_id
}

/// The session of an API request: `session_id`, else the help center's cookie (its own
/// script calls the API), else none.
fn api_session(p: &SearchParams, headers: &HeaderMap) -> Option<String> {
    p.session_id
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| super::session::cookie(headers, super::session::SESSION_COOKIE))
}

/// Searches with what was learned, unless `learned` is false: the engine's results re-ranked,
/// and a confidently learned article the words ranked lower added with its summary as the
/// snippet (asking the engine for more results would cost their snippets on every search).
/// Returns the results and each one's learned contribution.
pub(super) fn search_learned<'a>(
    state: &AppState,
    site: &'a crate::site::Site,
    req: &SearchRequest<'_>,
    learned: bool,
) -> crate::learning::Reranked<'a> {
    let learning = state.learning.get();
    if !learned || learning.articles.is_empty() {
        let found = site.engine.search(req);
        let n = found.hits.len();
        return crate::learning::Reranked {
            results: found,
            learned: vec![0.0; n],
        };
    }
    let found = site.engine.search(req);
    crate::learning::rerank(
        &site.engine,
        found,
        &learning.articles,
        req.limit,
        req.category,
    )
}

/// Runs a search on the blocking pool: it is CPU work, kept off the async executor.
/// `record`: log it as a search event.
pub(super) async fn run_search(
    state: Arc<AppState>,
    p: SearchParams,
    record: bool,
) -> Result<SearchResponse, ApiError> {
    state
        .cpu(move |state| {
            let req = SearchRequest {
                query: &p.q,
                limit: p.limit.unwrap_or(crate::search::DEFAULT_LIMIT),
                category: p.category.as_deref(),
            };
            let site = state.site();
            let session = p.session_id.as_deref().unwrap_or_default();
            let learned = state.uses_learning(p.learned, session);
            let found = search_learned(state, &site, &req, learned).results;
            let search_id = if record {
                log_search(state, session, &found, p.client.clone(), learned)
            } else {
                state.next_search_id()
            };
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
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    let mut p = params(p)?;
    p.session_id = api_session(&p, &headers);
    p.client = state.client_key(ip);
    Ok(Json(run_search(state, p, true).await?))
}

/// Articles for a partly typed query: the last word is a prefix, typos tolerated.
#[utoipa::path(get, path = "/api/v1/autocomplete", params(SearchParams), responses(
    (status = 200, body = AutocompleteResponse),
    (status = 400, body = ErrorEnvelope),
))]
///
/// Within a session (`session_id` or the help center's cookie) these requests are searches
/// too, grouped as typed: a customer who picks a suggestion never submits the search form,
/// and an abandoned zero-result query is a content gap. Without a session they cannot be
/// grouped, so they are not recorded (each keystroke would count as a search).
pub async fn autocomplete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<AutocompleteResponse>, ApiError> {
    let p = params(p)?;
    let session = api_session(&p, &headers);
    let client = state.client_key(ip);
    let (search_id, suggestions) = state
        .cpu(move |state| {
            let req = SearchRequest {
                query: &p.q,
                limit: p.limit.unwrap_or(6).min(10),
                category: None,
            };
            let site = state.site();
            let learned = state.uses_learning(p.learned, session.as_deref().unwrap_or_default());
            let found = search_learned(state, &site, &req, learned).results;
            let search_id = match &session {
                Some(s) if !p.q.trim().is_empty() => {
                    Some(log_search(state, s, &found, client, learned))
                }
                _ => None,
            };
            let suggestions = found
                .hits
                .iter()
                .map(|h| Suggestion {
                    slug: h.article.slug.clone(),
                    title: h.article.front.title.clone(),
                    url: h.article.url(),
                })
                .collect::<Vec<_>>();
            (search_id, suggestions)
        })
        .await?;
    Ok(Json(AutocompleteResponse {
        search_id,
        suggestions,
    }))
}

/// One published article: metadata, rendered HTML and its quick answer.
#[utoipa::path(get, path = "/api/v1/articles/{slug}", params(("slug" = String, Path, description = "the article's slug"), ViewParams), responses(
    (status = 200, body = ArticleResponse),
    (status = 404, body = ErrorEnvelope),
))]
pub async fn article(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    ApiQuery(view): ApiQuery<ViewParams>,
) -> Result<Json<ArticleResponse>, ApiError> {
    let site = state.site();
    let a = site
        .engine
        .article(&slug)
        .ok_or_else(|| ApiError::NotFound(format!("no published article `{slug}`")))?;
    if let Some(session_id) = view.session_id.filter(|s| !s.is_empty()) {
        if session_id.len() > 128 || session_id.chars().any(char::is_control) {
            return Err(ApiError::BadRequest(
                "session_id must be 1 to 128 printable characters".into(),
            ));
        }
        let search_id = view.search_id.filter(|s| super::session::is_search_id(s));
        super::session::viewed(&state, &session_id, &a.slug, search_id);
    }
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
        html: article_html(&state, a),
    }))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        articles: None,
        reason: None,
    })
}

/// The index is loaded and searches can be served.
/// Ready when the index is loaded and the database (when there is one) answers. While the
/// database is unreachable it is 503 with the reason: search is still served, but votes,
/// tickets and analytics are not, so a load balancer should prefer another replica.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, body = Health),
    (status = 503, body = Health, description = "the database does not answer"),
))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Health>) {
    let articles = Some(state.site().engine.articles().len());
    if let Some(store) = &state.store
        && let Err(e) = store.ping().await
    {
        tracing::warn!(
            "readyz: the {} database does not answer: {e}",
            store.backend()
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable".into(),
                articles,
                reason: Some(format!(
                    "the {} database does not answer: search is served; votes, tickets and analytics are not",
                    store.backend()
                )),
            }),
        );
    }
    (
        StatusCode::OK,
        Json(Health {
            status: "ready".into(),
            articles,
            reason: None,
        }),
    )
}

/// The OpenAPI description of this API, generated from the route table.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "this document")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(super::openapi_doc().clone())
}

/// An article's body as HTML, rendered from its file (see `Article::html`); while the file is
/// gone or broken, before the watcher's reload catches up, a line saying so.
pub(super) fn article_html(state: &AppState, a: &crate::content::Article) -> String {
    a.html(state.live.dir()).unwrap_or_else(|| {
        tracing::warn!(slug = %a.slug, path = %a.path.display(), "the article's file is gone or has no front matter; serving a notice until the reload");
        "<p>This article is being updated: reload the page in a moment.</p>".to_string()
    })
}
