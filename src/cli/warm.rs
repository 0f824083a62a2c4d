//! `deflect eval FILE --warm`: what learning from traffic is worth, measured through the real
//! HTTP API of fresh servers. For each fold of FILE: start `deflect serve` on an empty store,
//! file a sample of the held-out questions as tickets (cold triage), replay the other folds'
//! questions as noisy visitor sessions (position-biased clicks, wrong first clicks, votes on a
//! minority, widget suggestions, tickets where nothing helped and agents correcting some of
//! their types), retrain, then measure the held-out questions with learning and with
//! `learned=false`. With `--poison N`, one client then replays N poisoned sessions, the server
//! retrains again, and the harness reports what that moved.

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

/// Counts of one fold's requests and visitor actions.
#[derive(Debug, Default)]
struct Tally {
    requests: AtomicU64,
    failed: AtomicU64,
    server_errors: AtomicU64,
    searches: AtomicU64,
    suggestions: AtomicU64,
    right_clicks: AtomicU64,
    wrong_clicks: AtomicU64,
    helpful: AtomicU64,
    not_helpful: AtomicU64,
    tickets: AtomicU64,
    corrections: AtomicU64,
}

/// One fold's server and what the visitors and the measurement need.
struct Fold {
    api: Api,
    bearer: String,
    /// Ticket type → the published articles that answer it (front matter `ticket_types`).
    answers: Arc<HashMap<String, HashSet<String>>>,
    fold: u32,
    seed: u64,
    tally: Tally,
}

/// What the suggestion endpoint did with a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Outcome {
    AnsweredRight,
    AnsweredWrong,
    Suggested,
    HandedOff,
    #[default]
    Failed,
}

impl Fold {
    fn right(&self, slug: &str, label: &str) -> bool {
        self.answers.get(label).is_some_and(|s| s.contains(slug))
    }

