//! Question-style query sets for the latency histogram, made from the BANKING77 training
//! questions in `tests/data/` (CC BY 4.0, Casanueva et al. 2020): as asked, misspelled,
//! containing a synonym, cut mid-word as typed, and about 40 words long.
//!
//! Lives in a folder so Cargo does not take it for a benchmark of its own.

use std::hint::black_box;
use std::time::{Duration, Instant};

use deflect::search::{SearchEngine, SearchRequest};

/// Queries of each kind.
pub type Kinds = Vec<(&'static str, Vec<String>)>;

fn questions() -> Vec<String> {
    deflect::eval::read_questions(std::path::Path::new("tests/data/banking77_train.csv"))
        .expect("tests/data/banking77_train.csv")
        .into_iter()
        .map(|q| q.text)
        .collect()
}

/// Every synonym term of the sample content, lowercased.
fn synonym_terms() -> Vec<String> {
    let src = std::fs::read_to_string("content/synonyms.txt").expect("content/synonyms.txt");
    src.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| l.split("=>").next().unwrap_or_default().split(','))
        .map(|t| t.trim().to_lowercase())
        .filter(|t| t.len() > 2)
        .collect()
}

/// The longest word with two inner letters swapped: a typo within every typo budget.
fn misspell(q: &str) -> String {
    let words: Vec<&str> = q.split_whitespace().collect();
    let Some((i, _)) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().all(char::is_alphabetic))
        .max_by_key(|(_, w)| w.len())
    else {
        return q.to_string();
    };
    let mut out: Vec<String> = words.iter().map(ToString::to_string).collect();
    let mut chars: Vec<char> = out[i].chars().collect();
    if chars.len() >= 5 {
        chars.swap(2, 3);
    }
    out[i] = chars.into_iter().collect();
    out.join(" ")
}

/// The first words as typed so far, the last one cut to its first four letters.
fn typing(q: &str) -> Option<String> {
    let words: Vec<&str> = q.split_whitespace().take(4).collect();
    let last = words.last()?;
    if last.chars().count() < 6 {
        return None;
    }
    let cut: String = last.chars().take(4).collect();
    Some(format!("{} {cut}", words[..words.len() - 1].join(" ")))
}

pub fn query_kinds() -> Kinds {
    let questions = questions();
    let synonyms = synonym_terms();
    let exact: Vec<String> = questions.iter().step_by(3).cloned().collect();
    let misspelled: Vec<String> = exact.iter().map(|q| misspell(q)).collect();
    let synonym: Vec<String> = questions
        .iter()
        .filter(|q| {
            let q = format!(" {} ", q.to_lowercase());
            synonyms.iter().any(|t| q.contains(&format!(" {t} ")))
        })
        .cloned()
        .collect();
    let prefix: Vec<String> = questions.iter().filter_map(|q| typing(q)).collect();
    let long: Vec<String> = questions
        .chunks(3)
        .map(|c| {
            let words: Vec<&str> = c.iter().flat_map(|q| q.split_whitespace()).collect();
            words[..words.len().min(40)].join(" ")
        })
        .filter(|q| q.split_whitespace().count() >= 30)
        .collect();
    vec![
        ("exact", exact),
        ("misspelled", misspelled),
        ("synonym", synonym),
        ("prefix", prefix),
        ("long", long),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Times every query of every kind once (after one warm-up pass) and prints median, p99 and
/// the slowest per kind; writes the same as JSON under `target/criterion/latency/`. With
/// `REPEAT=n` in the environment each query is timed `n` times and its fastest time counts:
/// steadier medians on a machine shared with others; with `SLOWEST=n`, the `n` slowest
/// queries of each kind are printed with their times.
pub fn report(size: &str, engine: &SearchEngine, kinds: &Kinds) {
    let mut rows = Vec::new();
    println!(
        "\n{size}: single-search latency ({} articles)",
        engine.articles().len()
    );
    println!(
        "{:<11} {:>6} {:>10} {:>10} {:>10}",
        "kind", "n", "median", "p99", "max"
    );
    for (kind, queries) in kinds {
        for q in queries {
            black_box(engine.search(&SearchRequest::new(q)).total);
        }
        let repeat: usize = std::env::var("REPEAT")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1);
        let mut timed: Vec<(Duration, &String)> = queries
            .iter()
            .map(|q| {
                let fastest = (0..repeat.max(1))
                    .map(|_| {
                        let started = Instant::now();
                        black_box(engine.search(&SearchRequest::new(q)).total);
                        started.elapsed()
                    })
                    .min()
                    .unwrap_or_default();
                (fastest, q)
            })
            .collect();
        timed.sort_unstable();
        let times: Vec<Duration> = timed.iter().map(|(t, _)| *t).collect();
        let (median, p99, max) = (
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or_default(),
        );
        println!(
            "{kind:<11} {:>6} {:>8.3}ms {:>8.3}ms {:>8.3}ms",
            times.len(),
            median.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
        // `SLOWEST=n`: which queries make the tail.
        let slowest: usize = std::env::var("SLOWEST")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        for (t, q) in timed.iter().rev().take(slowest) {
            println!("  {:>8.3}ms  {q}", t.as_secs_f64() * 1e3);
        }
        rows.push(serde_json::json!({
            "kind": kind,
            "queries": times.len(),
            "median_ms": median.as_secs_f64() * 1e3,
            "p99_ms": p99.as_secs_f64() * 1e3,
            "max_ms": max.as_secs_f64() * 1e3,
        }));
    }
    let dir = std::path::Path::new("target/criterion/latency");
    if std::fs::create_dir_all(dir).is_ok() {
        let _ = std::fs::write(
            dir.join(format!("{size}.json")),
            serde_json::to_string_pretty(&rows).unwrap_or_default(),
        );
    }
}
