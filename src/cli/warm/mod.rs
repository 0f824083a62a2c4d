//! `deflect eval FILE --warm`: what learning from traffic is worth, measured through the real
//! HTTP API of fresh servers. For each fold of FILE: start `deflect serve` on an empty store,
//! file a sample of the held-out questions as tickets (cold triage), replay the other folds'
//! questions as noisy visitor sessions (position-biased clicks, wrong first clicks, votes on a
//! minority, widget suggestions, tickets where nothing helped and agents correcting some of
//! their types), retrain, then measure the held-out questions with learning and with
//! `learned=false`. With `--poison N`, one client then replays N poisoned sessions, the server
//! retrains again, and the harness reports what that moved.

mod measure;
mod report;
mod visitor;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use super::ContentArgs;
use super::replay::{Api, Rng, add, enc, get, misspell, result_slugs};
use super::server::{Launch, Server};
use crate::content::{KnowledgeBase, today};
use crate::eval::{Question, read_questions};

use measure::*;
use report::*;
use visitor::*;

/// `deflect eval --warm` and its options.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Measure what learning from traffic is worth, through the HTTP API of fresh `deflect
    /// serve` child processes: per fold of FILE, replay the other folds as noisy visitor
    /// sessions (clicks with position bias, wrong first clicks, votes, suggestions, tickets
    /// and agents' corrections), retrain, and measure the held-out fold with learning (warm)
    /// and with `learned=false` (cold): search top-1/top-3, suggest answered right/wrong/handed
    /// off, triage category, misspelled top-3 (`--misspelled`), out-of-scope answered
    /// (`--out-of-scope`). Use a train split only: the replay learns from its labels.
    #[arg(long, requires = "file", conflicts_with_all = ["suggest", "triage"])]
    pub warm: bool,
    /// With --warm: folds of FILE; each fold is held out once while the rest is replayed.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=100))]
    pub folds: u32,
    /// With --warm: run only fold K (1 to --folds).
    #[arg(long, value_name = "K", requires = "warm")]
    pub fold: Option<u32>,
    /// With --warm: the seed of the folds and of the visitors' behaviour (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// With --warm: after the measurement, one client address replays N sessions that search
    /// one label's questions, click one fixed wrong article and vote it helpful; the server
    /// retrains on all traffic again, and the held-out top-1 with and without them is
    /// reported, and whether that label's first results changed.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub poison: u64,
    /// With --warm: the same questions misspelled, row for row with FILE (e.g.
    /// tests/data/banking77_train_misspelled.csv): held-out top-3 on them against the clean form.
    #[arg(long, value_name = "FILE", requires = "warm")]
    pub misspelled: Option<PathBuf>,
    /// With --warm: measure at most N held-out questions per fold (a quicker run).
    #[arg(long, value_name = "N", requires = "warm")]
    pub limit: Option<usize>,
    /// With --warm: replay at most N sessions per fold (a quicker run; learning gets less).
    #[arg(long, value_name = "N", requires = "warm")]
    pub replay: Option<usize>,
    /// With --warm: held-out questions per fold filed as tickets to measure triage (0: none).
    #[arg(long, default_value_t = 300, value_name = "N")]
    pub triage_sample: usize,
    /// With --warm: requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// The replayed visitors' addresses are 10.x.y.z; the measurement and the poisoner use
/// documentation addresses (only `X-Forwarded-For` values: nothing is sent there).
const MEASURE_IP: &str = "198.51.100.7";
const POISON_IP: &str = "203.0.113.66";

/// Visitor behaviour: shares of sessions.
const TYPO: f64 = 0.15;
const WIDGET: f64 = 0.25;
const WIDGET_HELPFUL_VOTE: f64 = 0.8;
const WRONG_FIRST_CLICK: f64 = 0.10;
const RIGHT_AFTER_WRONG: f64 = 0.7;
const HELPFUL_VOTE: f64 = 0.2;
const NOT_HELPFUL_VOTE: f64 = 0.3;
const TICKET_ANYWAY: f64 = 0.05;
const AGENT_CORRECTS: f64 = 0.5;
/// Examination of position p (1-based) ∝ 1/p^η.
const EXAMINE_ETA: f64 = 0.7;

