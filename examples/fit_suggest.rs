//! Fits the suggestion confidence model (`deflect::suggest::{INTERCEPT, COEFFICIENTS}`):
//! logistic regression by Newton's method with a small L2 penalty, on
//!
//! - in-scope questions (`tests/data/banking77_train.csv`) except every 5th row, which is held
//!   out for checking calibration (`deflect eval --suggest … --holdout-every 5`); label: the
//!   first result answers the question's ticket type;
//! - out-of-scope questions (`tests/data/clinc150_oos_train.csv`); label: wrong, weighted so
//!   they count as `OOS_SHARE` (default 0.3) of the in-scope rows.
//!
//! Run from the repository root: `cargo run --release --example fit_suggest [CONTENT]`.
//! It prints the constants to paste into `src/suggest.rs`.

// Index loops read like the linear algebra they implement.
#![allow(clippy::needless_range_loop)]

use std::path::Path;

use anyhow::Context as _;
use deflect::content::KnowledgeBase;
use deflect::eval::read_questions;
use deflect::search::SearchEngine;
use deflect::suggest::{Context, FEATURES, HandoffReason, SuggestConfig, suggest};

const HOLDOUT_EVERY: usize = 5;
const L2: f64 = 0.01;

fn main() -> anyhow::Result<()> {
    let content = std::env::args().nth(1).unwrap_or_else(|| "content".into());
    let oos_share: f64 = std::env::var("OOS_SHARE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.3);
    let loaded = KnowledgeBase::load(Path::new(&content), chrono::Local::now().date_naive())?;
    let engine = SearchEngine::build(&loaded.kb).context("index")?;
    let cfg = SuggestConfig::default();
    let mut rows: Vec<(Vec<f64>, f64, f64)> = Vec::new(); // features, label, weight
    let in_scope = read_questions(Path::new("tests/data/banking77_train.csv"))?;
    // Every question as (features, top right, any listed article right, small talk or no match).
    let mut fit_set = Vec::new();
    let mut held_set = Vec::new();
    for (i, q) in in_scope.iter().enumerate() {
        let s = suggest(&engine, &q.text, &Context::default(), &cfg);
        let case = outcome_case(&s, Some(&q.category));
        if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 {
            held_set.push(case);
            continue;
        }
        fit_set.push(case);
        let Some(top) = s.top else { continue };
        if s.evidence.content_words == 0 {
            continue;
        }
        let right = top.front.ticket_types.contains(&q.category);
        rows.push((
            s.evidence.features().to_vec(),
            f64::from(u8::from(right)),
            1.0,
        ));
    }
    let n_in = rows.len();
    let oos = read_questions(Path::new("tests/data/clinc150_oos_train.csv"))?;
    let mut oos_rows = Vec::new();
    for q in &oos {
        let s = suggest(&engine, &q.text, &Context::default(), &cfg);
        if s.top.is_none() || s.evidence.content_words == 0 {
            continue;
        }
        oos_rows.push(s.evidence.features().to_vec());
    }
    let w = if oos_rows.is_empty() {
        0.0
    } else {
        oos_share * n_in as f64 / oos_rows.len() as f64
    };
    rows.extend(oos_rows.into_iter().map(|f| (f, 0.0, w)));
    let k = FEATURES.len() + 1;
    let mut beta = vec![0.0; k];
    for iter in 0..50 {
        let mut grad = vec![0.0; k];
        let mut hess = vec![vec![0.0; k]; k];
        for (f, y, wt) in &rows {
            let x: Vec<f64> = std::iter::once(1.0).chain(f.iter().copied()).collect();
            let z: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            for a in 0..k {
                grad[a] += wt * (y - p) * x[a];
                for b in 0..k {
                    hess[a][b] += wt * p * (1.0 - p) * x[a] * x[b];
                }
            }
        }
        for a in 1..k {
            grad[a] -= L2 * beta[a] * rows.len() as f64 * 0.001;
            hess[a][a] += L2 * rows.len() as f64 * 0.001;
        }
        let step = solve(hess, grad).context("singular Hessian")?;
        let size: f64 = step.iter().map(|s| s.abs()).sum();
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        if size < 1e-8 {
            eprintln!("converged after {} iterations", iter + 1);
            break;
        }
    }
    let right = rows.iter().take(n_in).filter(|r| r.1 > 0.5).count();
    eprintln!(
        "{n_in} in-scope rows ({right} with a right first result), {} out-of-scope rows at weight {w:.3}",
        rows.len() - n_in
    );
    let mut sets = vec![
        ("in scope, fitted rows", fit_set),
        ("in scope, held-out rows", held_set),
    ];
    for f in [
        "tests/data/clinc150_oos_val.csv",
        "tests/data/oos_handwritten.csv",
    ] {
        let qs = read_questions(Path::new(f))?;
        let cases = qs
            .iter()
            .map(|q| outcome_case(&suggest(&engine, &q.text, &Context::default(), &cfg), None))
            .collect();
        sets.push((f, cases));
    }
    for (name, cases) in &sets {
        eprintln!("{name}: {} questions", cases.len());
        for t in [0.6, 0.7, 0.75, 0.8, 0.85, 0.9] {
            let (mut right, mut wrong, mut sug_right, mut sug_wrong, mut off) = (0, 0, 0, 0, 0);
            for c in cases {
                let p = prob(&beta, &c.0);
                if c.3 || p < cfg.suggest_threshold {
                    off += 1;
                } else if p >= t {
                    if c.1 { right += 1 } else { wrong += 1 }
                } else if c.2 {
                    sug_right += 1;
                } else {
                    sug_wrong += 1;
                }
            }
            let pc = |n: usize| 100.0 * n as f64 / cases.len().max(1) as f64;
            eprintln!(
                "  answer ≥ {t:.2}: answered right {:5.1}%  wrong {:5.1}%  suggested right {:5.1}%  without {:5.1}%  handed off {:5.1}%",
                pc(right),
                pc(wrong),
                pc(sug_right),
                pc(sug_wrong),
                pc(off)
            );
        }
        let scored: Vec<(f64, bool)> = cases
            .iter()
            .filter(|c| !c.3)
            .map(|c| (prob(&beta, &c.0), c.1))
            .collect();
        for c in [0.5, 0.7, 0.8, 0.9] {
            let above: Vec<bool> = scored
                .iter()
                .filter(|(p, _)| *p >= c)
                .map(|x| x.1)
                .collect();
            let share = above.iter().filter(|r| **r).count() as f64 / above.len().max(1) as f64;
            eprintln!(
                "  confidence ≥ {c:.1}: {:>6} questions, {:5.1}% right",
                above.len(),
                100.0 * share
            );
        }
    }
    println!("pub const INTERCEPT: f64 = {:.4};", beta[0]);
    println!(
        "pub const COEFFICIENTS: [f64; {}] = [{}];",
        FEATURES.len(),
        beta[1..]
            .iter()
            .map(|b| format!("{b:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (name, b) in FEATURES.iter().zip(&beta[1..]) {
        eprintln!("  {name:<22} {b:>8.4}");
    }
    Ok(())
}

type Case = (Vec<f64>, bool, bool, bool);

/// Features, first result right, a listed article right, handed off regardless (small talk,
/// no match, no content words).
fn outcome_case(s: &deflect::suggest::Suggestion<'_>, category: Option<&str>) -> Case {
    let fits = |a: &deflect::content::Article| {
        category.is_some_and(|c| a.front.ticket_types.iter().any(|t| t == c))
    };
    let forced = s.top.is_none()
        || s.evidence.content_words == 0
        || s.evidence.matched == 0.0
        || matches!(
            s.handoff,
            Some(
                HandoffReason::Greeting
                    | HandoffReason::Thanks
                    | HandoffReason::AboutTheBot
                    | HandoffReason::Gibberish
                    | HandoffReason::NoMatch
            )
        );
    (
        s.evidence.features().to_vec(),
        s.top.is_some_and(fits),
        s.articles.iter().any(|a| fits(a)),
        forced,
    )
}

fn prob(beta: &[f64], f: &[f64]) -> f64 {
    let z: f64 = beta[0] + f.iter().zip(&beta[1..]).map(|(x, b)| x * b).sum::<f64>();
    1.0 / (1.0 + (-z).exp())
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            let (above, below) = a.split_at_mut(row);
            for (x, p) in below[0][col..].iter_mut().zip(&above[col][col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}
