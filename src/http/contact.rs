//! The contact page: the customer describes the problem, matching articles appear first (a
//! pre-ticket search, logged as a search); "This answered my question" ends the flow as
//! deflected; otherwise the ticket is filed under the visitor's session so its trail links up.

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::extract::PageQuery;
use super::feedback::{SESSION_COOKIE, cookie, new_session_id};
use super::tickets::ClientIp;
use super::{ApiError, AppState};
use crate::tickets::{MAX_DESCRIPTION_CHARS, MAX_SUBJECT_CHARS, TicketError, TicketRequest};

const SCRIPT: &str = include_str!("../../assets/contact.js");
/// Articles shown before the ticket is sent.
const SUGGESTIONS: usize = 4;

/// `?subject=&description=&article=&reason=&q=`: where the visitor came from.
#[derive(Debug, Default, Deserialize)]
pub struct Prefill {
    pub subject: Option<String>,
    pub description: Option<String>,
    /// The article voted "No" on.
    pub article: Option<String>,
    pub reason: Option<String>,
    /// The help center search that did not help.
    pub q: Option<String>,
}

/// The form as posted (every field optional so problems become messages, not rejections).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ContactForm {
    pub email: String,
    pub subject: String,
    pub description: String,
    pub customer_tier: String,
    /// The honeypot: hidden from people, filled by bots.
    pub website: String,
    /// Set once matching articles were shown (by the page's script or the server's check).
    pub checked: String,
    pub article: String,
}

#[derive(Debug, Serialize)]
struct Suggestion {
    slug: String,
    title: String,
    url: String,
    summary: String,
}

fn clip(s: Option<String>, max: usize) -> String {
    s.unwrap_or_default().chars().take(max).collect()
}

/// The visitor's session, and a `Set-Cookie` when it is new.
fn session(headers: &HeaderMap, state: &AppState) -> (String, Option<HeaderValue>) {
    if let Some(s) = cookie(headers, SESSION_COOKIE) {
        return (s, None);
    }
    let s = new_session_id();
    let v = super::session::set_cookie(state, &s);
    (s, v)
}

fn with_cookie(mut res: Response, set: Option<HeaderValue>) -> Response {
    if let Some(v) = set {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

fn tiers(state: &AppState) -> Vec<String> {
    state
        .config
        .triage
        .tier_multipliers
        .keys()
        .cloned()
        .collect()
}

fn page(
    state: &AppState,
    form: &ContactForm,
    session_id: &str,
    error: Option<&(&str, String)>,
    suggestions: &[Suggestion],
    context_note: Option<String>,
) -> Response {
    super::templates::render(
        state,
        "contact.html",
        context! {
            site_name => &state.config.site_name,
            form => ser(form),
            session_id,
            tiers => tiers(state),
            error_field => error.map(|e| e.0),
            error => error.map(|e| e.1.clone()),
            suggestions => ser(&suggestions),
            context_note,
        },
    )
}

/// `GET /contact`, prefilled from where the visitor came from.
pub async fn form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    PageQuery(p): PageQuery<Prefill>,
) -> Response {
    let (session_id, set) = session(&headers, &state);
    let site = state.site();
    let article = p
        .article
        .as_deref()
        .and_then(|slug| site.engine.article(slug))
        .map(|a| (a.slug.clone(), a.front.title.clone()));
    let mut subject = clip(p.subject, MAX_SUBJECT_CHARS);
    let mut description = clip(p.description, MAX_DESCRIPTION_CHARS);
    let query = clip(p.q, 200);
    if subject.is_empty() {
        if let Some((_, title)) = &article {
            subject = title.clone();
        } else {
            subject.clone_from(&query);
        }
    }
    let note = match &article {
        Some((_, title)) => {
            let reason = clip(p.reason, 40).replace('_', " ");
            if description.is_empty() {
                description = format!(
                    "I read \u{201c}{title}\u{201d} and it did not answer my question{}.\n\n",
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({reason})")
                    }
                );
            }
            Some(format!(
                "You read \u{201c}{title}\u{201d} before coming here."
            ))
        }
        None if !query.is_empty() => Some(format!("You searched for \u{201c}{query}\u{201d}.")),
        None => None,
    };
    let form = ContactForm {
        subject,
        description,
        article: article.map(|a| a.0).unwrap_or_default(),
        ..ContactForm::default()
    };
    with_cookie(page(&state, &form, &session_id, None, &[], note), set)
}

fn field_error(e: &TicketError) -> Option<(&'static str, String)> {
    match e {
        TicketError::Invalid { field, message } => Some((field, message.clone())),
        _ => None,
    }
}

