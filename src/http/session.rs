//! Anonymous sessions and as-you-type grouping. Pages get a random id in the `deflect_session`
//! cookie, issued by the first page a visitor opens; the API and widget pass `session_id`
//! (or send the cookie, as the help center's own script does). No IP address or other
//! identifying data is kept: the id is random and means nothing outside Deflect.
//!
//! As-you-type: a session's search whose normalized query extends or shortens the previous
//! one ("pas" → "pass" → "password", or back) within [`TYPING_WINDOW`] of it is the same search:
//! it keeps the search id, and the store keeps the latest query for that id.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::store::{ArticleView, Click};

pub const SESSION_COOKIE: &str = "deflect_session";
/// How long a session cookie lives: the deflection window (no ticket within 24 h), so a
/// ticket filed later the same day still belongs to the visit that searched first.
const SESSION_SECS: u32 = 24 * 60 * 60;
const MAX_ID_CHARS: usize = 128;
/// Keystroke searches further apart than this are separate searches.
pub const TYPING_WINDOW: Duration = Duration::from_secs(3);
/// Sessions remembered for grouping; beyond this, new sessions are simply not grouped.
const TYPING_SESSIONS: usize = 100_000;

pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A cookie's value, if present and made only of ASCII letters and digits.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| {
            !v.is_empty() && v.len() <= MAX_ID_CHARS && v.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// A search id as Deflect issues them (`?s=` on result links): short, letters and digits.
pub fn is_search_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Crawlers and link previews are not customers: their page views would count as sessions
/// that found their answer. Matched on the user agent, as web analytics tools do.
fn is_bot(headers: &HeaderMap) -> bool {
    const MARKERS: [&str; 6] = [
        "bot",
        "crawl",
        "spider",
        "slurp",
        "preview",
        "facebookexternalhit",
    ];
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| {
            let ua = ua.to_ascii_lowercase();
            MARKERS.iter().any(|m| ua.contains(m))
        })
}

/// The visitor's session on a help-center page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    /// A crawler: served normally, never recorded.
    pub bot: bool,
}

/// Page middleware: gives every request a [`Session`] and, on HTML pages, issues the cookie
/// when missing (HttpOnly, SameSite=Lax, Secure when the public URL is https).
pub async fn pages(
    State(state): State<std::sync::Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let bot = is_bot(req.headers());
    let existing = cookie(req.headers(), SESSION_COOKIE);
    let issue = existing.is_none() && !bot;
    let id = existing.unwrap_or_else(new_session_id);
    req.extensions_mut().insert(Session {
        id: id.clone(),
        bot,
    });
    let mut res = next.run(req).await;
    // Pages and the form's redirect only: a cookie on a cacheable asset could be cached by a
    // proxy and handed to every visitor.
    let page = res.status().is_redirection()
        || res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
    if issue
        && page
        && let Some(v) = set_cookie(&state, &id)
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The `Set-Cookie` value issuing session `id` (HttpOnly, SameSite=Lax, Secure when the
/// public URL is https, living as long as the deflection window).
pub fn set_cookie(state: &AppState, id: &str) -> Option<HeaderValue> {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECS}{secure}"
    ))
    .ok()
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = std::convert::Infallible;

    /// The session [`pages`] gave this request; outside page routes, the cookie's, else a
    /// fresh id that is not remembered.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(s) = parts.extensions.get::<Session>() {
            return Ok(s.clone());
        }
        let bot = is_bot(&parts.headers);
        let id = cookie(&parts.headers, SESSION_COOKIE).unwrap_or_else(new_session_id);
        Ok(Session { id, bot })
    }
}

/// The session opened an article from a page: a view, plus a click when it came from a
/// search's result link (`?s=`). The store keeps one click per search and article, so a
/// reload, or a script that also posts the click, is not counted twice.
pub fn opened(
    state: &AppState,
    session_id: &str,
    slug: &str,
    search_id: Option<String>,
    position: Option<i64>,
) {
    if let (Some(events), Some(id)) = (&state.events, &search_id) {
        events.record(Click {
            search_id: id.clone(),
            slug: slug.to_string(),
            position: position.filter(|p| (1..=1000).contains(p)),
            session_id: session_id.to_string(),
            at: chrono::Utc::now(),
        });
    }
    viewed(state, session_id, slug, search_id);
}

