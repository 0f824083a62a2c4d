//! What customers tell us: helpfulness votes (API and the article page's form) and result
//! clicks. A `201` means the vote is committed; without a working database the customer is
//! told to retry, never falsely thanked.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::extract::ApiJson;
use super::{ApiError, AppState};
use crate::store::{Click, Store, Vote, VoteReason};

/// Longest accepted comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
const MAX_ID_CHARS: usize = 128;
use super::session::Session;
pub use super::session::{SESSION_COOKIE, cookie, new_session_id};

/// `POST /api/v1/articles/{slug}/votes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    pub helpful: bool,
    pub reason: Option<VoteReason>,
    pub comment: Option<String>,
    pub session_id: Option<String>,
    /// The search that led to the article.
    pub search_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoteResponse {
    pub slug: String,
    pub helpful: bool,
    pub session_id: String,
}

/// `POST /api/v1/search/{search_id}/clicks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickRequest {
    pub slug: String,
    /// 1-based position of the result.
    pub position: Option<i64>,
    pub session_id: Option<String>,
}

fn store(state: &AppState) -> Result<&Store, ApiError> {
    state
        .store
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("no database is configured".into()))
}

fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{what} must be 1 to {MAX_ID_CHARS} printable characters"
        )));
    }
    Ok(())
}

/// The session from the body, else the cookie, else a new one.
fn session(given: Option<String>, headers: &HeaderMap) -> Result<String, ApiError> {
    let id = given
        .or_else(|| cookie(headers, SESSION_COOKIE))
        .unwrap_or_else(new_session_id);
    check_id("session_id", &id)?;
    Ok(id)
}

fn published(state: &AppState, slug: &str) -> Result<(), ApiError> {
    if state.site().engine.article(slug).is_some() {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no published article `{slug}`")))
    }
}

async fn save_vote(state: &AppState, vote: Vote) -> Result<(), ApiError> {
    store(state)?
        .record_vote(&vote)
        .await
        .map_err(ApiError::from)
}

/// Records a "Was this helpful?" vote; the session's later vote on the article replaces it.
#[utoipa::path(post, path = "/api/v1/articles/{slug}/votes", request_body = VoteRequest, params(("slug" = String, Path)), responses(
    (status = 201, body = VoteResponse, description = "committed"),
    (status = 400, body = super::api::ErrorEnvelope),
    (status = 404, body = super::api::ErrorEnvelope),
    (status = 503, body = super::api::ErrorEnvelope, description = "not stored; retry"),
))]
pub async fn vote(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VoteRequest>,
) -> Result<(StatusCode, Json<VoteResponse>), ApiError> {
    published(&state, &slug)?;
    let session_id = session(body.session_id, &headers)?;
    if let Some(id) = &body.search_id {
        check_id("search_id", id)?;
    }
    let comment = body
        .comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(ApiError::BadRequest(format!(
            "comment is longer than {MAX_COMMENT_CHARS} characters"
        )));
    }
    let helpful = body.helpful;
    save_vote(
        &state,
        Vote {
            session_id: session_id.clone(),
            slug: slug.clone(),
            helpful,
            reason: if helpful { None } else { body.reason },
            comment,
            search_id: body.search_id,
            at: Utc::now(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(VoteResponse {
            slug,
            helpful,
            session_id,
        }),
    ))
}

/// Records that the customer opened a search result.
#[utoipa::path(post, path = "/api/v1/search/{search_id}/clicks", request_body = ClickRequest, params(("search_id" = String, Path)), responses(
    (status = 204, description = "recorded"),
    (status = 400, body = super::api::ErrorEnvelope),
    (status = 404, body = super::api::ErrorEnvelope),
))]
pub async fn click(
    State(state): State<Arc<AppState>>,
    Path(search_id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ClickRequest>,
) -> Result<StatusCode, ApiError> {
    check_id("search_id", &search_id)?;
    if body.position.is_some_and(|p| p < 1) {
        return Err(ApiError::BadRequest(
            "position is the result's 1-based place in the list: 1 or more".into(),
        ));
    }
    published(&state, &body.slug)?;
    let session_id = session(body.session_id, &headers)?;
    state.typing.close(&session_id);
    if !state.config.analytics.record {
        return Ok(StatusCode::NO_CONTENT);
    }
    let store = store(&state)?;
    if !state.issued_search(&search_id) && !store.search_exists(&search_id).await? {
        return Err(ApiError::NotFound(format!(
            "no search `{search_id}`: post clicks with the search_id a search returned"
        )));
    }
    store
        .record_click(&Click {
            search_id,
            slug: body.slug,
            position: body.position,
            session_id,
            at: Utc::now(),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The article page's "Was this helpful?" form.
#[derive(Debug, Deserialize)]
pub struct FeedbackForm {
    pub helpful: bool,
    pub reason: Option<VoteReason>,
    /// The search that led to the article (`?s=` on the article page).
    pub s: Option<String>,
}

/// Stores the form's vote and returns to the article, which then thanks the customer or,
/// after a "No", asks why and offers the ticket path.
pub async fn feedback_form(
    State(state): State<Arc<AppState>>,
    Path(slug): Path<String>,
    session: Session,
    Form(form): Form<FeedbackForm>,
) -> Response {
    if let Err(e) = published(&state, &slug) {
        return e.into_response();
    }
    let search_id = form.s.filter(|s| super::session::is_search_id(s));
    let vote = Vote {
        session_id: session.id,
        slug: slug.clone(),
        helpful: form.helpful,
        reason: if form.helpful { None } else { form.reason },
        comment: None,
        search_id: search_id.clone(),
        at: Utc::now(),
    };
    if let Err(e) = save_vote(&state, vote).await {
        return e.into_response();
    }
    let answer = match (form.helpful, form.reason) {
        (true, _) => "yes".to_string(),
        (false, Some(r)) => format!("no&reason={}", r.as_str()),
        (false, None) => "no".to_string(),
    };
    let from = search_id.map(|s| format!("&s={s}")).unwrap_or_default();
    Redirect::to(&format!(
        "/articles/{slug}?feedback={answer}{from}#feedback"
    ))
    .into_response()
}
