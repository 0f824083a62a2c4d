//! The per-fold and mean tables, and the JSON report.

use super::*;

#[derive(Debug, Clone, Serialize)]
pub(super) struct PoisonReport {
    pub(super) sessions: u64,
    pub(super) label: String,
    pub(super) wrong_article: String,
    pub(super) retrain: Option<Value>,
    pub(super) top1_without: Option<f64>,
    pub(super) top1_with: Option<f64>,
    /// The poisoned label's held-out questions measured, whose first result changed, and
    /// whose first result is now the poisoned article.
    pub(super) label_questions: usize,
    pub(super) label_first_changed: usize,
    pub(super) label_first_is_poison: usize,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct FoldReport {
    pub(super) fold: u32,
    pub(super) held_out: usize,
    pub(super) measured: usize,
    pub(super) replayed: usize,
    pub(super) retrain: Option<Value>,
    pub(super) cold: Rates,
    pub(super) warm: Rates,
    pub(super) poison: Option<PoisonReport>,
    pub(super) requests: u64,
    pub(super) failed_requests: u64,
    pub(super) visitors: Value,
    pub(super) replay_secs: f64,
    pub(super) measure_secs: f64,
    pub(super) total_secs: f64,
}

pub(super) fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |x| format!("{:.1}%", 100.0 * x))
}

pub(super) fn value(name: &str, x: Option<f64>) -> String {
    if name.ends_with("(pts)") {
        x.map_or_else(|| "–".to_string(), |x| format!("{x:+.1}"))
    } else {
        pct(x)
    }
}

pub(super) fn delta(name: &str, cold: Option<f64>, warm: Option<f64>) -> String {
    match (cold, warm) {
        (Some(c), Some(w)) if name.ends_with("(pts)") => format!("{:+.1}", w - c),
        (Some(c), Some(w)) => format!("{:+.1}", 100.0 * (w - c)),
        _ => "–".to_string(),
    }
}

pub(super) fn mean(
    reports: &[FoldReport],
    pick: impl Fn(&FoldReport) -> Option<f64>,
) -> Option<f64> {
    let xs: Vec<f64> = reports.iter().filter_map(pick).collect();
    #[allow(clippy::cast_precision_loss)]
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

pub(super) fn table(cold: &Rates, warm: &Rates) {
    println!("  {:<30} {:>8} {:>8} {:>8}", "", "cold", "warm", "Δ pts");
    for (name, g) in METRICS {
        let (c, w) = (g(cold), g(warm));
        if c.is_none() && w.is_none() {
            continue;
        }
        println!(
            "  {name:<30} {:>8} {:>8} {:>8}",
            value(name, c),
            value(name, w),
            delta(name, c, w)
        );
    }
}

pub(super) fn print_report(
    file: &Path,
    o: &Options,
    plan: &Plan,
    reports: &[FoldReport],
    total_secs: f64,
    as_json: bool,
) {
    let mean_of = |warm: bool| Rates {
        search_top1: mean(reports, |r| pick(r, warm).search_top1),
        search_top3: mean(reports, |r| pick(r, warm).search_top3),
        suggest_answered_right: mean(reports, |r| pick(r, warm).suggest_answered_right),
        suggest_answered_wrong: mean(reports, |r| pick(r, warm).suggest_answered_wrong),
        suggest_suggested: mean(reports, |r| pick(r, warm).suggest_suggested),
        suggest_handed_off: mean(reports, |r| pick(r, warm).suggest_handed_off),
        triage_category: mean(reports, |r| pick(r, warm).triage_category),
        misspelled_top3: mean(reports, |r| pick(r, warm).misspelled_top3),
        misspelled_top3_loss_pts: mean(reports, |r| pick(r, warm).misspelled_top3_loss_pts),
        out_of_scope_answered: mean(reports, |r| pick(r, warm).out_of_scope_answered),
    };
    let (cold, warm) = (mean_of(false), mean_of(true));
    let poison_moved = mean(reports, |r| {
        r.poison.as_ref().and_then(|p| {
            p.top1_with
                .zip(p.top1_without)
                .map(|(w, c)| 100.0 * (w - c))
        })
    });
    let replay_mean = mean(reports, |r| Some(r.replay_secs)).unwrap_or(0.0);
    let measure_mean = mean(reports, |r| Some(r.measure_secs)).unwrap_or(0.0);
    if as_json {
        let doc = json!({
            "file": file,
            "misspelled": o.misspelled,
            "out_of_scope": plan.out_of_scope.iter().map(|(p, q)| json!({"file": p, "questions": q.len()})).collect::<Vec<_>>(),
            "folds": o.folds,
            "seed": o.seed,
            "poison": o.poison,
            "per_fold": reports,
            "mean": {"cold": cold, "warm": warm, "poison_top1_moved_pts": poison_moved},
            "total_secs": total_secs,
        });
        println!("{doc:#}");
        return;
    }
    println!(
        "deflect eval --warm: {} ({} questions), {} folds, seed {}",
        file.display(),
        plan.questions.len(),
        o.folds,
        o.seed
    );
    for r in reports {
        println!(
            "\nfold {}: {} sessions replayed, {} of {} held-out questions measured; {} requests ({} failed); replay {:.0} s, measure {:.0} s",
            r.fold,
            r.replayed,
            r.measured,
            r.held_out,
            r.requests,
            r.failed_requests,
            r.replay_secs,
            r.measure_secs
        );
        println!("  visitors: {}", r.visitors);
        match &r.retrain {
            Some(t) => println!("  retrain: {t}"),
            None => println!("  retrain: not available on this server (warm = cold)"),
        }
        table(&r.cold, &r.warm);
        if let Some(p) = &r.poison {
            println!(
                "  poison: {} sessions from one client on `{}` → `{}`: held-out top-1 {} → {}; that label's {} held-out questions: first result changed for {}, is the poisoned article for {}",
                p.sessions,
                p.label,
                p.wrong_article,
                pct(p.top1_without),
                pct(p.top1_with),
                p.label_questions,
                p.label_first_changed,
                p.label_first_is_poison
            );
        }
    }
    if reports.len() > 1 {
        println!("\nmean over {} folds:", reports.len());
        table(&cold, &warm);
        if let Some(m) = poison_moved {
            println!("  poison moved held-out top-1 by {m:+.2} pts (mean)");
        }
    }
    println!(
        "\nsummary: search top-1 {} → {}, top-3 {} → {}, suggest right {} → {} (wrong {} → {}), triage {} → {}; {} fold(s) in {:.0} s (replay {:.0} s, measure {:.0} s per fold)",
        pct(cold.search_top1),
        pct(warm.search_top1),
        pct(cold.search_top3),
        pct(warm.search_top3),
        pct(cold.suggest_answered_right),
        pct(warm.suggest_answered_right),
        pct(cold.suggest_answered_wrong),
        pct(warm.suggest_answered_wrong),
        pct(cold.triage_category),
        pct(warm.triage_category),
        reports.len(),
        total_secs,
        replay_mean,
        measure_mean
    );
}

pub(super) fn pick(r: &FoldReport, warm: bool) -> &Rates {
    if warm { &r.warm } else { &r.cold }
}