/// The session read an article; whatever it searches next is a new search.
pub fn viewed(state: &AppState, session_id: &str, slug: &str, search_id: Option<String>) {
    state.typing.close(session_id);
    if let Some(events) = &state.events {
        events.record(ArticleView {
            session_id: session_id.to_string(),
            slug: slug.to_string(),
            search_id,
            at: chrono::Utc::now(),
        });
    }
}

/// The open (still being typed) search of each session.
#[derive(Debug, Default)]
pub struct AsYouType {
    open: Mutex<HashMap<String, Typing>>,
}

#[derive(Debug)]
struct Typing {
    search_id: String,
    normalized: String,
    last: Instant,
}

/// One query extends or shortens the other (equal included).
fn continues(previous: &str, next: &str) -> bool {
    previous.starts_with(next) || next.starts_with(previous)
}

impl AsYouType {
    /// The id for `session`'s search of `normalized` at `now`: the open search's when this
    /// one continues its query within [`TYPING_WINDOW`], else a new one from `fresh`.
    /// Call it right before queueing the event, so the store sees a group's queries in order.
    pub fn search_id(
        &self,
        session: &str,
        normalized: &str,
        now: Instant,
        fresh: impl FnOnce() -> String,
    ) -> String {
        if session.is_empty() || normalized.is_empty() {
            return fresh();
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = open.get_mut(session)
            && now.saturating_duration_since(t.last) <= TYPING_WINDOW
            && continues(&t.normalized, normalized)
        {
            t.last = now;
            normalized.clone_into(&mut t.normalized);
            return t.search_id.clone();
        }
        let search_id = fresh();
        if open.len() >= TYPING_SESSIONS && !open.contains_key(session) {
            open.retain(|_, t| now.saturating_duration_since(t.last) <= TYPING_WINDOW);
            if open.len() >= TYPING_SESSIONS {
                return search_id;
            }
        }
        open.insert(
            session.to_string(),
            Typing {
                search_id: search_id.clone(),
                normalized: normalized.to_string(),
                last: now,
            },
        );
        search_id
    }

    /// The session opened a result: whatever it types next is a new search.
    pub fn close(&self, session: &str) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystrokes_of_one_session_are_one_search() {
        let g = AsYouType::default();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut n = 0;
        let mut fresh = || {
            n += 1;
            format!("s{n}")
        };
        let cases = [
            // (session, normalized, at ms, expected id)
            ("a", "pas", 0, "s1"),
            ("a", "pass", 300, "s1"),
            ("b", "pass", 350, "s2"),
            ("a", "password", 700, "s1"),
            ("a", "passw", 1200, "s1"),
            ("a", "card", 1500, "s3"),
            ("a", "card arrival", 5000, "s4"),
            ("", "pin", 5100, "s5"),
            ("", "pin", 5200, "s6"),
            ("b", "", 5300, "s7"),
        ];
        for (session, q, at, want) in cases {
            assert_eq!(
                g.search_id(session, q, ms(at), &mut fresh),
                want,
                "{session} {q} at {at}"
            );
        }
        g.close("a");
        assert_eq!(g.search_id("a", "card arrival", ms(5400), &mut fresh), "s8");
    }

    #[test]
    fn cookies_are_read_strictly() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; deflect_session=ab12"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("ab12"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("deflect_session=a;b"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("a"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("deflect_session=<x>"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Mozilla/5.0 (compatible; Googlebot/2.1)"),
        );
        assert!(is_bot(&h));
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Mozilla/5.0 (X11; Linux x86_64) Chrome/130"),
        );
        assert!(!is_bot(&h));
    }
}