    /// One request from `ip`; `None` (counted, the first few logged) when it failed.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        ip: &str,
        admin: bool,
    ) -> Option<(StatusCode, Value)> {
        add(&self.tally.requests);
        let mut headers = vec![("x-forwarded-for", ip)];
        if admin {
            headers.push(("authorization", self.bearer.as_str()));
        }
        let failed = |what: String| {
            if get(&self.tally.failed) < 5 {
                eprintln!("warning: {method} {path}: {what}");
            }
            add(&self.tally.failed);
        };
        match self
            .api
            .send(method.clone(), path, body.as_ref(), &headers)
            .await
        {
            Ok((status, body)) if status.is_success() => Some((status, body)),
            Ok((status, body)) => {
                if status.is_server_error() {
                    add(&self.tally.server_errors);
                }
                failed(format!("{status} {body}"));
                if status == StatusCode::NOT_FOUND {
                    // The caller tells an endpoint that does not exist from a failure.
                    Some((status, body))
                } else {
                    None
                }
            }
            Err(e) => {
                failed(e);
                None
            }
        }
    }

    async fn search(&self, q: &str, session: Option<&str>, learned: bool, ip: &str) -> Value {
        let mut path = format!("/api/v1/search?q={}&limit=10", enc(q));
        if let Some(s) = session {
            path.push_str(&format!("&session_id={}", enc(s)));
        }
        if !learned {
            path.push_str("&learned=false");
        }
        add(&self.tally.searches);
        match self.call(Method::GET, &path, None, ip, false).await {
            Some((s, v)) if s.is_success() => v,
            _ => Value::Null,
        }
    }

    async fn suggest(&self, q: &str, session: Option<&str>, learned: bool, ip: &str) -> Value {
        let mut body = json!({ "message": q });
        if let Some(s) = session {
            body["session_id"] = json!(s);
        }
        if !learned {
            body["learned"] = json!(false);
        }
        add(&self.tally.suggestions);
        match self
            .call(Method::POST, "/api/v1/suggest", Some(body), ip, false)
            .await
        {
            Some((s, v)) if s.is_success() => v,
            _ => Value::Null,
        }
    }

    async fn click(&self, search_id: &str, slug: &str, position: usize, session: &str, ip: &str) {
        self.call(
            Method::POST,
            &format!("/api/v1/search/{}/clicks", enc(search_id)),
            Some(json!({"slug": slug, "position": position, "session_id": session})),
            ip,
            false,
        )
        .await;
    }

    async fn vote(
        &self,
        slug: &str,
        helpful: bool,
        session: &str,
        search_id: Option<&str>,
        ip: &str,
    ) {
        let mut body = json!({"helpful": helpful, "session_id": session});
        if let Some(id) = search_id {
            body["search_id"] = json!(id);
        }
        if !helpful {
            body["reason"] = json!("didnt_solve_my_problem");
        }
        add(if helpful {
            &self.tally.helpful
        } else {
            &self.tally.not_helpful
        });
        self.call(
            Method::POST,
            &format!("/api/v1/articles/{}/votes", enc(slug)),
            Some(body),
            ip,
            false,
        )
        .await;
    }

    /// Files a ticket; its triaged category.
    async fn ticket(&self, q: &str, email: &str, session: Option<&str>, ip: &str) -> Option<Value> {
        let subject: String = q.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
        let mut body = json!({"email": email, "subject": subject, "description": q});
        if let Some(s) = session {
            body["session_id"] = json!(s);
        }
        add(&self.tally.tickets);
        match self
            .call(Method::POST, "/api/v1/tickets", Some(body), ip, false)
            .await
        {
            Some((s, v)) if s.is_success() => Some(v),
            _ => None,
        }
    }

    /// One visitor with one question: the widget sometimes, else (or when it did not help) a
    /// search; clicks where their eyes went; a vote now and then; a ticket when nothing
    /// right was shown, and an agent who fixes some tickets' types.
    async fn visit(&self, n: u64, q: &Question) {
        let mut rng = Rng::new(self.seed, (u64::from(self.fold) << 32) | n);
        let session = format!("eval{}v{n}", self.fold);
        let ip = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
        let typed = if rng.chance(TYPO) {
            misspell(&q.text, &mut rng)
        } else {
            q.text.clone()
        };
        let label = q.category.as_str();
        if rng.chance(WIDGET) {
            let s = self.suggest(&typed, Some(&session), true, &ip).await;
            let first = s["answer"]["slug"]
                .as_str()
                .or_else(|| s["articles"][0]["slug"].as_str());
            if let Some(slug) = first {
                if self.right(slug, label) {
                    if rng.chance(WIDGET_HELPFUL_VOTE) {
                        self.vote(slug, true, &session, None, &ip).await;
                    }
                    return;
                }
                if rng.chance(NOT_HELPFUL_VOTE) {
                    self.vote(slug, false, &session, None, &ip).await;
                }
            }
        }
        let found = self.search(&typed, Some(&session), true, &ip).await;
        let search_id = found["search_id"].as_str().unwrap_or_default().to_string();
        let slugs = result_slugs(&found);
        #[allow(clippy::cast_precision_loss)]
        let examined: Vec<bool> = (1..=slugs.len())
            .map(|p| rng.chance(1.0 / (p as f64).powf(EXAMINE_ETA)))
            .collect();
        let seen = |want: bool| {
            (0..slugs.len()).find(|&i| examined[i] && self.right(&slugs[i], label) == want)
        };
        let (first_right, first_wrong) = (seen(true), seen(false));
        let mut look_further = true;
        if !search_id.is_empty()
            && rng.chance(WRONG_FIRST_CLICK)
            && let Some(w) = first_wrong
        {
            add(&self.tally.wrong_clicks);
            self.click(&search_id, &slugs[w], w + 1, &session, &ip)
                .await;
            if rng.chance(NOT_HELPFUL_VOTE) {
                self.vote(&slugs[w], false, &session, Some(&search_id), &ip)
                    .await;
            }
            look_further = rng.chance(RIGHT_AFTER_WRONG);
        }
        if look_further
            && !search_id.is_empty()
            && let Some(r) = first_right
        {
            add(&self.tally.right_clicks);
            self.click(&search_id, &slugs[r], r + 1, &session, &ip)
                .await;
            if rng.chance(HELPFUL_VOTE) {
                self.vote(&slugs[r], true, &session, Some(&search_id), &ip)
                    .await;
            }
        }
        let shown = slugs.iter().any(|s| self.right(s, label));
        if shown && !rng.chance(TICKET_ANYWAY) {
            return;
        }
        let Some(t) = self
            .ticket(
                &q.text,
                &format!("visitor{n}@example.com"),
                Some(&session),
                &ip,
            )
            .await
        else {
            return;
        };
        let (Some(id), category) = (t["id"].as_str(), t["category"].as_str()) else {
            return;
        };
        if category != Some(label) && rng.chance(AGENT_CORRECTS) {
            add(&self.tally.corrections);
            self.call(
                Method::PATCH,
                &format!("/api/v1/admin/tickets/{}", enc(id)),
                Some(json!({"ticket_type": label})),
                &ip,
                true,
            )
            .await;
        }
    }

    /// Rank (0-based) of the first right result of a search, if any in the top 10, and the
    /// first result.
    async fn rank(&self, q: &str, label: &str, learned: bool) -> (Option<usize>, Option<String>) {
        let found = self.search(q, None, learned, MEASURE_IP).await;
        let slugs = result_slugs(&found);
        (
            slugs.iter().position(|s| self.right(s, label)),
            slugs.first().cloned(),
        )
    }

    async fn outcome(&self, q: &str, label: &str, learned: bool) -> (Outcome, bool) {
        let s = self.suggest(q, None, learned, MEASURE_IP).await;
        let action = s["action"].as_str().unwrap_or_default();
        let answered = action == "answer";
        let outcome = match action {
            "answer" => match s["answer"]["slug"].as_str() {
                Some(slug) if self.right(slug, label) => Outcome::AnsweredRight,
                _ => Outcome::AnsweredWrong,
            },
            "suggest" => Outcome::Suggested,
            "handoff" => Outcome::HandedOff,
            _ => Outcome::Failed,
        };
        (outcome, answered)
    }

    async fn triage(&self, q: &Question) -> Option<bool> {
        let t = self
            .ticket(&q.text, "eval@example.com", None, MEASURE_IP)
            .await?;
        Some(t["category"].as_str() == Some(q.category.as_str()))
    }

    async fn retrain(&self) -> anyhow::Result<Option<Value>> {
        // Searches are written by a background queue: let it drain first.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        match self
            .call(
                Method::POST,
                "/api/v1/admin/learning/retrain",
                None,
                MEASURE_IP,
                true,
            )
            .await
        {
            Some((StatusCode::OK, v)) => Ok(Some(v)),
            Some((StatusCode::NOT_FOUND, _)) => {
                eprintln!(
                    "warning: this server has no POST /api/v1/admin/learning/retrain: warm = cold"
                );
                Ok(None)
            }
            Some((status, body)) => bail!("retraining failed: {status} {body}"),
            None => bail!("retraining failed (the request above)"),
        }
    }
}

