//! One simulated visitor session: search or ask the widget, look at results with position
//! bias, click, vote, file a ticket; an agent corrects some tickets' types.

use super::*;

/// Counts of one fold's requests and visitor actions.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) requests: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) server_errors: AtomicU64,
    pub(super) searches: AtomicU64,
    pub(super) suggestions: AtomicU64,
    pub(super) right_clicks: AtomicU64,
    pub(super) wrong_clicks: AtomicU64,
    pub(super) helpful: AtomicU64,
    pub(super) not_helpful: AtomicU64,
    pub(super) tickets: AtomicU64,
    pub(super) corrections: AtomicU64,
}

/// One fold's server and what the visitors and the measurement need.
pub(super) struct Fold {
    pub(super) api: Api,
    pub(super) bearer: String,
    /// Ticket type → the published articles that answer it (front matter `ticket_types`).
    pub(super) answers: Arc<HashMap<String, HashSet<String>>>,
    pub(super) fold: u32,
    pub(super) seed: u64,
    pub(super) tally: Tally,
}

/// What the suggestion endpoint did with a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Outcome {
    AnsweredRight,
    AnsweredWrong,
    Suggested,
    HandedOff,
    #[default]
    Failed,
}

impl Fold {
    pub(super) fn right(&self, slug: &str, label: &str) -> bool {
        self.answers.get(label).is_some_and(|s| s.contains(slug))
    }

    /// One request from `ip`; `None` (counted, the first few logged) when it failed.
    pub(super) async fn call(
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

    pub(super) async fn search(
        &self,
        q: &str,
        session: Option<&str>,
        learned: bool,
        ip: &str,
    ) -> Value {
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

    pub(super) async fn suggest(
        &self,
        q: &str,
        session: Option<&str>,
        learned: bool,
        ip: &str,
    ) -> Value {
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

    pub(super) async fn click(
        &self,
        search_id: &str,
        slug: &str,
        position: usize,
        session: &str,
        ip: &str,
    ) {
        self.call(
            Method::POST,
            &format!("/api/v1/search/{}/clicks", enc(search_id)),
            Some(json!({"slug": slug, "position": position, "session_id": session})),
            ip,
            false,
        )
        .await;
    }

    pub(super) async fn vote(
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
    pub(super) async fn ticket(
        &self,
        q: &str,
        email: &str,
        session: Option<&str>,
        ip: &str,
    ) -> Option<Value> {
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
    pub(super) async fn visit(&self, n: u64, q: &Question) {
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
    pub(super) async fn rank(
        &self,
        q: &str,
        label: &str,
        learned: bool,
    ) -> (Option<usize>, Option<String>) {
        let found = self.search(q, None, learned, MEASURE_IP).await;
        let slugs = result_slugs(&found);
        (
            slugs.iter().position(|s| self.right(s, label)),
            slugs.first().cloned(),
        )
    }

    pub(super) async fn outcome(&self, q: &str, label: &str, learned: bool) -> (Outcome, bool) {
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

    pub(super) async fn triage(&self, q: &Question) -> Option<bool> {
        let t = self
            .ticket(&q.text, "eval@example.com", None, MEASURE_IP)
            .await?;
        Some(t["category"].as_str() == Some(q.category.as_str()))
    }

    pub(super) async fn retrain(&self) -> anyhow::Result<Option<Value>> {
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
pub(super) async fn par_map<R, F, Fut>(
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
