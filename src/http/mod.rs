//! The help center over HTTP: one route table, pages and the v1 JSON API, security headers,
//! metrics and timeouts, and `serve` on an already-bound listener so tests can start it on
//! `127.0.0.1:0`.

mod admin;
mod api;
pub mod connections;
mod contact;
mod error;
pub mod extract;
pub mod feedback;
mod learning;
pub mod limits;
pub mod metrics;
mod pages;
mod reports;
pub mod session;
mod suggest;
pub mod templates;
pub mod tickets;
pub mod widget;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
use metrics::{Metrics, RouteLabels};

use crate::config::Config;
use crate::learning::{LearnedStats, LiveLearning};
use crate::site::{LiveSite, Site};
use crate::store::Store;
use crate::store::events::{EventCounters, EventLog};
use crate::store::journal::{Journal, Leftover};

/// Longest accepted query, in bytes; longer ones get a 400 in the error envelope.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Events queued for writing before new ones are dropped (and counted).
const EVENT_QUEUE: usize = 20_000;
/// Searches read for one training, the newest (about 100,000 sessions' worth).
const TRAINING_SEARCHES: i64 = 300_000;
/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every request handler shares.
pub struct AppState {
    pub live: Arc<LiveSite>,
    pub templates: Environment<'static>,
    pub config: Config,
    pub metrics: Metrics,
    csp: HeaderValue,
    search_counter: AtomicU64,
    /// The search ids this process issued lately: a click names one of them (or one another
    /// replica stored).
    recent_searches: std::sync::Mutex<RecentIds>,
    /// Bounds concurrent searches on the blocking pool to a few per core: enough to keep the
    /// cores busy across task hand-offs, few enough that 64 connections do not mean 64 threads
    /// queueing for the CPU (p99 at 64 connections: 44 ms unbounded, 29 ms bounded).
    search_slots: tokio::sync::Semaphore,
    /// Votes and clicks; `None` until [`AppState::with_store`].
    pub store: Option<Store>,
    /// Events (searches, views, suggestion replies) on their way to the store; `None` when
    /// there is no store or `[analytics] record = false`.
    pub events: Option<EventLog>,
    /// The home page's popular articles, cached.
    pub popular: reports::PopularArticles,
    /// Each session's search being typed, to count as-you-type requests once.
    typing: session::AsYouType,
    /// Tickets: the spam guard's rate limits and the webhook outbox's wake-up call.
    pub desk: tickets::Desk,
    /// Per-session and per-IP limits of the suggestion endpoint.
    pub widget_limits: widget::WidgetLimits,
    /// Admin login sessions (without a store) and the wrong-token limit.
    admin: admin::AdminGuard,
    /// What traffic taught: read per request, replaced whole after each training.
    pub learning: Arc<LiveLearning>,
    /// Wakes the background trainer early (content reloaded, many new events).
    pub learning_wake: Arc<tokio::sync::Notify>,
    /// One training at a time.
    training: tokio::sync::Mutex<()>,
    /// The salt of the client hash, shared through the store by every replica.
    client_salt: Option<String>,
}