/// `POST /contact`: checks the form, shows matching articles once, then files the ticket.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ip: ClientIp,
    Form(mut form): Form<ContactForm>,
) -> Response {
    let (session_id, set) = session(&headers, &state);
    let req = TicketRequest {
        email: form.email.clone(),
        subject: form.subject.clone(),
        description: form.description.clone(),
        customer_tier: Some(form.customer_tier.clone()),
        session_id: Some(session_id.clone()),
        website: Some(form.website.clone()),
    };
    let new = match crate::tickets::check(&req, &state.config.triage) {
        Ok(n) => n,
        Err(e) => {
            let mut res = page(
                &state,
                &form,
                &session_id,
                field_error(&e).as_ref(),
                &[],
                None,
            );
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return with_cookie(res, set);
        }
    };
    if form.checked.is_empty() {
        // The no-script path: show matching articles before filing (logged as a search).
        let params = super::api::SearchParams {
            q: format!("{} {}", new.subject, new.description)
                .chars()
                .take(super::MAX_QUERY_BYTES / 4)
                .collect(),
            limit: Some(SUGGESTIONS),
            category: None,
            session_id: Some(session_id.clone()),
            learned: None,
            client: state.client_key(ip.0),
        };
        if let Ok(found) = super::api::run_search(Arc::clone(&state), params, true).await
            && !found.results.is_empty()
        {
            let suggestions: Vec<Suggestion> = found
                .results
                .into_iter()
                .map(|r| Suggestion {
                    slug: r.slug,
                    title: r.title,
                    url: r.url,
                    summary: r.summary,
                })
                .collect();
            form.checked = "1".into();
            return with_cookie(
                page(&state, &form, &session_id, None, &suggestions, None),
                set,
            );
        }
    }
    if let Err(e) = super::tickets::rate_limit(&state, Some(&session_id), &ip) {
        let mut res = page(
            &state,
            &form,
            &session_id,
            Some(&("form", e.to_string())),
            &[],
            None,
        );
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return with_cookie(res, set);
    }
    match super::tickets::file(&state, new, "form").await {
        Ok(t) => {
            let promise = first_response(t.first_response_minutes, t.priority == "P1");
            let res = super::templates::render(
                &state,
                "contact_done.html",
                context! {
                    site_name => &state.config.site_name,
                    ticket => ser(&super::tickets::response(&t)),
                    first_response => promise,
                    first_response_due => t.first_response_due.with_timezone(&state.config.triage.time_zone).format("%A %e %B %Y, %H:%M %Z").to_string(),
                },
            );
            let mut res = with_cookie(res, set);
            *res.status_mut() = StatusCode::CREATED;
            res
        }
        Err(e) => {
            // Never a false confirmation: the form comes back with the customer's text.
            let msg = match &e {
                ApiError::Unavailable(_) => "We could not save your request right now; nothing was sent. Please try again in a moment.".to_string(),
                other => other.to_string(),
            };
            let status = match &e {
                ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            tracing::warn!(error = %e, "contact form ticket not stored");
            let mut res = page(&state, &form, &session_id, Some(&("form", msg)), &[], None);
            *res.status_mut() = status;
            with_cookie(res, set)
        }
    }
}

/// "This answered my question".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Answered {
    pub slug: String,
    pub subject: String,
}

/// `POST /contact/answered`: the flow ends deflected (stored in `contact_deflections`).
pub async fn answered(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(a): Form<Answered>,
) -> Response {
    let (session_id, set) = session(&headers, &state);
    let site = state.site();
    let Some(article) = site.engine.article(&a.slug) else {
        return ApiError::NotFound(format!("no published article `{}`", a.slug)).into_response();
    };
    let query: String = a.subject.chars().take(MAX_SUBJECT_CHARS).collect();
    if let Some(store) = &state.store
        && let Err(e) = store
            .record_contact_deflection(&session_id, &article.slug, &query, Utc::now())
            .await
    {
        tracing::warn!(error = %e, "contact deflection not recorded");
    }
    with_cookie(
        super::templates::render(
            &state,
            "contact_done.html",
            context! {
                site_name => &state.config.site_name,
                deflected => true,
                article => context! { title => &article.front.title, url => article.url() },
            },
        ),
        set,
    )
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

fn ser<T: Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

/// "30 minutes", "1 hour", "4 business hours": the promise on the confirmation page.
fn first_response(minutes: i64, around_the_clock: bool) -> String {
    if minutes < 60 {
        return format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" });
    }
    let hours = (minutes as f64 / 6.0).round() / 10.0;
    let kind = if around_the_clock { "" } else { "business " };
    format!(
        "{hours} {kind}hour{}",
        if (hours - 1.0).abs() < f64::EPSILON {
            ""
        } else {
            "s"
        }
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_promise_reads_well() {
        assert_eq!(super::first_response(30, false), "30 minutes");
        assert_eq!(super::first_response(60, true), "1 hour");
        assert_eq!(super::first_response(240, false), "4 business hours");
        assert_eq!(super::first_response(90, false), "1.5 business hours");
    }
}
