//! Measuring a fold through the API, cold and warm, and the poisoning run.

use super::*;

/// One measurement's rates (None: not measured).
#[derive(Debug, Clone, Default, Serialize)]
pub(super) struct Rates {
    pub(super) search_top1: Option<f64>,
    pub(super) search_top3: Option<f64>,
    pub(super) suggest_answered_right: Option<f64>,
    pub(super) suggest_answered_wrong: Option<f64>,
    pub(super) suggest_suggested: Option<f64>,
    pub(super) suggest_handed_off: Option<f64>,
    pub(super) triage_category: Option<f64>,
    pub(super) misspelled_top3: Option<f64>,
    /// Clean top-3 minus misspelled top-3 on the same rows, in points.
    pub(super) misspelled_top3_loss_pts: Option<f64>,
    pub(super) out_of_scope_answered: Option<f64>,
}

/// The metrics in display order: name, getter.
pub(super) type Getter = fn(&Rates) -> Option<f64>;
pub(super) const METRICS: [(&str, Getter); 10] = [
    ("search top-1", |r| r.search_top1),
    ("search top-3", |r| r.search_top3),
    ("suggest answered right", |r| r.suggest_answered_right),
    ("suggest answered wrong", |r| r.suggest_answered_wrong),
    ("suggest suggested", |r| r.suggest_suggested),
    ("suggest handed off", |r| r.suggest_handed_off),
    ("triage category", |r| r.triage_category),
    ("misspelled top-3", |r| r.misspelled_top3),
    ("misspelled top-3 loss (pts)", |r| {
        r.misspelled_top3_loss_pts
    }),
    ("out of scope answered", |r| r.out_of_scope_answered),
];

pub(super) fn share(hits: usize, of: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (of > 0).then(|| hits as f64 / of as f64)
}

/// [`run_fold`] once its server is up.
#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
pub(super) async fn measure_fold(
    plan: &Plan,
    o: &Options,
    k: u32,
    server: &mut Server,
    held_out: Vec<usize>,
    held_in: Vec<usize>,
    n_held_out: usize,
    started: Instant,
) -> anyhow::Result<FoldReport> {
    let qs = &plan.questions;
    let fold = Arc::new(Fold {
        api: server.api.clone(),
        bearer: server.bearer.clone(),
        answers: Arc::clone(&plan.answers),
        fold: k,
        seed: o.seed,
        tally: Tally::default(),
    });
    let held_out = Arc::new(held_out);
    let held_in = Arc::new(held_in);
    let c = o.concurrency;

    // Cold triage: tickets have no learned=false, so they are filed while nothing is learned
    // (unlabelled tickets teach nothing; only an agent's type does).
    let sample = o.triage_sample.min(held_out.len());
    let triage_cold = {
        let (f, ho, qs) = (Arc::clone(&fold), Arc::clone(&held_out), Arc::clone(qs));
        par_map(sample, c, "triage, cold", move |i| {
            let (f, q) = (Arc::clone(&f), qs[ho[i]].clone());
            async move { f.triage(&q).await }
        })
        .await?
    };
    server.check_alive()?;

    let replay_started = Instant::now();
    {
        let (f, hi, qs) = (Arc::clone(&fold), Arc::clone(&held_in), Arc::clone(qs));
        par_map(held_in.len(), c, "replay", move |i| {
            let (f, q) = (Arc::clone(&f), qs[hi[i]].clone());
            async move { f.visit(i as u64, &q).await }
        })
        .await?;
    }
    let replay_secs = replay_started.elapsed().as_secs_f64();
    server.check_alive()?;
    let retrain = fold.retrain().await?;
    if let Some(r) = &retrain {
        eprintln!("  retrained: {r}");
    }

    let measure_started = Instant::now();
    // Search and suggest, warm and cold, on the held-out rows (and their misspelled form).
    let per_question = {
        let (f, ho, qs) = (Arc::clone(&fold), Arc::clone(&held_out), Arc::clone(qs));
        let miss = plan.misspelled.clone();
        par_map(held_out.len(), c, "held-out questions", move |i| {
            let (f, q) = (Arc::clone(&f), qs[ho[i]].clone());
            let m = miss.as_ref().map(|m| m[ho[i]].text.clone());
            async move {
                let (warm, warm_first) = f.rank(&q.text, &q.category, true).await;
                let (cold, _) = f.rank(&q.text, &q.category, false).await;
                let (warm_s, _) = f.outcome(&q.text, &q.category, true).await;
                let (cold_s, _) = f.outcome(&q.text, &q.category, false).await;
                let miss = match m {
                    Some(m) => Some((
                        f.rank(&m, &q.category, true).await.0,
                        f.rank(&m, &q.category, false).await.0,
                    )),
                    None => None,
                };
                Measured {
                    warm,
                    cold,
                    warm_first,
                    warm_s,
                    cold_s,
                    miss,
                }
            }
        })
        .await?
    };
    let triage_warm = {
        let (f, ho, qs) = (Arc::clone(&fold), Arc::clone(&held_out), Arc::clone(qs));
        par_map(sample, c, "triage, warm", move |i| {
            let (f, q) = (Arc::clone(&f), qs[ho[i]].clone());
            async move { f.triage(&q).await }
        })
        .await?
    };
    let mut oos_warm = (0, 0);
    let mut oos_cold = (0, 0);
    for (path, oq) in &plan.out_of_scope {
        let (f, oq) = (Arc::clone(&fold), Arc::clone(oq));
        let label = format!("out of scope ({})", path.display());
        let answered = par_map(oq.len(), c, &label, move |i| {
            let (f, q) = (Arc::clone(&f), oq[i].text.clone());
            async move {
                (
                    f.outcome(&q, "", true).await.1,
                    f.outcome(&q, "", false).await.1,
                )
            }
        })
        .await?;
        oos_warm.0 += answered.iter().filter(|a| a.0).count();
        oos_cold.0 += answered.iter().filter(|a| a.1).count();
        oos_warm.1 += answered.len();
        oos_cold.1 += answered.len();
    }
    let measure_secs = measure_started.elapsed().as_secs_f64();
    server.check_alive()?;

    let warm = rates(&per_question, true, &triage_warm, oos_warm);
    let cold = rates(&per_question, false, &triage_cold, oos_cold);

    let poison = if o.poison > 0 {
        Some(
            poison(
                plan,
                o,
                &fold,
                &held_in,
                &held_out,
                &per_question,
                warm.search_top1,
            )
            .await?,
        )
    } else {
        None
    };
    server.check_alive()?;
    let t = &fold.tally;
    if get(&t.server_errors) > 0 {
        eprintln!(
            "warning: fold {k}: the server answered {} requests with 5xx; its log ends:\n{}",
            get(&t.server_errors),
            server.log_tail(20)
        );
    }
    let visitors = json!({
        "searches": get(&t.searches), "suggestions": get(&t.suggestions),
        "right_clicks": get(&t.right_clicks), "wrong_clicks": get(&t.wrong_clicks),
        "helpful_votes": get(&t.helpful), "not_helpful_votes": get(&t.not_helpful),
        "tickets": get(&t.tickets), "agent_corrections": get(&t.corrections),
    });
    let report = FoldReport {
        fold: k,
        held_out: n_held_out,
        measured: held_out.len(),
        replayed: held_in.len(),
        retrain,
        cold,
        warm,
        poison,
        requests: get(&t.requests),
        failed_requests: get(&t.failed),
        visitors,
        replay_secs,
        measure_secs,
        total_secs: started.elapsed().as_secs_f64(),
    };
    Ok(report)
}

