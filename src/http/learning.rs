//! Learning over HTTP: retrain now, the models' state, the KB manager's "learned phrasings"
//! page with a way to reject a learned wording, and the A/B comparison of searches with and
//! without learning.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::{Admin, AdminPage};
use super::extract::{ApiJson, PageQuery};
use super::{ApiError, AppState};
use crate::learning::LearnedStats;
use crate::learning::phrasings::ArticlePhrasings;
use crate::store::learning::LearningGroup;

/// The A/B comparison looks this far back.
const AB_DAYS: i64 = 30;
/// Wordings of each kind shown per article.
const PER_ARTICLE: usize = 8;

/// `GET /api/v1/admin/learning`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearningState {
    /// `[learning] enabled`.
    pub enabled: bool,
    pub half_life_days: f64,
    pub min_support: u32,
    /// Share of sessions served without learning (the A/B control group).
    pub ab_control_share: f64,
    /// The live models (all zero before the first training).
    pub model: LearnedStats,
    /// Searches with and without learning over the last 30 days.
    pub ab: Vec<LearningGroup>,
}

/// Retrains from the store now and answers once the new models are live.
#[utoipa::path(post, path = "/api/v1/admin/learning/retrain", security(("bearer" = [])), responses(
    (status = 200, body = LearnedStats, description = "the new models are live: `{examples, sessions, articles, took_ms, ...}`"),
    (status = 401, body = super::api::ErrorEnvelope),
    (status = 503, body = super::api::ErrorEnvelope, description = "the store could not be read"),
))]
pub async fn retrain(
    _: Admin,
    State(state): State<Arc<AppState>>,
) -> Result<Json<LearnedStats>, ApiError> {
    Ok(Json(state.retrain().await?))
}

async fn current(state: &AppState) -> Result<LearningState, ApiError> {
    let c = &state.config.learning;
    let ab = match &state.store {
        Some(store) => {
            store
                .learning_ab(chrono::Utc::now() - chrono::Duration::days(AB_DAYS))
                .await?
        }
        None => Vec::new(),
    };
    Ok(LearningState {
        enabled: c.enabled,
        half_life_days: c.half_life_days,
        min_support: c.min_support,
        ab_control_share: c.ab_control_share,
        model: state.learning.get().stats.clone(),
        ab,
    })
}

/// What learning knows now, and what it is worth: searches with and without it.
#[utoipa::path(get, path = "/api/v1/admin/learning", security(("bearer" = [])), responses(
    (status = 200, body = LearningState),
    (status = 401, body = super::api::ErrorEnvelope),
))]
pub async fn get_state(
    _: Admin,
    State(state): State<Arc<AppState>>,
) -> Result<Json<LearningState>, ApiError> {
    Ok(Json(current(&state).await?))
}

/// The learned phrasings, computed from the store's evidence and the live model.
async fn phrasings(state: &Arc<AppState>) -> Result<Vec<ArticlePhrasings>, ApiError> {
    let store = state
        .store
        .clone()
        .ok_or_else(|| ApiError::Unavailable("no database is configured".into()))?;
    let since =
        chrono::Utc::now() - chrono::Duration::days(i64::from(state.config.learning.history_days));
    let traffic = store.traffic(since, 50_000).await?;
    state
        .cpu(move |s| {
            let site = s.site();
            let ex = crate::learning::signals::examples(
                &traffic,
                &crate::learning::signals::Articles::of(&site.kb),
            );
            crate::learning::phrasings::phrasings(
                &ex.articles,
                &s.learning.get().articles,
                &site.engine,
                PER_ARTICLE,
            )
        })
        .await
}

/// Per article: the wordings that now lead to it, and those drifting elsewhere.
#[utoipa::path(get, path = "/api/v1/admin/learning/phrasings", security(("bearer" = [])), responses(
    (status = 200, description = "`{articles: [{slug, title, leading: [...], drifting: [...]}]}`"),
    (status = 401, body = super::api::ErrorEnvelope),
))]
pub async fn get_phrasings(
    _: Admin,
    State(state): State<Arc<AppState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let p = phrasings(&state).await?;
    Ok(Json(serde_json::json!({ "articles": p })))
}

/// `POST /api/v1/admin/learning/rejections`: never learn this wording for this article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub slug: String,
    pub wording: String,
}

/// Checks a rejection: a published article and a wording of 1 to 512 printable characters.
fn check_rejection(state: &AppState, r: &RejectRequest) -> Result<(), ApiError> {
    if state.site().engine.article(&r.slug).is_none() {
        return Err(ApiError::Invalid {
            field: "slug",
            message: format!(
                "no published article `{}`",
                r.slug.chars().take(64).collect::<String>()
            ),
        });
    }
    let w = r.wording.trim();
    if w.is_empty() || w.chars().count() > 512 || w.chars().any(char::is_control) {
        return Err(ApiError::Invalid {
            field: "wording",
            message: "wording must be 1 to 512 printable characters".into(),
        });
    }
    Ok(())
}

