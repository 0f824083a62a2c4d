//! `deflect simulate`: replays labelled customer questions (CSV `text,label`) as help-center
//! sessions through the public API — as-you-type, search, click, read, vote, sometimes a
//! ticket — so the reports have realistic traffic, and reports the request rate it reached.
//! The same seed gives the same sessions.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::replay::{Api, Rng, add, enc, get, misspell, result_slugs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Labelled questions: CSV with a header and columns `text,label` (e.g. banking77).
    file: PathBuf,
    /// The running help center.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Sessions per simulated day.
    #[arg(long, default_value_t = 1000)]
    sessions: u64,
    /// Days of traffic: sessions × days sessions in all (events carry the server's time).
    #[arg(long, default_value_t = 1)]
    days: u64,
    /// Seed: the same seed replays the same sessions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sessions running at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

/// A question a customer brings, and the ticket type it would be filed as.
#[derive(Debug, Clone)]
struct Question {
    text: String,
    label: String,
}

fn read_questions(path: &PathBuf) -> anyhow::Result<Vec<Question>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("reading questions from {}", path.display()))?;
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let (Some(text), Some(label)) = (row.get(0), row.get(1)) else {
            bail!(
                "{}: row {} needs two columns, text and label",
                path.display(),
                i + 2
            );
        };
        if !text.trim().is_empty() {
            out.push(Question {
                text: text.trim().to_string(),
                label: label.trim().to_string(),
            });
        }
    }
    if out.is_empty() {
        bail!("{}: no questions", path.display());
    }
    Ok(out)
}

/// What happened, summed over sessions.
#[derive(Debug, Default)]
struct Tally {
    requests: AtomicU64,
    failed: AtomicU64,
    searches: AtomicU64,
    zero_results: AtomicU64,
    right_clicks: AtomicU64,
    wrong_clicks: AtomicU64,
    helpful: AtomicU64,
    not_helpful: AtomicU64,
    tickets: AtomicU64,
}

struct Simulator {
    api: Api,
    /// Ticket types per article, looked up once (without a session: not a view).
    articles: Mutex<HashMap<String, Vec<String>>>,
    /// Whether POST /api/v1/tickets exists on this server.
    tickets: AtomicBool,
    tally: Tally,
    /// Distinguishes this run's session ids from another run's.
    run: String,
}

const REASONS: [&str; 6] = [
    "inaccurate",
    "unclear",
    "missing_information",
    "outdated",
    "didnt_solve_my_problem",
    "other",
];

