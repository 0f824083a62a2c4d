//! The command-line interface: one module per subcommand; `main` parses, dispatches, prints
//! the whole error chain and turns the outcome into an exit code.

mod check;
mod eval;
mod import;
mod index;
mod replay;
mod report;
mod search;
mod serve;
mod server;
mod simulate;
mod warm;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Deflect: a self-hosted help center and self-service search engine.
#[derive(Debug, Parser)]
#[command(name = "deflect", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check every article, synonyms.txt and ticket-types.toml; exit 1 on any error.
    Check(check::Args),
    /// Search the knowledge base; with no QUERY, read one query per line from stdin.
    Search(search::Args),
    /// Serve the help center (pages and JSON API) over HTTP.
    Serve(serve::Args),
    /// Build the search index `deflect serve` keeps in DATA_DIR/index, or bring it up to date.
    Index(index::Args),
    /// Print the configuration file format (`--example`: a commented deflect.toml).
    Config {
        /// Print a commented example deflect.toml.
        #[arg(long)]
        example: bool,
    },
    /// Measure relevance on labelled questions (CSV `text,category`) against a BM25 baseline.
    Eval(eval::Args),
    /// Replay labelled questions as customer sessions through a running help center's API.
    Simulate(simulate::Args),
    /// Turn another help center's export (Zendesk, Help Scout, Intercom) or a docs site's
    /// Markdown into a content directory, with redirects from the old URLs.
    Import(import::Args),
    /// Print a KB manager's report: gaps, searches, deflection, helpfulness, freshness, coverage.
    Report(report::Args),
}

/// Where the configuration and the articles are: the one path every subcommand resolves its
/// settings through (defaults < deflect.toml < `DEFLECT_*` < flags).
#[derive(Debug, Clone, clap::Args)]
pub struct ContentArgs {
    /// The content directory (articles, synonyms.txt, ticket-types.toml) [default: `content =`
    /// in deflect.toml, else DEFLECT_CONTENT, else ./content].
    #[arg(long)]
    pub content: Option<PathBuf>,
    /// A deflect.toml to read [default: ./deflect.toml if present].
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl ContentArgs {
    /// The configuration with these flags on top.
    pub fn config(&self) -> anyhow::Result<crate::config::Config> {
        self.config_with(crate::config::Layer::default())
    }

    /// The configuration with these flags and a subcommand's own `flags` on top.
    pub fn config_with(
        &self,
        mut flags: crate::config::Layer,
    ) -> anyhow::Result<crate::config::Config> {
        if self.content.is_some() {
            flags.content.clone_from(&self.content);
        }
        crate::config::Config::load(self.config.as_deref(), flags)
    }
}

/// The configured store: the PostgreSQL at `database_url`, else SQLite in `data_dir` — made
/// there when `create`, else it must exist already (reading a new, empty one would mislead).
pub(crate) async fn open_store(
    config: &crate::config::Config,
    create: bool,
) -> anyhow::Result<crate::store::Store> {
    use anyhow::Context;
    if let Some(url) = &config.database_url {
        return crate::store::Store::connect(url.expose())
            .await
            .context("connecting to the database (--database-url)");
    }
    let db = config.data_dir.join("deflect.db");
    anyhow::ensure!(
        create || db.is_file(),
        "no database at {} — pass --data-dir (where `deflect serve` keeps it) or --database-url",
        db.display()
    );
    crate::store::Store::open_dir(&config.data_dir)
        .await
        .with_context(|| {
            format!(
                "opening the SQLite database in {}",
                config.data_dir.display()
            )
        })
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Warnings and errors by default; an index build's progress too.
    let default_filter = match cli.command {
        Command::Index(_) => "warn,deflect::search::index=info",
        _ => "warn",
    };
    // Colours only on a terminal: piped logs and CI logs stay plain text.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .init();
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Search(args) => search::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Index(args) => index::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Config { example: _ } => {
            print!("{}", crate::config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
