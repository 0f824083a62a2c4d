//! `deflect serve`: the help center over HTTP, reloading content as files change.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::config::{Config, Layer};
use crate::content::today;
use crate::http::{AppState, serve, templates};
use crate::site::{LiveSite, Site};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    content: super::ContentArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Templates overriding the built-in ones (same file names) [default: templates].
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Where the SQLite database is kept [default: data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Use this PostgreSQL instead of SQLite, e.g. postgres://postgres@127.0.0.1/deflect.
    #[arg(long)]
    database_url: Option<String>,
    /// Do not reload content when files change.
    #[arg(long)]
    no_watch: bool,
}

/// When more than half of the articles, and more than this many, are to be indexed at a start
/// (added or changed while the server was down), `deflect index` indexes them in a child
/// process, as on a first start. Below, this process does: the content is then parsed once,
/// not twice (100,000 articles, 20,000 changed: ready in 7.1 s and 1.21× the Markdown after
/// a load, against 14.8 s and 1.05× through the child).
const CHILD_BUILD_FROM: usize = 5_000;

/// Has `deflect index` index the content in a child process and logs how long it took (the
/// index `done`, e.g. "built"); when the child fails, says so: the load that follows then
/// indexes in this process.
fn index_in_child(config: &Config, config_file: Option<&Path>, done: &str) {
    let child = std::time::Instant::now();
    match super::index::in_child(config, config_file) {
        Ok(()) => tracing::info!(
            ms = %child.elapsed().as_millis(),
            "search index {done} by `deflect index`"
        ),
        Err(e) => tracing::warn!("{e:#}; indexing in this process"),
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let flags = Layer {
        bind: args.bind,
        templates: args.templates.clone(),
        watch: args.no_watch.then_some(false),
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone().map(crate::secret::Secret::new),
        ..Layer::default()
    };
    let mut config = args.content.config_with(flags)?;
    if !config.content.exists() && config.content == Config::default().content {
        // Nothing to serve here: show the bundled sample help center instead.
        let dir = std::env::temp_dir().join("deflect-sample-content");
        crate::site::unpack_sample(&dir)?;
        println!(
            "No ./content directory: serving the bundled sample help center (copied to {}). Pass --content DIR for yours.",
            dir.display()
        );
        config.content = dir;
        config.watch = false;
    }
    config.triage.validate()?;
    tracing::debug!(?config, "configuration");
    let index_dir = config.data_dir.join("index");
    if config.content.is_dir() && !crate::search::IndexStore::is_built(&index_dir) {
        // A first build in a child process: its memory goes back to the system when the
        // child exits (in this process the allocator kept it, and the server grew into it
        // under load), and the server then starts as on a restart.
        index_in_child(&config, args.content.config.as_deref(), "built");
    }
    let (site, report) = match Site::load_unless(
        &config.content,
        today(),
        crate::site::IndexAt::Disk(&index_dir),
        |to_index, all| to_index > CHILD_BUILD_FROM && to_index * 2 > all,
    )? {
        Ok(loaded) => loaded,
        Err(to_index) => {
            // Much changed while the server was down (a large import, a branch switch): as
            // a first build, in a child process.
            tracing::info!(
                articles = to_index,
                "many articles to index: running `deflect index`"
            );
            index_in_child(&config, args.content.config.as_deref(), "brought in step");
            Site::load_at(
                &config.content,
                today(),
                None,
                crate::site::IndexAt::Disk(&index_dir),
            )?
        }
    };
    tracing::info!(
        articles = report.articles,
        reused = report.index.unchanged,
        indexed = report.index.added + report.index.updated,
        removed = report.index.removed,
        index_ms = %report.index.millis,
        ms = %report.millis,
        index = %index_dir.display(),
        "content loaded"
    );
    if report.errors > 0 {
        tracing::warn!(
            errors = report.errors,
            "content has errors; broken articles are skipped (run `deflect check`)"
        );
    }
    let live = Arc::new(LiveSite::new(config.content.clone(), site));
    let templates = templates::environment(Some(&config.templates))?;
    let bind = config.bind;
    let watch = config.watch;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Searches run on the blocking pool, `cpu_tasks` at once. With tokio's bound (512) the
        // pool grew to 30 threads under load (a finished task's thread is not idle yet when
        // the next task arrives), each keeping allocator pages of its own.
        .max_blocking_threads(crate::http::cpu_tasks())
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let store = super::open_store(&config, true).await?;
        let purge = tokio::spawn(crate::store::retention::purge_job(
            store.clone(),
            config.analytics,
        ));
        // Reports: closed days aggregated in the background; aggregates older than
        // the events' retention (180 days by default) are forgotten with them.
        let _warmup = crate::reports::spawn_warmup(store.clone(), config.analytics.retention_days);
        let salt = store
            .client_salt()
            .await
            .context("reading the learning salt from the database")?;
        // The events' journal: acknowledged analytics survive a kill; a second server on the
        // same data directory runs without one.
        let journal_dir = config.data_dir.join("journal");
        let journal = match crate::store::journal::Journal::open(&journal_dir) {
            Ok(j) => Some(j),
            Err(e) => {
                tracing::warn!(
                    "events' journal {}: {e}; events queued when the process is killed are lost",
                    journal_dir.display()
                );
                None
            }
        };
        let (state, writer) = AppState::new(Arc::clone(&live), templates, config)
            .with_store_journaled(store, journal);
        let state = Arc::new(state.with_client_salt(salt));
        // Learning: the models are trained before the server says ready, then kept fresh.
        if state.config.learning.enabled {
            match state.retrain().await {
                Ok(s) => tracing::info!(
                    examples = s.examples,
                    articles = s.articles,
                    ms = s.took_ms,
                    "learning: trained at start"
                ),
                Err(e) => {
                    tracing::warn!("learning: could not train at start, answering without it: {e}");
                }
            }
        }
        let _trainer = crate::http::spawn_trainer(Arc::clone(&state));
        // The webhook hand-off: delivers the durable outbox until shutdown.
        let (stop_webhook, webhook_stopped) = tokio::sync::oneshot::channel::<()>();
        let webhook = tokio::spawn(crate::webhook::run(
            state
                .store
                .clone()
                .context("the store is configured above")?,
            state.config.webhook.clone(),
            Arc::clone(&state.desk.outbox),
            async move {
                let _ = webhook_stopped.await;
            },
        ));
        let _watcher = if watch {
            let s = Arc::clone(&state);
            Some(crate::site::watch(live, today, move |result| {
                s.metrics.reloaded(result.is_ok());
                // Deleted articles and changed ticket types: learned evidence follows content.
                s.learning_wake.notify_one();
                if let Ok(r) = result {
                    s.metrics
                        .articles
                        .set(i64::try_from(r.articles).unwrap_or(i64::MAX));
                }
            })?)
        } else {
            None
        };
        let listener = crate::http::connections::listen(bind)
            .with_context(|| format!("binding {bind} — is another server using it? pass --bind"))?;
        let addr = listener.local_addr()?;
        println!(
            "Deflect help center: http://{addr}/  ({} articles, {} store, ready in {} ms{})",
            state.site().engine.articles().len(),
            state.store.as_ref().map_or("no", Store::backend),
            started.elapsed().as_millis(),
            if watch { ", reloading on changes" } else { "" }
        );
        let served = serve(listener, Arc::clone(&state), shutdown_signal()).await;
        let _ = stop_webhook.send(());
        let _ = webhook.await;
        // Flush queued events before exiting.
        if let Some(events) = &state.events {
            events.close();
        }
        if tokio::time::timeout(std::time::Duration::from_secs(10), writer)
            .await
            .is_err()
        {
            tracing::warn!("events still queued after 10 s; some were not written");
        }
        purge.abort();
        served.context("serving HTTP")
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