/// One held-out question's measurements.
#[derive(Debug, Clone)]
pub(super) struct Measured {
    pub(super) warm: Option<usize>,
    pub(super) cold: Option<usize>,
    pub(super) warm_first: Option<String>,
    pub(super) warm_s: Outcome,
    pub(super) cold_s: Outcome,
    /// Misspelled form: (warm rank, cold rank).
    pub(super) miss: Option<(Option<usize>, Option<usize>)>,
}

pub(super) fn rates(
    m: &[Measured],
    warm: bool,
    triage: &[Option<bool>],
    oos: (usize, usize),
) -> Rates {
    let rank = |x: &Measured| if warm { x.warm } else { x.cold };
    let out = |x: &Measured| if warm { x.warm_s } else { x.cold_s };
    let n = m.len();
    let within = |k: usize| m.iter().filter(|x| rank(x).is_some_and(|r| r < k)).count();
    let outcome = |o: Outcome| m.iter().filter(|x| out(x) == o).count();
    let missed: Vec<(Option<usize>, Option<usize>)> = m
        .iter()
        .filter_map(|x| x.miss.map(|(w, c)| (rank(x), if warm { w } else { c })))
        .collect();
    let top3 = |r: Option<usize>| r.is_some_and(|r| r < 3);
    let miss_top3 = share(
        missed.iter().filter(|(_, m)| top3(*m)).count(),
        missed.len(),
    );
    let clean_top3 = share(
        missed.iter().filter(|(c, _)| top3(*c)).count(),
        missed.len(),
    );
    let judged: Vec<bool> = triage.iter().filter_map(|t| *t).collect();
    Rates {
        search_top1: share(within(1), n),
        search_top3: share(within(3), n),
        suggest_answered_right: share(outcome(Outcome::AnsweredRight), n),
        suggest_answered_wrong: share(outcome(Outcome::AnsweredWrong), n),
        suggest_suggested: share(outcome(Outcome::Suggested), n),
        suggest_handed_off: share(outcome(Outcome::HandedOff), n),
        triage_category: share(judged.iter().filter(|t| **t).count(), judged.len()),
        misspelled_top3: miss_top3,
        misspelled_top3_loss_pts: clean_top3.zip(miss_top3).map(|(c, m)| 100.0 * (c - m)),
        out_of_scope_answered: share(oos.0, oos.1),
    }
}

