//! The store: searches, clicks, article views, suggestion replies and helpfulness votes, in SQLite (embedded default) or
//! PostgreSQL (`--database-url postgres://…`), one type hiding the backend. Migrations per
//! backend are embedded; queries are checked at run time so building needs no database.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}` — use sqlite://PATH or postgres://USER@HOST/DB")]
    Url(String),
}

/// Why a customer said an article did not help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteReason {
    Inaccurate,
    Unclear,
    MissingInformation,
    Outdated,
    DidntSolveMyProblem,
    Other,
}

impl VoteReason {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteReason::Inaccurate => "inaccurate",
            VoteReason::Unclear => "unclear",
            VoteReason::MissingInformation => "missing_information",
            VoteReason::Outdated => "outdated",
            VoteReason::DidntSolveMyProblem => "didnt_solve_my_problem",
            VoteReason::Other => "other",
        }
    }
}

/// A "Was this helpful?" answer; one counts per session and article, the latest wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub session_id: String,
    pub slug: String,
    pub helpful: bool,
    pub reason: Option<VoteReason>,
    pub comment: Option<String>,
    /// The search that led to the article, if known.
    pub search_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// One search as the customer typed it and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchEvent {
    pub id: String,
    pub session_id: String,
    pub query: String,
    pub normalized: String,
    pub result_count: i64,
    pub top_slugs: Vec<String>,
    pub corrected_query: Option<String>,
    pub at: DateTime<Utc>,
    /// Who searched: a daily-salted hash of the client address, never the address.
    pub client: Option<String>,
    /// Whether the results used what was learned (`None`: not known, e.g. older rows).
    pub learned: Option<bool>,
}

/// A customer opened a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Click {
    pub search_id: String,
    pub slug: String,
    pub position: Option<i64>,
    pub session_id: String,
    pub at: DateTime<Utc>,
}

/// A customer read an article (from a search, a link, or directly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleView {
    pub session_id: String,
    pub slug: String,
    /// The search that led here, if known.
    pub search_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// A reply of the suggestion endpoint (`answer`, `suggest` or `handoff`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestEvent {
    pub id: String,
    pub session_id: String,
    pub message: String,
    pub action: String,
    pub confidence: f64,
    /// The answered (or first suggested) article.
    pub slug: Option<String>,
    pub at: DateTime<Utc>,
    /// Who asked: a daily-salted hash of the client address, never the address.
    pub client: Option<String>,
    /// Whether the reply used what was learned.
    pub learned: Option<bool>,
}

/// Anything the batched [`events::EventLog`] writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Search(SearchEvent),
    View(ArticleView),
    Suggest(SuggestEvent),
    /// A result link followed from a page (the API's clicks endpoint writes directly).
    Click(Click),
}

/// Text as it may be stored: without U+0000, which PostgreSQL refuses in text columns (one
/// such character failed a whole batch of everyone's events) and SQLite would keep. Every
/// visitor's text passes here on its way in, so both backends store the same.
pub fn storable(text: &mut String) {
    if text.contains('\0') {
        text.retain(|c| c != '\0');
    }
}

fn storable_opt(text: &mut Option<String>) {
    if let Some(t) = text {
        storable(t);
    }
}

impl Event {
    /// The event with every text made [`storable`].
    pub fn storable(mut self) -> Self {
        match &mut self {
            Event::Search(e) => {
                for t in [
                    &mut e.id,
                    &mut e.session_id,
                    &mut e.query,
                    &mut e.normalized,
                ] {
                    storable(t);
                }
                e.top_slugs.iter_mut().for_each(storable);
                storable_opt(&mut e.corrected_query);
                storable_opt(&mut e.client);
            }
            Event::View(v) => {
                storable(&mut v.session_id);
                storable(&mut v.slug);
                storable_opt(&mut v.search_id);
            }
            Event::Suggest(e) => {
                for t in [&mut e.id, &mut e.session_id, &mut e.message, &mut e.action] {
                    storable(t);
                }
                storable_opt(&mut e.slug);
                storable_opt(&mut e.client);
            }
            Event::Click(c) => {
                for t in [&mut c.search_id, &mut c.slug, &mut c.session_id] {
                    storable(t);
                }
            }
        }
        self
    }
}

/// Votes per article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Helpfulness {
    pub slug: String,
    pub yes: i64,
    pub no: i64,
}

/// One click per search and article.
const CLICK: &str = "INSERT INTO clicks (search_id, slug, position, session_id, created_at)
     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM clicks WHERE search_id = $1 AND slug = $2)";

/// SQLite or PostgreSQL behind one type.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement on either backend (both accept `$1` placeholders).
macro_rules! on_backend {
    ($store:expr, |$q:ident| $body:expr) => {
        match $store {
            Store::Sqlite(pool) => {
                let $q = pool;
                $body
            }
            Store::Postgres(pool) => {
                let $q = pool;
                $body
            }
        }
    };
}

