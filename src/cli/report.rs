//! `deflect report NAME`: the KB manager's reports (gaps, searches, deflection, helpfulness,
//! freshness, coverage) from the terminal, as a table, JSON or CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Layer;
use crate::content::KnowledgeBase;
use crate::content::today;
use crate::reports::{Inputs, Period, Report, ReportName};
use crate::search::SearchEngine;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// gaps, searches, deflection, helpfulness, freshness or coverage.
    name: String,
    /// The period: 7d, 24h, 30d, 2w, or an ISO date such as 2026-11-01.
    #[arg(long, default_value = "7d")]
    since: String,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// For CSV: which table of the report (default: its main one).
    #[arg(long)]
    table: Option<String>,
    #[command(flatten)]
    content: super::ContentArgs,
    /// Where the SQLite database is kept [default: data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Read this PostgreSQL instead of SQLite.
    #[arg(long)]
    database_url: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let name: ReportName = args.name.parse()?;
    let period = Period::parse(&args.since, chrono::Utc::now())?;
    let flags = Layer {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone().map(crate::secret::Secret::new),
        ..Layer::default()
    };
    let config = args.content.config_with(flags)?;
    let loaded = KnowledgeBase::load(&config.content, today())?;
    let engine = SearchEngine::build(&loaded.kb).context("building the search index")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let report = runtime.block_on(async {
        let store = super::open_store(&config, false).await?;
        let inputs = Inputs {
            store: &store,
            kb: &loaded.kb,
            engine: &engine,
            today: today(),
        };
        Report::build(name, inputs, period)
            .await
            .with_context(|| format!("making the {} report", name.as_str()))
    })?;
    match args.format {
        Format::Table => print!("{}", report.to_text()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => {
            let tables = report.tables();
            let table = match &args.table {
                None => tables.first(),
                Some(key) => tables.iter().find(|t| t.key == key),
            }
            .with_context(|| {
                format!(
                    "no such table — {} has: {}",
                    name.as_str(),
                    tables.iter().map(|t| t.key).collect::<Vec<_>>().join(", ")
                )
            })?;
            print!("{}", table.to_csv()?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
