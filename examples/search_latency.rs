//! Single-search latency over the question sets of `benches/latency` (BANKING77 training
//! questions, CC BY 4.0, Casanueva et al. 2020) against a content folder on disk, its index
//! kept in a folder and reused: repeated measurements at 100,000 articles without rebuilding
//! the index each time, a steady process to profile, and the first result's relevance on the
//! same questions (top-1, top-3) to weigh a speed-up against.
//!
//! ```sh
//! cargo run --release --example generate_corpus -- /tmp/corpus100k 100000
//! cargo run --release --example search_latency -- /tmp/corpus100k /tmp/index100k [ROUNDS]
//! ```
//!
//! The two-stage ranking's settings can be varied for a measurement: `CANDIDATES=32`,
//! `COMMON_SHARE=0.1`, `EXHAUSTIVE_POSTINGS=20000`, `FIRST_STAGE_TERMS=24`, `CHAMPIONS=8000`
//! (0: none), `STOP_WORDS_IN_BODY=1000` (up to how many articles); `KINDS=exact,long`
//! measures those kinds only, `QUESTIONS=200` 200 questions of each kind (spread over its set:
//! for a profiler such as callgrind), `SLOWEST=10` names each kind's ten slowest questions,
//! `RELEVANCE=0` skips the relevance pass, `IN_RAM=1` builds the index in memory (as the
//! criterion bench does) instead of opening the folder, and `MIN_WORDS=8` / `MAX_WORDS=10`
//! measure relevance on the questions with that many words (stop words aside) only.

#[path = "../benches/latency/mod.rs"]
mod latency;

use std::path::{Path, PathBuf};
use std::time::Instant;

use deflect::content::{KnowledgeBase, today};
use deflect::search::{SearchEngine, SearchRequest, Stages};

/// The allocator `deflect serve` runs with, so the numbers are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn setting<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .map_err(|_| anyhow::anyhow!("{name}={v}: not a number"))
        })
        .transpose()
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(content), Some(index)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: search_latency CONTENT_DIR INDEX_DIR [ROUNDS]");
    };
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(1);
    let started = Instant::now();
    let kb = KnowledgeBase::load(&PathBuf::from(content), today())?.kb;
    let loaded = started.elapsed();
    // `IN_RAM=1`: the index built in memory, as the criterion bench builds it.
    let (engine, sync) = if std::env::var("IN_RAM").is_ok_and(|v| v == "1") {
        SearchEngine::in_memory(&kb)?
    } else {
        SearchEngine::open(&kb, &PathBuf::from(index))?
    };
    eprintln!(
        "{} articles: content read in {:.1} s, index ready in {:.1} s ({} reindexed)",
        engine.articles().len(),
        loaded.as_secs_f64(),
        (started.elapsed() - loaded).as_secs_f64(),
        sync.changed()
    );
    let defaults = Stages::default();
    let engine = engine.with_stages(Stages {
        from_postings: setting("EXHAUSTIVE_POSTINGS")?.unwrap_or(defaults.from_postings),
        candidates: setting("CANDIDATES")?.unwrap_or(defaults.candidates),
        common_share: setting("COMMON_SHARE")?.unwrap_or(defaults.common_share),
        first_stage_terms: setting("FIRST_STAGE_TERMS")?.unwrap_or(defaults.first_stage_terms),
        champions: setting("CHAMPIONS")?.unwrap_or(defaults.champions),
        stop_words_in_body: setting("STOP_WORDS_IN_BODY")?.unwrap_or(defaults.stop_words_in_body),
    });
    let mut kinds = latency::query_kinds();
    if let Ok(only) = std::env::var("KINDS") {
        kinds.retain(|(kind, _)| only.split(',').any(|k| k == *kind));
    }
    // `QUESTIONS=n`: n questions of each kind, spread over the set (for a slow profiler).
    if let Some(n) = setting::<usize>("QUESTIONS")? {
        for (_, questions) in &mut kinds {
            let step = (questions.len() / n.max(1)).max(1);
            *questions = questions.iter().step_by(step).take(n).cloned().collect();
        }
    }
    for round in 1..=rounds {
        latency::report(&format!("round_{round}"), &engine, &kinds);
    }
    if std::env::var("RELEVANCE").is_ok_and(|v| v == "0") {
        return Ok(());
    }
    relevance(&engine, Path::new("tests/data/banking77_train.csv"))
}

/// How often the first result (and one of the first three) answers the question's label.
fn relevance(engine: &SearchEngine, questions: &Path) -> anyhow::Result<()> {
    let mut questions = deflect::eval::read_questions(questions)?;
    let lo: usize = setting("MIN_WORDS")?.unwrap_or(0);
    let hi: usize = setting("MAX_WORDS")?.unwrap_or(usize::MAX);
    questions.retain(|q| {
        let n = engine
            .plan(&q.text)
            .words
            .iter()
            .filter(|w| !w.stop)
            .count();
        n >= lo && n <= hi
    });
    let scores = deflect::eval::evaluate(&questions, |q| {
        engine
            .search(&SearchRequest::new(q))
            .hits
            .iter()
            .map(|h| h.article.front.ticket_types.clone())
            .collect()
    });
    println!(
        "\nrelevance over {} questions: top-1 {:.1} %, top-3 {:.1} %",
        questions.len(),
        100.0 * scores.top1_rate(),
        100.0 * scores.top3_rate()
    );
    Ok(())
}