/// One client replays `--poison` sessions for one label: search, click a fixed wrong
/// article, vote it helpful; then retrain and measure what moved.
pub(super) async fn poison(
    plan: &Plan,
    o: &Options,
    fold: &Arc<Fold>,
    held_in: &Arc<Vec<usize>>,
    held_out: &Arc<Vec<usize>>,
    clean: &[Measured],
    top1_without: Option<f64>,
) -> anyhow::Result<PoisonReport> {
    let qs = &plan.questions;
    let mut by_label: BTreeMap<&str, (Vec<usize>, usize)> = BTreeMap::new();
    for &i in held_in.iter() {
        by_label.entry(&qs[i].category).or_default().0.push(i);
    }
    for &i in held_out.iter() {
        by_label.entry(&qs[i].category).or_default().1 += 1;
    }
    let candidates: Vec<(&str, &Vec<usize>)> = by_label
        .iter()
        .filter(|(l, (hi, ho))| hi.len() >= 5 && *ho >= 3 && plan.answers.contains_key(**l))
        .map(|(l, (hi, _))| (*l, hi))
        .collect();
    if candidates.is_empty() {
        bail!(
            "--poison: no label has 5 replayed and 3 measured questions; raise --replay / --limit"
        );
    }
    let mut rng = Rng::new(o.seed, 0x9015_0000 | u64::from(fold.fold));
    let (label, family) = candidates[rng.below(candidates.len())];
    let label = label.to_string();
    let family = Arc::new(family.clone());
    // The wrong article: the first wrong result for the family's first question (a plausible
    // confusion), else any article that does not answer the label.
    let first = fold
        .search(&qs[family[0]].text, None, true, MEASURE_IP)
        .await;
    let wrong = result_slugs(&first)
        .into_iter()
        .find(|s| !fold.right(s, &label))
        .or_else(|| {
            let mut all: Vec<&String> = plan.answers.values().flatten().collect();
            all.sort();
            all.into_iter().find(|s| !fold.right(s, &label)).cloned()
        })
        .context("--poison: every article answers this label")?;
    eprintln!(
        "  poison: {} sessions from {POISON_IP} on `{label}` → `{wrong}`",
        o.poison
    );
    {
        let (f, fam, qs, wrong) = (
            Arc::clone(fold),
            Arc::clone(&family),
            Arc::clone(qs),
            wrong.clone(),
        );
        let n = usize::try_from(o.poison).unwrap_or(usize::MAX);
        par_map(n, o.concurrency, "poison", move |i| {
            let (f, q, wrong) = (
                Arc::clone(&f),
                qs[fam[i % fam.len()]].text.clone(),
                wrong.clone(),
            );
            async move {
                let session = format!("eval{}p{i}", f.fold);
                let found = f.search(&q, Some(&session), true, POISON_IP).await;
                let Some(id) = found["search_id"].as_str() else {
                    return;
                };
                let at = result_slugs(&found)
                    .iter()
                    .position(|s| *s == wrong)
                    .map_or(1, |p| p + 1);
                f.click(id, &wrong, at, &session, POISON_IP).await;
                f.vote(&wrong, true, &session, Some(id), POISON_IP).await;
            }
        })
        .await?;
    }
    let retrain = fold.retrain().await?;
    if let Some(r) = &retrain {
        eprintln!("  retrained with poison: {r}");
    }
    let after = {
        let (f, ho, qs) = (Arc::clone(fold), Arc::clone(held_out), Arc::clone(qs));
        par_map(
            held_out.len(),
            o.concurrency,
            "held-out, poisoned",
            move |i| {
                let (f, q) = (Arc::clone(&f), qs[ho[i]].clone());
                async move { f.rank(&q.text, &q.category, true).await }
            },
        )
        .await?
    };
    let top1_with = share(
        after.iter().filter(|(r, _)| *r == Some(0)).count(),
        after.len(),
    );
    let mut label_questions = 0;
    let mut changed = 0;
    let mut is_poison = 0;
    for (i, (_, first)) in after.iter().enumerate() {
        if qs[held_out[i]].category == label {
            label_questions += 1;
            changed += usize::from(*first != clean[i].warm_first);
            is_poison += usize::from(first.as_deref() == Some(wrong.as_str()));
        }
    }
    Ok(PoisonReport {
        sessions: o.poison,
        label,
        wrong_article: wrong,
        retrain,
        top1_without,
        top1_with,
        label_questions,
        label_first_changed: changed,
        label_first_is_poison: is_poison,
    })
}