/// Runs `f(0..n)` with `concurrency` in flight; results in order. Shows a counter on a
/// terminal, one line at the end otherwise.
async fn par_map<R, F, Fut>(
    n: usize,
    concurrency: usize,
    label: &str,
    f: F,
) -> anyhow::Result<Vec<R>>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let started = Instant::now();
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let tty = std::io::stderr().is_terminal();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (f, next, done, label) = (
            Arc::clone(&f),
            Arc::clone(&next),
            Arc::clone(&done),
            label.to_string(),
        );
        workers.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                out.push((i, f(i).await));
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if tty && (d % 20 == 0 || d == n) {
                    eprint!("\r  {label}: {d}/{n}   ");
                }
            }
            out
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(r) = workers.join_next().await {
        all.extend(r.context("a worker failed")?);
    }
    all.sort_by_key(|(i, _)| *i);
    if tty {
        eprint!("\r");
    }
    eprintln!("  {label}: {n} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(all.into_iter().map(|(_, r)| r).collect())
}

/// One measurement's rates (None: not measured).
#[derive(Debug, Clone, Default, Serialize)]
struct Rates {
    search_top1: Option<f64>,
    search_top3: Option<f64>,
    suggest_answered_right: Option<f64>,
    suggest_answered_wrong: Option<f64>,
    suggest_suggested: Option<f64>,
    suggest_handed_off: Option<f64>,
    triage_category: Option<f64>,
    misspelled_top3: Option<f64>,
    /// Clean top-3 minus misspelled top-3 on the same rows, in points.
    misspelled_top3_loss_pts: Option<f64>,
    out_of_scope_answered: Option<f64>,
}

