//! `deflect eval`: top-1/3/10, MRR and zero-result rate on labelled questions, for the engine
//! and for a plain BM25 query parser over the same articles; with `--suggest`, the suggestion
//! endpoint's outcomes (answered right/wrong, suggested, handed off), its answers to
//! out-of-scope questions, and the calibration of its confidence.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use super::ContentArgs;
use crate::content::KnowledgeBase;
use crate::content::today;
use crate::eval::{
    BUCKETS, Question, Reply, Scores, SuggestScores, evaluate, evaluate_suggest, read_questions,
};
use crate::search::baseline::BaselineEngine;
use crate::search::{SearchEngine, SearchRequest};
use crate::suggest::{Context as PageContext, SuggestConfig, suggest};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "suggest"])))]
#[command(group(clap::ArgGroup::new("scoped").multiple(true).args(["suggest", "warm"])))]
pub struct Args {
    /// CSV with columns `text,category` (category = ticket type id).
    file: Option<PathBuf>,
    /// Evaluate the suggestion endpoint on this CSV of in-scope questions (`text,category`).
    #[arg(long, value_name = "FILE")]
    suggest: Option<PathBuf>,
    /// With `--suggest` or `--warm`: CSV(s) of questions the knowledge base has no article for
    /// (`text` and any non-empty `category`); none of them should be answered. Repeatable.
    #[arg(long = "out-of-scope", value_name = "FILE", requires = "scoped")]
    out_of_scope: Vec<PathBuf>,
    /// With `--suggest`: also report every Nth in-scope question (rows N-1, 2N-1, …) apart —
    /// the rows `examples/fit_suggest.rs` holds out of fitting with N = 5.
    #[arg(long, value_name = "N", requires = "suggest")]
    holdout_every: Option<usize>,
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
    #[command(flatten)]
    warm: super::warm::Options,
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
    if let Some(file) = &args.suggest {
        return run_suggest(args, file);
    }
    let Some(file) = &args.file else {
        anyhow::bail!("give a CSV of questions, or --suggest FILE");
    };
    if args.warm.warm {
        return super::warm::run(
            file,
            &args.out_of_scope,
            &args.content,
            &args.warm,
            args.json,
        );
    }
    let questions = read_questions(file)?;
    let config = args.content.config()?;
    let loaded = KnowledgeBase::load(&config.content, today())?;
    let engine = SearchEngine::build(&loaded.kb).context("building the search index")?;
    if args.triage {
        return triage(args, file, &questions, &engine, &config.triage);
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
            "file": file,
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
        file.display(),
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

fn ask(engine: &SearchEngine, cfg: &SuggestConfig, q: &str) -> Reply {
    let started = Instant::now();
    let s = suggest(engine, q, &PageContext::default(), cfg);
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    Reply {
        action: s.action,
        confidence: s.confidence,
        top: s.top.map(|a| a.front.ticket_types.clone()),
        articles: s
            .articles
            .iter()
            .map(|a| a.front.ticket_types.clone())
            .collect(),
        millis,
    }
}

fn in_scope_json(s: &SuggestScores) -> serde_json::Value {
    let calibration: Vec<serde_json::Value> = (0..BUCKETS)
        .map(|i| {
            let (n, right) = s.buckets[i];
            let share = (n > 0).then(|| right as f64 / n as f64);
            json!({"from": i as f64 / BUCKETS as f64, "questions": n, "share_right": share})
        })
        .collect();
    let at_least: Vec<serde_json::Value> = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
        .iter()
        .map(|c| {
            let (n, share) = s.at_least(*c);
            json!({"confidence": c, "questions": n, "share_right": share})
        })
        .collect();
    json!({
        "questions": s.questions,
        "answered_right": s.rate(s.answered_right),
        "answered_wrong": s.rate(s.answered_wrong),
        "suggested_with_right_article": s.rate(s.suggested_right),
        "suggested_without": s.rate(s.suggested_wrong),
        "handed_off": s.rate(s.handed_off),
        "calibration": calibration,
        "at_least": at_least,
        "p50_ms": s.percentile_millis(50.0),
        "p99_ms": s.percentile_millis(99.0),
    })
}

fn print_in_scope(name: &str, s: &SuggestScores) {
    println!("\nin scope — {name}: {} questions", s.questions);
    for (what, n) in [
        ("answered right", s.answered_right),
        ("answered wrong", s.answered_wrong),
        ("suggested, with a right article", s.suggested_right),
        ("suggested, without", s.suggested_wrong),
        ("handed off", s.handed_off),
    ] {
        println!("  {what:<34} {:>6.1}%  ({n})", 100.0 * s.rate(n));
    }
    println!("  calibration: confidence bucket → share whose first article is right");
    for i in 0..BUCKETS {
        let (n, right) = s.buckets[i];
        if n > 0 {
            println!(
                "    {:.1}–{:.1} {:>6} questions  {:>5.1}% right",
                i as f64 / BUCKETS as f64,
                (i + 1) as f64 / BUCKETS as f64,
                n,
                100.0 * right as f64 / n as f64
            );
        }
    }
    println!("  confidence ≥ c → share right:");
    for c in [0.5, 0.6, 0.7, 0.8, 0.9, 0.95] {
        let (n, share) = s.at_least(c);
        println!(
            "    ≥ {c:.2} {n:>6} questions  {:>5.1}% right",
            100.0 * share
        );
    }
}

fn run_suggest(args: &Args, file: &Path) -> anyhow::Result<ExitCode> {
    let questions = read_questions(file)?;
    let config = args.content.config()?;
    let loaded = KnowledgeBase::load(&config.content, today())?;
    let engine = SearchEngine::build(&loaded.kb).context("building the search index")?;
    let cfg = config.suggest;
    let all = evaluate_suggest(&questions, |q| ask(&engine, &cfg, q));
    let split = args.holdout_every.filter(|n| *n > 1).map(|n| {
        let pick = |held: bool| -> Vec<Question> {
            questions
                .iter()
                .enumerate()
                .filter(|(i, _)| (i % n == n - 1) == held)
                .map(|(_, q)| q.clone())
                .collect()
        };
        let (held, rest) = (pick(true), pick(false));
        let strip = |v: Vec<Question>| v;
        (
            n,
            evaluate_suggest(&strip(rest), |q| ask(&engine, &cfg, q)),
            evaluate_suggest(&strip(held), |q| ask(&engine, &cfg, q)),
        )
    });
    let mut oos = Vec::new();
    for f in &args.out_of_scope {
        let qs = read_questions(f)?;
        oos.push((f.clone(), evaluate_suggest(&qs, |q| ask(&engine, &cfg, q))));
    }
    if args.json {
        let doc = json!({
            "file": file,
            "thresholds": {"answer": cfg.answer_threshold, "suggest": cfg.suggest_threshold},
            "in_scope": in_scope_json(&all),
            "split": split.as_ref().map(|(n, fit, held)| json!({
                "every": n, "fitted_rows": in_scope_json(fit), "held_out_rows": in_scope_json(held),
            })),
            "out_of_scope": oos.iter().map(|(f, s)| json!({
                "file": f, "questions": s.questions, "answered": s.answered_rate(),
                "suggested": s.rate(s.suggested_right + s.suggested_wrong),
                "handed_off": s.rate(s.handed_off),
            })).collect::<Vec<_>>(),
        });
        println!("{doc:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "suggestion endpoint on {} ({} published articles); answer at confidence ≥ {}, suggest ≥ {}",
        file.display(),
        engine.articles().len(),
        cfg.answer_threshold,
        cfg.suggest_threshold
    );
    print_in_scope("all rows", &all);
    if let Some((n, fit, held)) = &split {
        print_in_scope(&format!("rows used in fitting (all but every {n}th)"), fit);
        print_in_scope(&format!("held-out rows (every {n}th)"), held);
    }
    for (f, s) in &oos {
        println!(
            "\nout of scope — {}: {} questions\n  answered anyway {:>6.1}%  suggested {:>6.1}%  handed off {:>6.1}%",
            f.display(),
            s.questions,
            100.0 * s.answered_rate(),
            100.0 * s.rate(s.suggested_right + s.suggested_wrong),
            100.0 * s.rate(s.handed_off)
        );
    }
    println!(
        "\ntime per question (search + decision, in process): p50 {:.2} ms, p99 {:.2} ms",
        all.percentile_millis(50.0),
        all.percentile_millis(99.0)
    );
    Ok(ExitCode::SUCCESS)
}

/// `--triage`: the category triage would give each question, against its label.
fn triage(
    args: &Args,
    file: &Path,
    questions: &[crate::eval::Question],
    engine: &SearchEngine,
    config: &crate::triage::TriageConfig,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let score = crate::eval::evaluate_triage(questions, |q| {
        crate::triage::category::from_search(engine, q, config.category_hits, &config.keyword_rules)
    });
    let worst = score.worst(args.worst);
    if args.json {
        let doc = json!({
            "file": file,
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
        file.display(),
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
