//! `deflect search`: one query from the arguments, or one per line from stdin printed as
//! JSON lines, so thousands of queries run in one process.

use crate::learning::{Learned, Model};
use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::ContentArgs;
use crate::content::KnowledgeBase;
use crate::content::today;
use crate::search::{SearchEngine, SearchRequest, SearchResults};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    content: ContentArgs,
    /// Print JSON instead of text (always JSON lines when reading stdin).
    #[arg(long)]
    json: bool,
    /// How many results per query.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print how the query was understood: stop words, typo corrections, completions, synonyms.
    #[arg(long)]
    explain: bool,
    /// Only articles in this category (folder), e.g. `cards`.
    #[arg(long)]
    category: Option<String>,
    /// Re-rank with what traffic taught: trains from the store (`data_dir` or `database_url`
    /// of deflect.toml, or the flags below) as `deflect serve` does; `--explain` then shows
    /// each result's learned contribution.
    #[arg(long)]
    learned: bool,
    /// Where the SQLite database is kept [default: data] (with `--learned`).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// Read this PostgreSQL instead of SQLite (with `--learned`).
    #[arg(long)]
    database_url: Option<String>,
    /// The query; omit it to read queries from stdin.
    query: Vec<String>,
}

/// The JSON form of a search, as printed by `--json`.
pub fn to_json(results: &SearchResults<'_>) -> serde_json::Value {
    json!({
        "query": results.query,
        "total": results.total,
        "corrected_query": results.corrected_query,
        "results": results.hits.iter().map(|h| json!({
            "slug": h.article.slug,
            "title": h.article.front.title,
            "url": h.article.url(),
            "summary": h.article.front.summary,
            "category": h.article.category,
            "ticket_types": h.article.front.ticket_types,
            "score": h.score,
            "snippet": h.snippet,
        })).collect::<Vec<_>>(),
    })
}

/// Trains the learned models from the configured store, as `deflect serve` does at start.
fn learned(config: &crate::config::Config, kb: &KnowledgeBase) -> anyhow::Result<Learned> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let traffic = runtime.block_on(async {
        let store = super::open_store(config, false).await?;
        let since =
            chrono::Utc::now() - chrono::Duration::days(i64::from(config.learning.history_days));
        store
            .traffic(since, 300_000)
            .await
            .context("reading what to learn from")
    })?;
    Ok(crate::learning::live::train(
        &traffic,
        kb,
        &config.learning,
        chrono::Utc::now(),
    ))
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let config = args.content.config_with(crate::config::Layer {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone().map(crate::secret::Secret::new),
        ..crate::config::Layer::default()
    })?;
    let loaded = KnowledgeBase::load(&config.content, today())?;
    let engine = SearchEngine::build(&loaded.kb).context("building the search index")?;
    let model = if args.learned {
        let l = learned(&config, &loaded.kb)?;
        eprintln!(
            "learned: {} examples from {} sessions, {} articles",
            l.stats.examples, l.stats.sessions, l.stats.articles
        );
        l.articles
    } else {
        Model::empty()
    };
    let search = |req: &SearchRequest<'_>| {
        crate::learning::rerank(&engine, engine.search(req), &model, req.limit, req.category)
    };
    let request = |q: &'_ str| -> serde_json::Value {
        let req = SearchRequest {
            query: q,
            limit: args.limit,
            category: args.category.as_deref(),
        };
        to_json(&search(&req).results)
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.query.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading queries from stdin")?;
            writeln!(out, "{}", request(&line))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let query = args.query.join(" ");
    if args.json {
        writeln!(out, "{:#}", request(&query))?;
        return Ok(ExitCode::SUCCESS);
    }
    let req = SearchRequest {
        query: &query,
        limit: args.limit,
        category: args.category.as_deref(),
    };
    if args.explain {
        let plan = engine.plan(&query);
        for w in &plan.words {
            let mut notes = Vec::new();
            if w.stop {
                notes.push("stop word".to_string());
            } else if !w.known {
                notes.push("not in the index".to_string());
            }
            if !w.typos.is_empty() {
                notes.push(format!(
                    "typo for {}",
                    w.typos
                        .iter()
                        .map(|(t, d)| format!("{t} ({d})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !w.completions.is_empty() {
                notes.push(format!(
                    "completes to {}",
                    w.completions
                        .iter()
                        .map(|(t, _)| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            writeln!(
                out,
                "  {:<16} stem {:<14} {}",
                w.word.text,
                w.word.stem,
                notes.join("; ")
            )?;
        }
        for s in &plan.synonyms {
            let words: Vec<&str> = plan.words[s.start..s.end]
                .iter()
                .map(|w| w.word.text.as_str())
                .collect();
            let exps: Vec<String> = s.expansions.iter().map(|e| e.join(" ")).collect();
            writeln!(out, "  synonym: {} → {}", words.join(" "), exps.join(", "))?;
        }
    }
    let reranked = search(&req);
    let results = &reranked.results;
    if let Some(c) = &results.corrected_query {
        writeln!(out, "did you mean: {c}")?;
    }
    writeln!(
        out,
        "{} result{}",
        results.total,
        if results.total == 1 { "" } else { "s" }
    )?;
    for (i, h) in results.hits.iter().enumerate() {
        let learned = reranked.learned.get(i).copied().unwrap_or_default();
        if args.explain && args.learned {
            writeln!(
                out,
                "{:>2}. {}  [{}]  {:.2} (learned +{:.2})",
                i + 1,
                h.article.front.title,
                h.article.slug,
                h.score,
                learned
            )?;
        } else {
            writeln!(
                out,
                "{:>2}. {}  [{}]  {:.2}",
                i + 1,
                h.article.front.title,
                h.article.slug,
                h.score
            )?;
        }
        let plain = h
            .snippet
            .replace("<mark>", "\x1b[1m")
            .replace("</mark>", "\x1b[0m");
        writeln!(out, "    {}", unescape(&plain))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