/// The metrics in display order: name, getter.
type Getter = fn(&Rates) -> Option<f64>;
const METRICS: [(&str, Getter); 10] = [
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

fn share(hits: usize, of: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (of > 0).then(|| hits as f64 / of as f64)
}

#[derive(Debug, Clone, Serialize)]
struct PoisonReport {
    sessions: u64,
    label: String,
    wrong_article: String,
    retrain: Option<Value>,
    top1_without: Option<f64>,
    top1_with: Option<f64>,
    /// The poisoned label's held-out questions measured, whose first result changed, and
    /// whose first result is now the poisoned article.
    label_questions: usize,
    label_first_changed: usize,
    label_first_is_poison: usize,
}

#[derive(Debug, Clone, Serialize)]
struct FoldReport {
    fold: u32,
    held_out: usize,
    measured: usize,
    replayed: usize,
    retrain: Option<Value>,
    cold: Rates,
    warm: Rates,
    poison: Option<PoisonReport>,
    requests: u64,
    failed_requests: u64,
    visitors: Value,
    replay_secs: f64,
    measure_secs: f64,
    total_secs: f64,
}

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

/// [`run_fold`] once its server is up.
#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
async fn measure_fold(
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
struct Measured {
    warm: Option<usize>,
    cold: Option<usize>,
    warm_first: Option<String>,
    warm_s: Outcome,
    cold_s: Outcome,
    /// Misspelled form: (warm rank, cold rank).
    miss: Option<(Option<usize>, Option<usize>)>,
}

fn rates(m: &[Measured], warm: bool, triage: &[Option<bool>], oos: (usize, usize)) -> Rates {
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
async fn poison(
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

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |x| format!("{:.1}%", 100.0 * x))
}

fn value(name: &str, x: Option<f64>) -> String {
    if name.ends_with("(pts)") {
        x.map_or_else(|| "–".to_string(), |x| format!("{x:+.1}"))
    } else {
        pct(x)
    }
}

fn delta(name: &str, cold: Option<f64>, warm: Option<f64>) -> String {
    match (cold, warm) {
        (Some(c), Some(w)) if name.ends_with("(pts)") => format!("{:+.1}", w - c),
        (Some(c), Some(w)) => format!("{:+.1}", 100.0 * (w - c)),
        _ => "–".to_string(),
    }
}

fn mean(reports: &[FoldReport], pick: impl Fn(&FoldReport) -> Option<f64>) -> Option<f64> {
    let xs: Vec<f64> = reports.iter().filter_map(pick).collect();
    #[allow(clippy::cast_precision_loss)]
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn table(cold: &Rates, warm: &Rates) {
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

fn print_report(
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

fn pick(r: &FoldReport, warm: bool) -> &Rates {
    if warm { &r.warm } else { &r.cold }
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