impl AppState {
    pub fn new(live: Arc<LiveSite>, templates: Environment<'static>, config: Config) -> Self {
        let csp = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors {}; base-uri 'none'; form-action 'self'",
            config.frame_ancestors.join(" ")
        );
        let csp = HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        let widget_limits = widget::WidgetLimits::new(&config.widget);
        let metrics = Metrics::default();
        metrics
            .articles
            .set(i64::try_from(live.get().engine.articles().len()).unwrap_or(i64::MAX));
        let desk = tickets::Desk::new(&config.triage);
        Self {
            live,
            templates,
            config,
            metrics,
            csp,
            search_counter: AtomicU64::new(0),
            recent_searches: std::sync::Mutex::new(RecentIds::default()),
            store: None,
            events: None,
            popular: reports::PopularArticles::default(),
            typing: session::AsYouType::default(),
            desk,
            widget_limits,
            admin: admin::AdminGuard::default(),
            learning: Arc::new(LiveLearning::default()),
            learning_wake: Arc::new(tokio::sync::Notify::new()),
            training: tokio::sync::Mutex::new(()),
            client_salt: None,
            search_slots: tokio::sync::Semaphore::new(cpu_tasks()),
        }
    }

    /// Adds the store and starts the search-event writer (call inside the Tokio runtime).
    /// Await the returned task after [`EventLog::close`] to flush on shutdown.
    pub fn with_store(self, store: Store) -> (Self, tokio::task::JoinHandle<()>) {
        self.with_store_journaled(store, None)
    }

    /// [`AppState::with_store`], with the events' journal (see [`crate::store::journal`]).
    pub fn with_store_journaled(
        mut self,
        store: Store,
        journal: Option<(Journal, Vec<Leftover>)>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (events, writer) = EventLog::start(
            store.clone(),
            EVENT_QUEUE,
            EventCounters {
                dropped: self.metrics.events_dropped.clone(),
                recovered: self.metrics.events_recovered.clone(),
            },
            journal,
        );
        self.store = Some(store);
        // A salt of this process's own until `with_client_salt` sets the store's shared one.
        self.client_salt
            .get_or_insert_with(|| uuid::Uuid::new_v4().simple().to_string());
        if self.config.analytics.record {
            self.events = Some(events);
        } else {
            // Nothing will be queued; the writer ends at once.
            events.close();
        }
        (self, writer)
    }

    /// Sets the salt of the client hash (read from the store with [`Store::client_salt`]).
    pub fn with_client_salt(mut self, salt: String) -> Self {
        self.client_salt = Some(salt);
        self
    }

    /// Whether an answer for this session uses learning: on unless `[learning] enabled =
    /// false`, the request says `learned=false`, or the session is in the A/B control group.
    pub fn uses_learning(&self, requested: Option<bool>, session_id: &str) -> bool {
        let c = &self.config.learning;
        c.enabled
            && requested != Some(false)
            && !crate::learning::live::in_control_group(session_id, c.ab_control_share)
    }

    /// Who sent a request, as learning counts clients: a hash of the address with the store's
    /// salt and today's date (so it cannot be reversed, or linked across days). IPv6
    /// addresses count by their /64, which one client usually holds whole.
    pub fn client_key(&self, ip: Option<std::net::IpAddr>) -> Option<String> {
        use sha2::Digest;
        let (ip, salt) = (ip?, self.client_salt.as_ref()?);
        let addr = match ip {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => v6.octets()[..8].to_vec(),
        };
        let mut h = sha2::Sha256::new();
        h.update(salt.as_bytes());
        h.update(chrono::Utc::now().date_naive().to_string().as_bytes());
        h.update(&addr);
        Some(hex::encode(&h.finalize()[..8]))
    }

    /// Trains both models from the store's traffic against the current content and swaps
    /// them in; returns once the new models are live.
    pub async fn retrain(self: &Arc<Self>) -> Result<LearnedStats, ApiError> {
        let store = self.store.clone().ok_or_else(|| {
            ApiError::Unavailable(
                "no database is configured; there is nothing to learn from".into(),
            )
        })?;
        let _one = self.training.lock().await;
        // Decay is measured from the start of the hour, so replicas sharing one store train
        // the same model from the same evidence.
        let now =
            chrono::DurationRound::duration_trunc(chrono::Utc::now(), chrono::Duration::hours(1))
                .unwrap_or_else(|_| chrono::Utc::now());
        let since = now - chrono::Duration::days(i64::from(self.config.learning.history_days));
        let traffic = store.traffic(since, TRAINING_SEARCHES).await?;
        let learned = self
            .cpu(move |state| {
                let site = state.site();
                crate::learning::live::train(&traffic, &site.kb, &state.config.learning, now)
            })
            .await?;
        let stats = learned.stats.clone();
        self.learning.set(learned);
        tracing::info!(
            examples = stats.examples,
            sessions = stats.sessions,
            articles = stats.articles,
            ms = stats.took_ms,
            "learning: new models live"
        );
        Ok(stats)
    }

    /// The current content and index; hold it for the whole request.
    pub fn site(&self) -> Arc<Site> {
        self.live.get()
    }

    /// Runs CPU-bound work on the blocking pool, at most [`cpu_tasks`] at a time.
    pub async fn cpu<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&AppState) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _slot = self
            .search_slots
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(format!("search pool closed: {e}")))?;
        let state = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&state))
            .await
            .map_err(|e| ApiError::Internal(format!("search task failed: {e}")))
    }

    /// A new opaque id for a logged search.
    fn next_search_id(&self) -> String {
        let n = self.search_counter.fetch_add(1, Ordering::Relaxed);
        let t = chrono::Utc::now().timestamp_micros();
        let id = format!("s{t:x}{n:04x}");
        self.recent_searches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(&id);
        id
    }

    /// Whether this process issued the search id lately.
    pub fn issued_search(&self, id: &str) -> bool {
        self.recent_searches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(id)
    }
}

