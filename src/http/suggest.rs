//! `POST /api/v1/suggest`: the in-app widget's question → an answer, a few articles, or a
//! hand-off to a human with a prefilled ticket link. Every reply is recorded in the session's
//! trail.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::feedback::{ApiJson, new_session_id};
use super::{ApiError, AppState, MAX_QUERY_BYTES};
use crate::content::Article;
use crate::store::SuggestEvent;
use crate::suggest::{Action, Context, HandoffReason, SuggestConfig, suggest, suggest_learned};

const MAX_PAGE_BYTES: usize = 2048;
const MAX_TIER_CHARS: usize = 64;
const MAX_SESSION_CHARS: usize = 128;
/// The hand-off link's subject is the message's start.
const SUBJECT_CHARS: usize = 80;

/// `POST /api/v1/suggest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestRequest {
    /// What the customer typed.
    pub message: String,
    /// The widget's anonymous session, connecting this to searches, votes and a ticket.
    pub session_id: Option<String>,
    pub context: Option<Context>,
    /// `false`: answer as if nothing were learned from traffic (A/B comparisons, debugging).
    pub learned: Option<bool>,
}

/// The answer: the article's Quick answer (without one, its first paragraph or summary).
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerBody {
    pub slug: String,
    pub title: String,
    pub url: String,
    /// The Quick answer as plain text.
    pub text: String,
    /// The same text as safe HTML (escaped, one `<p>` per paragraph).
    pub html: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedArticle {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Handoff {
    /// `greeting`, `thanks`, `about_the_bot`, `gibberish`, `no_match`, `low_confidence` or `customer_tier`.
    pub reason: String,
    /// The contact form, prefilled with the message.
    pub ticket_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestResponse {
    /// Identifies this reply in the session's trail.
    pub id: String,
    pub session_id: String,
    /// `answer`, `suggest` or `handoff`.
    pub action: String,
    /// The probability (0..1) that the first article answers the message; 0 for small talk.
    pub confidence: f64,
    /// A sentence to show the customer with a hand-off (greeting, rephrase prompt, ...).
    pub reply: Option<String>,
    pub answer: Option<AnswerBody>,
    /// Articles worth reading, best first (the answer's article first).
    pub articles: Vec<SuggestedArticle>,
    pub handoff: Option<Handoff>,
}

fn answer_body(a: &Article) -> AnswerBody {
    let text = a.answer_text().to_string();
    let html = text
        .split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .fold(String::new(), |mut html, p| {
            html.push_str("<p>");
            crate::search::snippet::escape_html(p, &mut html);
            html.push_str("</p>");
            html
        });
    AnswerBody {
        slug: a.slug.clone(),
        title: a.front.title.clone(),
        url: a.url(),
        text,
        html,
    }
}

/// The contact form's URL, prefilled with the message.
pub fn ticket_url(cfg: &SuggestConfig, message: &str) -> String {
    let subject: String = message.chars().take(SUBJECT_CHARS).collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("subject", subject.trim())
        .append_pair("description", message)
        .finish();
    format!("{}?{query}", cfg.contact_path)
}

fn validate(body: &SuggestRequest) -> Result<(), ApiError> {
    if body.message.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "message is empty: send what the customer typed".into(),
        ));
    }
    if body.message.len() > MAX_QUERY_BYTES {
        return Err(ApiError::QueryTooLong(format!(
            "the message is {} bytes long; the limit is {MAX_QUERY_BYTES}",
            body.message.len()
        )));
    }
    if let Some(s) = &body.session_id
        && (s.is_empty()
            || s.chars().count() > MAX_SESSION_CHARS
            || s.chars().any(char::is_control))
    {
        return Err(ApiError::BadRequest(format!(
            "session_id must be 1 to {MAX_SESSION_CHARS} printable characters"
        )));
    }
    if let Some(c) = &body.context {
        if c.page.as_ref().is_some_and(|p| p.len() > MAX_PAGE_BYTES) {
            return Err(ApiError::BadRequest(format!(
                "context.page is longer than {MAX_PAGE_BYTES} bytes"
            )));
        }
        if c.customer_tier
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TIER_CHARS)
        {
            return Err(ApiError::BadRequest(format!(
                "context.customer_tier is longer than {MAX_TIER_CHARS} characters"
            )));
        }
    }
    Ok(())
}

