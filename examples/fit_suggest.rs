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

use std::path::Path;

use anyhow::Context as _;
use deflect::content::KnowledgeBase;
use deflect::eval::read_questions;
use deflect::search::SearchEngine;
use deflect::suggest::{Context, FEATURES, SuggestConfig, suggest};

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
    for (i, q) in in_scope.iter().enumerate() {
        if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 {
            continue;
        }
        let s = suggest(&engine, &q.text, &Context::default(), &cfg);
        let Some(top) = s.top else { continue };
        if s.evidence.content_words == 0 {
            continue;
        }
        let right = top.front.ticket_types.iter().any(|t| *t == q.category);
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
            for c in col..n {
                a[row][c] -= f * a[col][c];
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