/// How many searches and suggestions run at once on the blocking pool: four per core (see
/// `AppState::search_slots`). A server's blocking pool needs no more threads than this.
pub fn cpu_tasks() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get) * 4
}

/// The last [`RecentIds::CAPACITY`] ids issued, oldest forgotten first. Each is kept as a
/// 64-bit hash, a fifth of the memory of the id itself: when full, 5 MB instead of 25.
/// An id sharing a hash with an issued one passes for it: as likely as guessing one of
/// the hashes, and issued ids (time and counter) are easier to guess than that.
#[derive(Debug, Default)]
pub struct RecentIds {
    order: std::collections::VecDeque<u64>,
    ids: rustc_hash::FxHashSet<u64>,
}

impl RecentIds {
    /// About an hour of searches at 50 a second.
    const CAPACITY: usize = 200_000;

    fn key(id: &str) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(id)
    }

    fn insert(&mut self, id: &str) {
        let key = Self::key(id);
        if self.ids.insert(key) {
            self.order.push_back(key);
            if self.order.len() > Self::CAPACITY
                && let Some(old) = self.order.pop_front()
            {
                self.ids.remove(&old);
            }
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(&Self::key(id))
    }
}

/// Every route, in one place: the API's table of contents.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        // Pages.
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/articles/{slug}", get(pages::article))
        .route("/articles/{slug}/feedback", post(feedback::feedback_form))
        .route("/categories/{*path}", get(pages::category))
        .route("/sitemap.xml", get(pages::sitemap))
        .route("/assets/style.css", get(pages::style))
        .route("/assets/app.js", get(pages::script))
        // Contact and tickets.
        // Every help-center page above has a session, issued as a cookie when missing.
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            session::pages,
        ))
        .route("/contact", get(contact::form).post(contact::submit))
        .route("/contact/answered", post(contact::answered))
        .route("/assets/contact.js", get(contact::script))
        // Suggestions' widget script (the API routes are below, with the OpenAPI document).
        .route("/widget.js", get(widget::script))
        // Admin pages (login cookie).
        .route("/admin", get(reports::dashboard_page))
        .route("/admin/login", get(admin::login_page).post(admin::login))
        .route("/admin/logout", post(admin::logout))
        // Reports.
        .route("/admin/reports/{name}", get(reports::report_page))
        // Ticket queue.
        .route("/admin/tickets", get(tickets::queue_page))
        .route(
            "/admin/tickets/{id}",
            get(tickets::ticket_page).post(tickets::update_form),
        )
        .route("/admin/learning", get(learning::page))
        .route("/admin/learning/reject", post(learning::reject_form))
        // Operations.
        .route("/metrics", get(admin::metrics))
        .merge(api_routes().split_for_parts().0)
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            widget::cors,
        ))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .with_state(state)
}