/// Everything the folds share.
struct Plan {
    questions: Arc<Vec<Question>>,
    misspelled: Option<Arc<Vec<Question>>>,
    out_of_scope: Vec<(PathBuf, Arc<Vec<Question>>)>,
    answers: Arc<HashMap<String, HashSet<String>>>,
    /// Fold of each row.
    fold_of: Vec<u32>,
    content: PathBuf,
    /// deflect.toml for the servers, with and without `[learning]`.
    toml_learning: String,
    toml_plain: String,
}

pub fn run(
    file: &Path,
    out_of_scope: &[PathBuf],
    content: &ContentArgs,
    o: &Options,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let questions = read_questions(file)?;
    let misspelled = match &o.misspelled {
        Some(m) => Some(Arc::new(aligned(file, &questions, m)?)),
        None => None,
    };
    let mut oos = Vec::new();
    for f in out_of_scope {
        oos.push((f.clone(), Arc::new(read_questions(f)?)));
    }
    if let Some(k) = o.fold
        && (k == 0 || k > o.folds)
    {
        bail!("--fold {k}: folds are numbered 1 to {} (--folds)", o.folds);
    }
    let config = content.config()?;
    let loaded = KnowledgeBase::load(&config.content, today())?;
    let mut answers: HashMap<String, HashSet<String>> = HashMap::new();
    for a in loaded.kb.published() {
        for t in &a.front.ticket_types {
            answers.entry(t.clone()).or_default().insert(a.slug.clone());
        }
    }
    if answers.is_empty() {
        bail!(
            "{}: no published article names a ticket type (front matter `ticket_types`), so no result can be right",
            config.content.display()
        );
    }
    let unanswerable = questions
        .iter()
        .filter(|q| !answers.contains_key(&q.category))
        .count();
    if unanswerable > 0 {
        eprintln!(
            "warning: {unanswerable} of {} questions have a category no published article answers; they count as misses",
            questions.len()
        );
    }
    // Folds: a seeded shuffle dealt round-robin, so every fold mixes all labels.
    let mut order: Vec<usize> = (0..questions.len()).collect();
    Rng::new(o.seed, u64::MAX).shuffle(&mut order);
    let mut fold_of = vec![0u32; questions.len()];
    for (pos, &row) in order.iter().enumerate() {
        fold_of[row] = u32::try_from(pos % o.folds as usize).unwrap_or(0) + 1;
    }
    let user_toml = content.config.clone().or_else(|| {
        Path::new(crate::config::DEFAULT_FILE)
            .is_file()
            .then(|| PathBuf::from(crate::config::DEFAULT_FILE))
    });
    let plan = Plan {
        questions: Arc::new(questions),
        misspelled,
        out_of_scope: oos,
        answers: Arc::new(answers),
        fold_of,
        content: config.content,
        toml_learning: server_toml(user_toml.as_deref(), true)?,
        toml_plain: server_toml(user_toml.as_deref(), false)?,
    };
    let folds: Vec<u32> = match o.fold {
        Some(k) => vec![k],
        None => (1..=o.folds).collect(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let reports = runtime.block_on(async {
        let mut with_learning = true;
        let mut reports = Vec::new();
        for &k in &folds {
            reports.push(run_fold(&plan, o, k, &mut with_learning).await?);
        }
        anyhow::Ok(reports)
    })?;
    let total = started.elapsed().as_secs_f64();
    print_report(file, o, &plan, &reports, total, as_json);
    Ok(ExitCode::SUCCESS)
}

/// Reads `misspelled` and checks it is `questions` row for row (same count, same category).
fn aligned(
    file: &Path,
    questions: &[Question],
    misspelled: &Path,
) -> anyhow::Result<Vec<Question>> {
    let m = read_questions(misspelled)?;
    if m.len() != questions.len() {
        bail!(
            "{} has {} questions and {} has {}: --misspelled must be FILE's questions row for row",
            misspelled.display(),
            m.len(),
            file.display(),
            questions.len()
        );
    }
    if let Some(i) = (0..m.len()).find(|&i| m[i].category != questions[i].category) {
        bail!(
            "{} question {} is `{}` but {} question {} is `{}`: --misspelled must be FILE's questions row for row",
            misspelled.display(),
            i + 1,
            m[i].category,
            file.display(),
            i + 1,
            questions[i].category
        );
    }
    Ok(m)
}

/// The servers' deflect.toml: the user's (without its database, webhook, bind and data
/// directory) with the replay's needs on top: client addresses from `X-Forwarded-For`, no
/// rate limits, recording on, and with `learning`, learning for every session and retraining
/// only on demand.
fn server_toml(user: Option<&Path>, learning: bool) -> anyhow::Result<String> {
    let mut t: toml::Table = match user {
        Some(p) => {
            let src = std::fs::read_to_string(p)
                .with_context(|| format!("reading config {}", p.display()))?;
            src.parse()
                .with_context(|| format!("parsing config {}", p.display()))?
        }
        None => toml::Table::new(),
    };
    for key in [
        "bind",
        "data_dir",
        "database_url",
        "admin_token",
        "content",
        "watch",
        "webhook",
    ] {
        t.remove(key);
    }
    let mut set = |table: &str, key: &str, value: toml::Value| {
        let entry = t
            .entry(table.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        if let Some(tab) = entry.as_table_mut() {
            tab.insert(key.to_string(), value);
        }
    };
    set("widget", "trust_proxy", true.into());
    set("widget", "session_per_minute", 0.into());
    set("widget", "ip_per_minute", 0.into());
    // 0 = no limit.
    set("triage", "tickets_per_session", 0.into());
    set("triage", "tickets_per_ip", 0.into());
    set("analytics", "record", true.into());
    if learning {
        set("learning", "enabled", true.into());
        set("learning", "ab_control_share", 0.0.into());
        // Retrain only when the harness says so: the model measured is the one reported.
        set("learning", "retrain_minutes", 0.into());
        set("learning", "retrain_after_events", 0.into());
    } else {
        t.remove("learning");
    }
    // Retraining on a whole fold's traffic answers when the model is live: give it time.
    t.insert("request_timeout_secs".to_string(), 600.into());
    toml::to_string(&t).context("writing the servers' deflect.toml")
}

async fn start(plan: &Plan, with_learning: &mut bool) -> anyhow::Result<Server> {
    if *with_learning {
        let launch = Launch {
            content: &plan.content,
            config_toml: plan.toml_learning.clone(),
        };
        match Server::start(&launch).await {
            Ok(s) => return Ok(s),
            Err(e) if format!("{e:#}").contains("learning") => {
                eprintln!(
                    "warning: the server rejects the [learning] table; starting it without (learning defaults: its A/B control share gets no learning):\n{e:#}"
                );
                *with_learning = false;
            }
            Err(e) => return Err(e),
        }
    }
    Server::start(&Launch {
        content: &plan.content,
        config_toml: plan.toml_plain.clone(),
    })
    .await
}

async fn run_fold(
    plan: &Plan,
    o: &Options,
    k: u32,
    with_learning: &mut bool,
) -> anyhow::Result<FoldReport> {
    let started = Instant::now();
    let qs = &plan.questions;
    let mut held_out: Vec<usize> = (0..qs.len()).filter(|&i| plan.fold_of[i] == k).collect();
    let mut held_in: Vec<usize> = (0..qs.len()).filter(|&i| plan.fold_of[i] != k).collect();
    // Seeded orders: a --limit or --replay sample is random, and labels arrive mixed.
    Rng::new(o.seed, 0xF01D_0000 | u64::from(k)).shuffle(&mut held_out);
    Rng::new(o.seed, 0xF01D_1000 | u64::from(k)).shuffle(&mut held_in);
    let n_held_out = held_out.len();
    held_out.truncate(o.limit.unwrap_or(usize::MAX));
    held_in.truncate(o.replay.unwrap_or(usize::MAX));
    eprintln!(
        "fold {k}/{}: {} held out ({} measured), {} replayed as sessions",
        o.folds,
        n_held_out,
        held_out.len(),
        held_in.len()
    );
    let mut server = start(plan, with_learning).await?;
    match measure_fold(
        plan,
        o,
        k,
        &mut server,
        held_out,
        held_in,
        n_held_out,
        started,
    )
    .await
    {
        Ok(r) => Ok(r),
        Err(e) => Err(e.context(format!(
            "fold {k}; the server's log ends:\n{}",
            server.log_tail(20)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Layer};

    fn resolved(toml: &str) -> Config {
        let layer = Layer::from_toml(Path::new("eval.toml"), toml).expect("the server accepts it");
        Config::resolve(Some(layer), Layer::default(), Layer::default())
    }

    #[test]
    fn the_servers_config_keeps_the_users_settings_but_not_their_database_or_help_desk() {
        let dir = super::super::server::TempDir::new("deflect-warm-test").expect("temp dir");
        let user = dir.path().join("deflect.toml");
        let src = format!(
            "database_url = \"postgres://x@db/prod\"\n{}\n[webhook]\nurl = \"http://desk.internal/hook\"\n",
            crate::config::EXAMPLE.replace("answer_threshold = 0.75", "answer_threshold = 0.7")
        );
        std::fs::write(&user, src).expect("written");
        let c = resolved(&server_toml(Some(&user), true).expect("rewritten"));
        assert!(c.database_url.is_none());
        assert!(c.webhook.url.is_none());
        assert!(c.widget.trust_proxy);
        assert_eq!(
            (c.widget.session_per_minute, c.widget.ip_per_minute),
            (0, 0)
        );
        assert_eq!(
            (c.triage.tickets_per_session, c.triage.tickets_per_ip),
            (0, 0)
        );
        assert!(c.learning.enabled && c.learning.ab_control_share == 0.0);
        assert_eq!(
            (c.learning.retrain_minutes, c.learning.retrain_after_events),
            (0, 0)
        );
        assert!(
            (c.suggest.answer_threshold - 0.7).abs() < 1e-9,
            "the user's own setting"
        );
        assert_eq!(c.request_timeout_secs, 600);
        let plain = resolved(&server_toml(None, false).expect("written"));
        assert!(plain.widget.trust_proxy);
    }

    #[test]
    fn rates_count_ranks_outcomes_and_misspelled_rows() {
        let m = |warm, cold, miss| Measured {
            warm,
            cold,
            warm_first: None,
            warm_s: Outcome::AnsweredRight,
            cold_s: Outcome::HandedOff,
            miss: Some(miss),
        };
        let all = [
            m(Some(0), Some(1), (Some(0), Some(5))),
            m(Some(2), None, (None, None)),
        ];
        let w = rates(&all, true, &[Some(true), None, Some(false)], (1, 4));
        assert_eq!((w.search_top1, w.search_top3), (Some(0.5), Some(1.0)));
        assert_eq!(w.suggest_answered_right, Some(1.0));
        assert_eq!(
            w.triage_category,
            Some(0.5),
            "failed tickets are not judged"
        );
        assert_eq!(w.misspelled_top3, Some(0.5));
        assert_eq!(w.misspelled_top3_loss_pts, Some(50.0));
        assert_eq!(w.out_of_scope_answered, Some(0.25));
        let c = rates(&all, false, &[], (0, 0));
        assert_eq!((c.search_top1, c.search_top3), (Some(0.0), Some(0.5)));
        assert_eq!(c.suggest_handed_off, Some(1.0));
        assert_eq!((c.triage_category, c.out_of_scope_answered), (None, None));
        assert_eq!(c.misspelled_top3_loss_pts, Some(50.0));
    }
}