// Declared after `on_backend!` so their `impl Store` blocks can use it.
pub mod admin;
pub mod events;
pub mod journal;
pub mod learning;
pub mod reports;
pub mod retention;
pub mod tickets;

impl Store {
    /// Connects and migrates. `sqlite://PATH` creates the file (WAL mode); `postgres://…`
    /// connects to an existing database.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(std::time::Duration::from_secs(5));
            Store::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Store::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(std::time::Duration::from_secs(5))
                    .connect(url)
                    .await?,
            )
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A SQLite store in `dir/deflect.db`.
    pub async fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
        Self::connect(&format!("sqlite://{}", dir.join("deflect.db").display())).await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Store::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Whether the database answers a trivial query within two seconds: readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let answer = async {
            on_backend!(self, |pool| {
                sqlx::query("SELECT 1").execute(pool).await?;
            });
            Ok::<(), StoreError>(())
        };
        match tokio::time::timeout(std::time::Duration::from_secs(2), answer).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Stores a vote, replacing the session's earlier vote on the article. Returns once committed.
    pub async fn record_vote(&self, v: &Vote) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO votes (session_id, slug, helpful, reason, comment, search_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (session_id, slug) DO UPDATE SET helpful = excluded.helpful,
                 reason = excluded.reason, comment = excluded.comment,
                 search_id = excluded.search_id, created_at = excluded.created_at";
        let (mut session_id, mut comment, mut search_id) =
            (v.session_id.clone(), v.comment.clone(), v.search_id.clone());
        storable(&mut session_id);
        storable_opt(&mut comment);
        storable_opt(&mut search_id);
        on_backend!(self, |pool| {
            sqlx::query(SQL)
                .bind(&session_id)
                .bind(&v.slug)
                .bind(v.helpful)
                .bind(v.reason.map(VoteReason::as_str))
                .bind(&comment)
                .bind(&search_id)
                .bind(v.at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a click; one per search and article (a reload or a repeated report is not another).
    pub async fn record_click(&self, c: &Click) -> Result<(), StoreError> {
        let mut c = c.clone();
        for t in [&mut c.search_id, &mut c.slug, &mut c.session_id] {
            storable(t);
        }
        on_backend!(self, |pool| {
            sqlx::query(CLICK)
                .bind(&c.search_id)
                .bind(&c.slug)
                .bind(c.position)
                .bind(&c.session_id)
                .bind(c.at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a batch of searches in one transaction.
    pub async fn record_searches(&self, batch: &[SearchEvent]) -> Result<(), StoreError> {
        let batch: Vec<Event> = batch.iter().cloned().map(Event::Search).collect();
        self.record_events(&batch).await
    }

    /// Stores a batch of events of any kind in one transaction. A search whose id is already
    /// stored is the same search typed further (as-you-type grouping): it takes the new query
    /// and results and keeps its start time.
    pub async fn record_events(&self, batch: &[Event]) -> Result<(), StoreError> {
        self.record_events_marked(batch, None).await
    }

    /// [`Store::record_events`], also storing `mark` — a journal's run and the last sequence
    /// number in the batch — in the same transaction (see [`journal`]).
    pub async fn record_events_marked(
        &self,
        batch: &[Event],
        mark: Option<(&str, u64)>,
    ) -> Result<(), StoreError> {
        // Searches, views and suggestion replies go in one multi-row statement each: a
        // statement per event made the writer's round trips the main cost of recording.
        // A statement's text depends on its number of rows, so rows go in chunks of a few
        // sizes ([`cached_sizes`]): each connection keeps one prepared statement per size.
        // With any size it kept up to 100 (SQLite's programs for hundreds of parameters),
        // growing the server's memory by about 0.7 MB a second under load.
        const SEARCHES: &str = "INSERT INTO searches (id, session_id, query, normalized, result_count, top_slugs, corrected_query, created_at, client, learned) ";
        const SEARCH_CONFLICT: &str = " ON CONFLICT (id) DO UPDATE SET query = excluded.query,
                 normalized = excluded.normalized, result_count = excluded.result_count,
                 top_slugs = excluded.top_slugs, corrected_query = excluded.corrected_query,
                 learned = excluded.learned";
        const VIEWS: &str = "INSERT INTO article_views (session_id, slug, search_id, created_at) ";
        const SUGGESTIONS: &str = "INSERT INTO suggestions (id, session_id, message, action, confidence, slug, created_at, client, learned) ";
        let searches = latest_searches(batch);
        let views: Vec<&ArticleView> = batch
            .iter()
            .filter_map(|e| match e {
                Event::View(v) => Some(v),
                _ => None,
            })
            .collect();
        let suggestions: Vec<&SuggestEvent> = batch
            .iter()
            .filter_map(|e| match e {
                Event::Suggest(s) => Some(s),
                _ => None,
            })
            .collect();
        on_backend!(self, |pool| {
            let mut tx = pool.begin().await?;
            for searches in cached_sizes(&searches) {
                let mut q = sqlx::QueryBuilder::new(SEARCHES);
                q.push_values(searches, |mut row, (e, started)| {
                    row.push_bind(&e.id)
                        .push_bind(&e.session_id)
                        .push_bind(&e.query)
                        .push_bind(&e.normalized)
                        .push_bind(e.result_count)
                        .push_bind(e.top_slugs.join(" "))
                        .push_bind(&e.corrected_query)
                        .push_bind(*started)
                        .push_bind(&e.client)
                        .push_bind(e.learned);
                });
                q.push(SEARCH_CONFLICT);
                q.build().execute(&mut *tx).await?;
            }
            for views in cached_sizes(&views) {
                let mut q = sqlx::QueryBuilder::new(VIEWS);
                q.push_values(views, |mut row, v| {
                    row.push_bind(&v.session_id)
                        .push_bind(&v.slug)
                        .push_bind(&v.search_id)
                        .push_bind(v.at);
                });
                q.build().execute(&mut *tx).await?;
            }
            for suggestions in cached_sizes(&suggestions) {
                let mut q = sqlx::QueryBuilder::new(SUGGESTIONS);
                q.push_values(suggestions, |mut row, e| {
                    row.push_bind(&e.id)
                        .push_bind(&e.session_id)
                        .push_bind(&e.message)
                        .push_bind(&e.action)
                        .push_bind(e.confidence)
                        .push_bind(&e.slug)
                        .push_bind(e.at)
                        .push_bind(&e.client)
                        .push_bind(e.learned);
                });
                q.push(" ON CONFLICT (id) DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            // Clicks stay one statement each: each checks the clicks before it.
            for event in batch {
                if let Event::Click(c) = event {
                    sqlx::query(CLICK)
                        .bind(&c.search_id)
                        .bind(&c.slug)
                        .bind(c.position)
                        .bind(&c.session_id)
                        .bind(c.at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if let Some((run, seq)) = mark {
                sqlx::query(
                    "INSERT INTO event_journal_marks (run, seq) VALUES ($1, $2)
                     ON CONFLICT (run) DO UPDATE SET seq = excluded.seq",
                )
                .bind(run)
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The last sequence number of a journal's run stored with its events (0: none).
    pub async fn journal_mark(&self, run: &str) -> Result<u64, StoreError> {
        let row: Option<(i64,)> = on_backend!(self, |pool| {
            sqlx::query_as("SELECT seq FROM event_journal_marks WHERE run = $1")
                .bind(run)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map_or(0, |(s,)| u64::try_from(s).unwrap_or(0)))
    }

    /// Forgets a run's mark once its journal is gone.
    pub async fn forget_journal_mark(&self, run: &str) -> Result<(), StoreError> {
        on_backend!(self, |pool| {
            sqlx::query("DELETE FROM event_journal_marks WHERE run = $1")
                .bind(run)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Whether a search with this id is stored.
    pub async fn search_exists(&self, id: &str) -> Result<bool, StoreError> {
        let found: Option<(i32,)> = on_backend!(self, |pool| {
            sqlx::query_as("SELECT 1 FROM searches WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    /// Yes and no votes per article, most votes first.
    pub async fn helpfulness(&self) -> Result<Vec<Helpfulness>, StoreError> {
        const SQL: &str = "SELECT slug,
                SUM(CASE WHEN helpful THEN 1 ELSE 0 END) AS yes,
                SUM(CASE WHEN helpful THEN 0 ELSE 1 END) AS no
             FROM votes GROUP BY slug ORDER BY COUNT(*) DESC, slug";
        let rows: Vec<(String, i64, i64)> =
            on_backend!(self, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(slug, yes, no)| Helpfulness { slug, yes, no })
            .collect())
    }

    /// How many searches are stored.
    pub async fn search_count(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM searches";
        let (n,): (i64,) = on_backend!(self, |pool| sqlx::query_as(SQL).fetch_one(pool).await?);
        Ok(n)
    }

    /// How many clicks are stored for a search.
    pub async fn click_count(&self, search_id: &str) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM clicks WHERE search_id = $1";
        let (n,): (i64,) = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(search_id)
            .fetch_one(pool)
            .await?);
        Ok(n)
    }
}

/// The most rows one multi-row statement stores.
const MAX_ROWS: usize = 64;

/// `rows` in chunks of [`MAX_ROWS`], then of the powers of two below it: 7 sizes, so
/// 7 texts of each multi-row statement, whatever the batches' sizes.
fn cached_sizes<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let n = rows.len().min(MAX_ROWS);
        let size = 1 << n.ilog2();
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// The batch's searches, one per id (a statement may not update a row twice): the latest
/// state of an as-you-type search, with the time its first event in the batch started.
fn latest_searches(batch: &[Event]) -> Vec<(&SearchEvent, DateTime<Utc>)> {
    let mut out: Vec<(&SearchEvent, DateTime<Utc>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for event in batch {
        if let Event::Search(e) = event {
            match index.get(e.id.as_str()) {
                Some(&i) => out[i].0 = e,
                None => {
                    index.insert(&e.id, out.len());
                    out.push((e, e.at));
                }
            }
        }
    }
    out
}