impl Simulator {
    /// One request; the status and the JSON body (Null when there is none).
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        add(&self.tally.requests);
        match self.api.send(method, path, body.as_ref(), &[]).await {
            Ok((status, body)) => {
                if status.is_server_error() || status == StatusCode::BAD_REQUEST {
                    tracing::warn!("{path}: {status} {body}");
                    add(&self.tally.failed);
                }
                (status, body)
            }
            Err(e) => {
                tracing::warn!("{e}");
                add(&self.tally.failed);
                (StatusCode::SERVICE_UNAVAILABLE, Value::Null)
            }
        }
    }

    async fn ticket_types(&self, slug: &str) -> Vec<String> {
        if let Some(t) = self.articles.lock().await.get(slug) {
            return t.clone();
        }
        let (_, a) = self
            .call(
                Method::GET,
                &format!("/api/v1/articles/{}", enc(slug)),
                None,
            )
            .await;
        let types: Vec<String> = a["ticket_types"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        self.articles
            .lock()
            .await
            .insert(slug.to_string(), types.clone());
        types
    }

    /// One customer: types (sometimes), searches, opens an article, votes, maybe files a ticket.
    async fn session(&self, n: u64, q: &Question, mut rng: Rng) {
        // Unique per run, so replaying a seed twice makes new sessions with the same behaviour.
        let session = format!("sim{}n{n:x}", self.run);
        let typed = if rng.chance(0.2) {
            misspell(&q.text, &mut rng)
        } else {
            q.text.clone()
        };
        if rng.chance(0.5) {
            // As-you-type: a few growing prefixes, grouped by the server into this search.
            let chars: Vec<char> = typed.chars().collect();
            let mut at = 3;
            while at < chars.len() {
                let prefix: String = chars[..at].iter().collect();
                self.call(
                    Method::GET,
                    &format!(
                        "/api/v1/autocomplete?q={}&session_id={session}",
                        enc(&prefix)
                    ),
                    None,
                )
                .await;
                at += 4 + rng.below(6);
            }
        }
        let (_, found) = self
            .call(
                Method::GET,
                &format!("/api/v1/search?q={}&session_id={session}", enc(&typed)),
                None,
            )
            .await;
        add(&self.tally.searches);
        let search_id = found["search_id"].as_str().unwrap_or_default().to_string();
        let results = result_slugs(&found);
        if results.is_empty() {
            add(&self.tally.zero_results);
        }
        let mut right = None;
        for (i, slug) in results.iter().enumerate().take(5) {
            if self.ticket_types(slug).await.contains(&q.label) {
                right = Some(i);
                break;
            }
        }
        // Most customers open the right article when it is listed; some open the top one anyway.
        let opened = match right {
            Some(i) if rng.chance(0.85) => Some((i, true)),
            _ if !results.is_empty() && rng.chance(0.35) => Some((0, right == Some(0))),
            _ => None,
        };
        let mut helped = false;
        if let Some((i, is_right)) = opened {
            let slug = &results[i];
            add(if is_right {
                &self.tally.right_clicks
            } else {
                &self.tally.wrong_clicks
            });
            self.call(
                Method::POST,
                &format!("/api/v1/search/{}/clicks", enc(&search_id)),
                Some(json!({"slug": slug, "position": i + 1, "session_id": session})),
            )
            .await;
            self.call(
                Method::GET,
                &format!(
                    "/api/v1/articles/{}?session_id={session}&search_id={}",
                    enc(slug),
                    enc(&search_id)
                ),
                None,
            )
            .await;
            if rng.chance(0.6) {
                helped = is_right && rng.chance(0.85);
                let vote = if helped {
                    add(&self.tally.helpful);
                    json!({"helpful": true, "session_id": session, "search_id": search_id})
                } else {
                    add(&self.tally.not_helpful);
                    let reason = if is_right {
                        REASONS[rng.below(REASONS.len())]
                    } else {
                        "didnt_solve_my_problem"
                    };
                    json!({"helpful": false, "reason": reason, "session_id": session, "search_id": search_id})
                };
                self.call(
                    Method::POST,
                    &format!("/api/v1/articles/{}/votes", enc(slug)),
                    Some(vote),
                )
                .await;
            }
        }
        if !helped && rng.chance(0.3) && self.tickets.load(Ordering::Relaxed) {
            let subject: String = q.text.chars().take(120).collect();
            let (status, _) = self
                .call(
                    Method::POST,
                    "/api/v1/tickets",
                    Some(json!({
                        "email": format!("{session}@example.com"),
                        "subject": subject,
                        "description": q.text,
                        "session_id": session,
                    })),
                )
                .await;
            if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
                // This server has no ticket endpoint: stop trying.
                self.tickets.store(false, Ordering::Relaxed);
            } else if status.is_success() {
                add(&self.tally.tickets);
            }
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let questions = Arc::new(read_questions(&args.file)?);
    let base = args.url.trim_end_matches('/').to_string();
    if !base.starts_with("http://") {
        bail!(
            "--url {} must be an http:// address (put TLS in front of Deflect, not between it and simulate)",
            args.url
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let sim = Arc::new(Simulator {
            api: Api::new(&base),
            articles: Mutex::new(HashMap::new()),
            tickets: AtomicBool::new(true),
            tally: Tally::default(),
            run: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        });
        let (status, _) = sim.call(Method::GET, "/readyz", None).await;
        if status != StatusCode::OK {
            bail!(
                "{}/readyz answered {status}: is `deflect serve` running there?",
                sim.api.base
            );
        }
        let total = args.sessions.saturating_mul(args.days.max(1));
        let started = Instant::now();
        let next = Arc::new(AtomicU64::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..args.concurrency.max(1) {
            let (sim, next, questions, seed) =
                (Arc::clone(&sim), Arc::clone(&next), Arc::clone(&questions), args.seed);
            workers.spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    // Each session draws from its own stream: the same whatever the concurrency.
                    let mut rng = Rng::new(seed, n);
                    let q = &questions[rng.below(questions.len())];
                    sim.session(n, q, rng).await;
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let secs = started.elapsed().as_secs_f64();
        let t = &sim.tally;
        #[allow(clippy::cast_precision_loss)]
        let rate = get(&t.requests) as f64 / secs.max(1e-9);
        println!(
            "{total} sessions, {} requests in {secs:.1} s: {rate:.0} requests/s ({} failed)",
            get(&t.requests),
            get(&t.failed)
        );
        println!(
            "searches {} (zero results {}), clicks on the right article {}, on another {}, votes helpful {} / not helpful {}, tickets {}{}",
            get(&t.searches),
            get(&t.zero_results),
            get(&t.right_clicks),
            get(&t.wrong_clicks),
            get(&t.helpful),
            get(&t.not_helpful),
            get(&t.tickets),
            if sim.tickets.load(Ordering::Relaxed) {
                ""
            } else {
                " (the server has no ticket endpoint)"
            }
        );
        Ok(if get(&t.failed) == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
