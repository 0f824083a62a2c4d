//! `deflect eval`: top-1/3/10, MRR and zero-result rate on labelled questions, for the engine
//! and for a plain BM25 query parser over the same articles.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::{ContentArgs, today};
use crate::content::KnowledgeBase;
use crate::eval::{Scores, evaluate, read_questions};
use crate::search::baseline::BaselineEngine;
use crate::search::{SearchEngine, SearchRequest};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV with columns `text,category` (category = ticket type id).
    file: PathBuf,
    #[command(flatten)]
    content: ContentArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// How many of the worst ticket types to list.
    #[arg(long, default_value_t = 10)]
    worst: usize,
    /// Triage each question as a ticket description instead, and report how often the
    /// triaged category equals the label.
    #[arg(long)]
    triage: bool,
    /// A deflect.toml whose `[triage]` table (keyword rules, hits) to use [default: built-in].
    #[arg(long)]
    config: Option<PathBuf>,
}

fn row(name: &str, s: &Scores) -> String {
    format!(
        "{name:<16} {:>6.1}% {:>6.1}% {:>6.1}% {:>6.3} {:>9.2}%",
        100.0 * s.top1_rate(),
        100.0 * s.top3_rate(),
        100.0 * s.top10_rate(),
        s.mrr(),
        100.0 * s.zero_result_rate()
    )
}

fn summary(s: &Scores) -> serde_json::Value {
    json!({
        "questions": s.questions,
        "top1": s.top1_rate(),
        "top3": s.top3_rate(),
        "top10": s.top10_rate(),
        "mrr": s.mrr(),
        "zero_result_rate": s.zero_result_rate(),
    })
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let questions = read_questions(&args.file)?;
    let loaded = KnowledgeBase::load(&args.content.content, today())?;
    let engine = SearchEngine::build(&loaded.kb).context("building the search index")?;
    if args.triage {
        return triage(args, &questions, &engine);
    }
    let baseline = BaselineEngine::build(&loaded.kb).context("building the baseline index")?;
    let ours = evaluate(&questions, |q| {
        engine
            .search(&SearchRequest {
                query: q,
                limit: 10,
                category: None,
            })
            .hits
            .iter()
            .map(|h| h.article.front.ticket_types.clone())
            .collect()
    });
    let theirs = evaluate(&questions, |q| {
        baseline
            .search(q, 10)
            .iter()
            .map(|a| a.front.ticket_types.clone())
            .collect()
    });
    let worst = ours.worst_types(args.worst);
    if args.json {
        let doc = json!({
            "file": args.file,
            "deflect": summary(&ours),
            "bm25_baseline": summary(&theirs),
            "worst_ticket_types": worst.iter().map(|(t, s)| json!({
                "ticket_type": t, "questions": s.questions, "top1": s.top1, "top3": s.top3,
            })).collect::<Vec<_>>(),
        });
        println!("{doc:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} questions from {}, {} published articles",
        questions.len(),
        args.file.display(),
        engine.articles().len()
    );
    println!(
        "{:<16} {:>7} {:>7} {:>7} {:>6} {:>10}",
        "", "top-1", "top-3", "top-10", "MRR", "zero-res"
    );
    println!("{}", row("deflect", &ours));
    println!("{}", row("bm25 baseline", &theirs));
    println!(
        "{:<16} {:>+6.1}  {:>+6.1}  {:>+6.1}  {:>+6.3}",
        "difference (pts)",
        100.0 * (ours.top1_rate() - theirs.top1_rate()),
        100.0 * (ours.top3_rate() - theirs.top3_rate()),
        100.0 * (ours.top10_rate() - theirs.top10_rate()),
        ours.mrr() - theirs.mrr()
    );
    println!("\nworst ticket types (deflect):");
    for (t, s) in worst {
        println!(
            "  {t:<48} {:>4} questions  top-1 {:>5.1}%  top-3 {:>5.1}%",
            s.questions,
            100.0 * s.top1 as f64 / s.questions.max(1) as f64,
            100.0 * s.top3 as f64 / s.questions.max(1) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--triage`: the category triage would give each question, against its label.
fn triage(
    args: &Args,
    questions: &[crate::eval::Question],
    engine: &SearchEngine,
) -> anyhow::Result<ExitCode> {
    let config =
        crate::config::Config::load(args.config.as_deref(), crate::config::Layer::default())?
            .triage;
    let started = std::time::Instant::now();
    let score = crate::eval::evaluate_triage(questions, |q| {
        crate::triage::category::from_search(engine, q, config.category_hits, &config.keyword_rules)
    });
    let worst = score.worst(args.worst);
    if args.json {
        let doc = json!({
            "file": args.file,
            "questions": score.questions,
            "correct": score.correct,
            "accuracy": score.accuracy(),
            "uncategorized": score.uncategorized,
            "confident_accuracy": score.confident_accuracy(),
            "confident_share": score.confident_share(),
            "worst_ticket_types": worst.iter().map(|(t, n, ok)| json!({"ticket_type": t, "questions": n, "correct": ok})).collect::<Vec<_>>(),
        });
        println!("{doc:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} questions from {} triaged as ticket descriptions in {:.1} s",
        score.questions,
        args.file.display(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "category accuracy {:.1}% ({} of {}), uncategorized {}",
        100.0 * score.accuracy(),
        score.correct,
        score.questions,
        score.uncategorized
    );
    println!(
        "with confidence >= {:.1}: {:.1}% of tickets, {:.1}% correct",
        crate::eval::CONFIDENT,
        100.0 * score.confident_share(),
        100.0 * score.confident_accuracy()
    );
    println!("\nworst ticket types:");
    for (t, n, ok) in worst {
        println!(
            "  {t:<48} {n:>4} questions  {:>5.1}% correct",
            100.0 * ok as f64 / n.max(1) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}
