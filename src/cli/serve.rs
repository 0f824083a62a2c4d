//! `deflect serve`: the help center over HTTP on the given content.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::{ContentArgs, today};
use crate::content::KnowledgeBase;
use crate::http::{AppState, serve, templates};
use crate::search::SearchEngine;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    content: ContentArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DEFLECT_BIND")]
    bind: SocketAddr,
    /// A directory of templates overriding the built-in ones (same file names).
    #[arg(long, default_value = "templates", env = "DEFLECT_TEMPLATES")]
    templates: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let loaded = KnowledgeBase::load(&args.content.content, today())?;
    if loaded.errors() > 0 {
        tracing::warn!(
            errors = loaded.errors(),
            "content has errors; broken articles are skipped (run `deflect check`)"
        );
    }
    let engine = SearchEngine::build(&loaded.kb).context("building the search index")?;
    let templates = templates::environment(Some(&args.templates))?;
    let state = Arc::new(AppState::new(loaded.kb, engine, templates));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| {
                format!(
                    "binding {} — is another server using it? pass --bind",
                    args.bind
                )
            })?;
        let addr = listener.local_addr()?;
        println!(
            "Deflect help center: http://{addr}/  ({} articles, ready in {} ms)",
            state.engine.articles().len(),
            started.elapsed().as_millis()
        );
        serve(listener, state, shutdown_signal())
            .await
            .context("serving HTTP")
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