/// Answers, suggests articles or hands off to a human.
#[utoipa::path(post, path = "/api/v1/suggest", request_body = SuggestRequest, responses(
    (status = 200, body = SuggestResponse),
    (status = 400, description = "empty or over-long message, bad JSON", body = super::api::ErrorEnvelope),
    (status = 413, body = super::api::ErrorEnvelope),
    (status = 429, description = "rate limited; see Retry-After", body = super::api::ErrorEnvelope),
))]
pub async fn suggest_handler(
    State(state): State<Arc<AppState>>,
    super::limits::ClientIp(ip): super::limits::ClientIp,
    ApiJson(body): ApiJson<SuggestRequest>,
) -> Result<Json<SuggestResponse>, ApiError> {
    validate(&body)?;
    if let Some(ip) = ip {
        state.widget_limits.ip.check(&ip.to_string())?;
    }
    if let Some(s) = &body.session_id {
        state.widget_limits.session.check(s)?;
    }
    let session_id = body.session_id.clone().unwrap_or_else(new_session_id);
    let client = state.client_key(ip);
    state
        .cpu(move |state| {
            let cfg = &state.config.suggest;
            let site = state.site();
            let ctx = body.context.unwrap_or_default();
            let learned = state.uses_learning(body.learned, &session_id);
            let learning = state.learning.get();
            let s = if learned {
                suggest_learned(&site.engine, &body.message, &ctx, cfg, &learning.articles)
            } else {
                suggest(&site.engine, &body.message, &ctx, cfg)
            };
            let id = state.next_search_id();
            if let Some(events) = &state.events {
                events.record(SuggestEvent {
                    id: id.clone(),
                    session_id: session_id.clone(),
                    message: body.message.clone(),
                    action: s.action.as_str().to_string(),
                    confidence: s.confidence,
                    slug: s.articles.first().map(|a| a.slug.clone()),
                    at: chrono::Utc::now(),
                    client: client.clone(),
                    learned: Some(learned),
                });
            }
            let reason: Option<HandoffReason> = s.handoff;
            SuggestResponse {
                id,
                session_id,
                action: s.action.as_str().to_string(),
                confidence: (s.confidence * 1000.0).round() / 1000.0,
                reply: reason.map(|r| r.reply().to_string()),
                answer: (s.action == Action::Answer)
                    .then(|| s.articles.first().map(|a| answer_body(a)))
                    .flatten(),
                articles: s
                    .articles
                    .iter()
                    .map(|a| SuggestedArticle {
                        slug: a.slug.clone(),
                        title: a.front.title.clone(),
                        url: a.url(),
                        summary: a.front.summary.clone(),
                    })
                    .collect(),
                handoff: reason.map(|r| Handoff {
                    reason: r.as_str().to_string(),
                    ticket_url: ticket_url(cfg, &body.message),
                }),
            }
        })
        .await
        .map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticket_link_carries_the_message_encoded() {
        let url = ticket_url(&SuggestConfig::default(), "Card & PIN? <b>help</b>");
        assert_eq!(
            url,
            "/contact?subject=Card+%26+PIN%3F+%3Cb%3Ehelp%3C%2Fb%3E&description=Card+%26+PIN%3F+%3Cb%3Ehelp%3C%2Fb%3E"
        );
    }

    /// The escaping `answer_body` uses.
    fn escape(text: &str) -> String {
        let mut out = String::new();
        crate::search::snippet::escape_html(text, &mut out);
        out
    }

    #[test]
    fn answer_html_is_escaped() {
        assert_eq!(escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
    }
}