/// The JSON API and the health checks: every route here is in the OpenAPI document, which is
/// generated from this table.
fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(api::ApiDoc::openapi())
        // Public API v1.
        .routes(routes!(api::search))
        .routes(routes!(api::autocomplete))
        .routes(routes!(api::article))
        .routes(routes!(api::openapi))
        .routes(routes!(feedback::vote))
        .routes(routes!(feedback::click))
        .routes(routes!(suggest::suggest_handler))
        .routes(routes!(tickets::create))
        // Admin API (bearer token or the login cookie).
        .routes(routes!(reports::report_api))
        .routes(routes!(admin::reindex))
        .routes(routes!(tickets::list))
        .routes(routes!(tickets::export))
        .routes(routes!(tickets::get, tickets::patch, tickets::post_update))
        .routes(routes!(learning::get_state))
        .routes(routes!(learning::retrain))
        .routes(routes!(learning::get_phrasings))
        .routes(routes!(learning::post_rejection))
        // Operations.
        .routes(routes!(api::healthz))
        .routes(routes!(api::readyz))
}

/// The OpenAPI document of [`api_routes`].
pub fn openapi_doc() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| api_routes().split_for_parts().1)
}

/// Security headers, a request timeout, and per-route metrics.
async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Known methods only: a label per invented method would grow /metrics without bound.
    let method = match *req.method() {
        axum::http::Method::GET
        | axum::http::Method::HEAD
        | axum::http::Method::POST
        | axum::http::Method::PUT
        | axum::http::Method::PATCH
        | axum::http::Method::DELETE
        | axum::http::Method::OPTIONS => req.method().as_str().to_string(),
        _ => "other".to_string(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let mut res = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::Timeout.into_response(),
    };
    let labels = RouteLabels {
        method,
        route,
        status: res.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, state.csp.clone());
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

/// Keeps the learned models fresh: retrains every `[learning] retrain_minutes`, after
/// `retrain_after_events` new clicks, votes and labels (at most once a minute, and ten times
/// the last training's duration apart), and when woken (content reloaded).
pub fn spawn_trainer(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(store) = state.store.clone() else {
            return;
        };
        let mut last = chrono::Utc::now();
        // What the last training took: event-triggered trainings keep to a tenth of the time.
        let mut last_took = Duration::ZERO;
        loop {
            let woken = tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(30)) => false,
                () = state.learning_wake.notified() => true,
            };
            let c = &state.config.learning;
            if !c.enabled {
                continue;
            }
            let now = chrono::Utc::now();
            let due = c.retrain_minutes > 0
                && now - last
                    >= chrono::Duration::minutes(
                        i64::try_from(c.retrain_minutes).unwrap_or(i64::MAX),
                    );
            // Under heavy traffic the event count is always reached: space those trainings by
            // ten times the last one's duration (at least a minute), so training stays a small
            // share of the CPU and its reads of the event tables do not come back-to-back.
            let spacing = (last_took * 10).max(Duration::from_secs(60));
            let spaced = (now - last).to_std().is_ok_and(|since| since >= spacing);
            let busy = c.retrain_after_events > 0
                && spaced
                && store
                    .events_since(last)
                    .await
                    .is_ok_and(|n| u64::try_from(n).unwrap_or(0) >= c.retrain_after_events);
            if woken || due || busy {
                last = now;
                let started = std::time::Instant::now();
                if let Err(e) = state.retrain().await {
                    tracing::warn!("learning: retraining failed, keeping the previous models: {e}");
                }
                last_took = started.elapsed();
            }
        }
    })
}

/// Serves until `shutdown` resolves, then finishes in-flight requests; connections are
/// bounded by `[connections]` (see [`connections`]).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.connections.clone();
    connections::serve(listener, router(state), &limits, shutdown).await
}
