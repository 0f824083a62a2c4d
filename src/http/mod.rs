//! The help center over HTTP: one route table, pages and the v1 JSON API, security headers,
//! and `serve` on an already-bound listener so tests can start it on `127.0.0.1:0`.

mod api;
mod error;
mod pages;
pub mod templates;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use minijinja::Environment;
use tokio::net::TcpListener;

pub use error::ApiError;

use crate::content::KnowledgeBase;
use crate::search::SearchEngine;

/// Longest accepted query, in bytes; longer ones get a 400 in the error envelope.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every request handler shares.
pub struct AppState {
    pub kb: KnowledgeBase,
    pub engine: SearchEngine,
    pub templates: Environment<'static>,
    pub site_name: String,
    /// Origin used for canonical URLs, e.g. `https://help.example.com`; empty for relative.
    pub public_url: String,
    search_counter: AtomicU64,
}

impl AppState {
    pub fn new(kb: KnowledgeBase, engine: SearchEngine, templates: Environment<'static>) -> Self {
        Self {
            kb,
            engine,
            templates,
            site_name: "Quill".to_string(),
            public_url: String::new(),
            search_counter: AtomicU64::new(0),
        }
    }

    /// A new opaque id for a logged search.
    fn next_search_id(&self) -> String {
        let n = self.search_counter.fetch_add(1, Ordering::Relaxed);
        let t = chrono::Utc::now().timestamp_micros();
        format!("s{t:x}{n:04x}")
    }
}

/// Every route, in one place.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/articles/{slug}", get(pages::article))
        .route("/categories/{*path}", get(pages::category))
        .route("/assets/style.css", get(pages::style))
        .route("/assets/app.js", get(pages::script))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/autocomplete", get(api::autocomplete))
        .route("/api/v1/articles/{slug}", get(api::article))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