async fn reject(state: &Arc<AppState>, r: &RejectRequest) -> Result<LearnedStats, ApiError> {
    check_rejection(state, r)?;
    let store = state
        .store
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("no database is configured".into()))?;
    store.reject(&r.slug, r.wording.trim()).await?;
    tracing::info!(slug = %r.slug, "learning: a wording was rejected");
    state.retrain().await
}

/// Rejects a learned wording for an article, then retrains (answers once it is live).
#[utoipa::path(post, path = "/api/v1/admin/learning/rejections", security(("bearer" = [])), request_body = RejectRequest, responses(
    (status = 200, body = LearnedStats, description = "rejected; the retrained models are live"),
    (status = 401, body = super::api::ErrorEnvelope),
    (status = 422, body = super::api::ErrorEnvelope),
))]
pub async fn post_rejection(
    _: Admin,
    State(state): State<Arc<AppState>>,
    ApiJson(r): ApiJson<RejectRequest>,
) -> Result<Json<LearnedStats>, ApiError> {
    Ok(Json(reject(&state, &r).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageMessage {
    pub error: Option<String>,
    pub done: Option<String>,
    /// A search to try: its results with learning, each with the learned contribution.
    pub q: Option<String>,
}

/// One row of the page's search: a result with and without learning.
#[derive(Debug, Serialize)]
struct Tried {
    slug: String,
    title: String,
    score: f32,
    learned: f32,
    /// Its rank from the words alone (1-based), if it was there.
    engine_rank: Option<usize>,
}

/// The page's "try a search": results with learning, and where the words alone put them.
async fn try_search(state: &Arc<AppState>, q: String) -> Result<Vec<Tried>, ApiError> {
    state
        .cpu(move |s| {
            let site = s.site();
            let q: String = q.chars().take(super::MAX_QUERY_BYTES).collect();
            let req = crate::search::SearchRequest {
                query: &q,
                limit: 10,
                category: None,
            };
            let plain = site.engine.search(&req);
            let r = super::api::search_learned(s, &site, &req, true);
            r.results
                .hits
                .iter()
                .zip(&r.learned)
                .map(|(h, l)| Tried {
                    slug: h.article.slug.clone(),
                    title: h.article.front.title.clone(),
                    score: h.score,
                    learned: *l,
                    engine_rank: plain
                        .hits
                        .iter()
                        .position(|p| p.article.slug == h.article.slug)
                        .map(|i| i + 1),
                })
                .collect()
        })
        .await
}

/// `/admin/learning`: the models, the A/B comparison and the learned phrasings.
pub async fn page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    PageQuery(msg): PageQuery<PageMessage>,
) -> Response {
    let (st, p) = match (current(&state).await, phrasings(&state).await) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let q = msg.q.filter(|q| !q.trim().is_empty());
    let tried = match &q {
        Some(q) => match try_search(&state, q.clone()).await {
            Ok(t) => Some(t),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let rate = |n: i64, d: i64| {
        if d == 0 {
            "–".to_string()
        } else {
            format!("{:.1} %", 100.0 * n as f64 / d as f64)
        }
    };
    let ab: Vec<_> = st
        .ab
        .iter()
        .map(|g| {
            context! {
                group => if g.learned { "with learning" } else { "without (control)" },
                searches => g.searches,
                click_through => rate(g.clicked, g.searches),
                deflection => rate(g.deflected_sessions, g.sessions),
                helpful => rate(g.helpful_votes, g.votes),
            }
        })
        .collect();
    super::templates::render(
        &state,
        "admin_learning.html",
        context! {
            site_name => &state.config.site_name,
            logged_in => true,
            s => minijinja::Value::from(minijinja::value::Serde(&st)),
            ab,
            articles => minijinja::Value::from(minijinja::value::Serde(&p)),
            error => msg.error,
            done => msg.done,
            q,
            tried => tried.map(|t| minijinja::Value::from(minijinja::value::Serde(t))),
        },
    )
}

/// The page's "reject" buttons; back to the page with what happened.
pub async fn reject_form(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    Form(r): Form<RejectRequest>,
) -> Response {
    match reject(&state, &r).await {
        Ok(_) => Redirect::to("/admin/learning?done=rejected").into_response(),
        Err(e) => Redirect::to(&format!(
            "/admin/learning?error={}",
            super::admin::urlencode(&e.to_string())
        ))
        .into_response(),
    }
}
