//! Closed days and hours: aggregated once in the store, then read back; the hours that can
//! still change are refreshed by a background job.

use super::*;

/// A day's searches and refinements are final an hour after it ends (late clicks).
const SETTLE_SEARCHES: Duration = crate::store::reports::CLICK_SETTLE;
/// A day's sessions are final once a ticket can no longer count against them (24 h) plus an hour.
const SETTLE_SESSIONS: Duration = crate::store::reports::SESSION_SETTLE;

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `t` rounded down to the hour.
fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp().div_euclid(3600) * 3600;
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

/// `t` rounded up to the hour.
fn hour_ceil(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = hour_floor(t);
    if floor == t {
        t
    } else {
        floor + Duration::hours(1)
    }
}

/// How long a chunk computed before its numbers were final (late clicks, a ticket within
/// 24 h of a session) is read back before it is computed again: the last day's numbers in a
/// report can be this old. The background job refreshes them about as often.
pub const REFRESH: Duration = Duration::minutes(5);

/// A kept piece of a period: a whole UTC day (`2026-11-16`) or one hour (`2026-11-16T05`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    key: String,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Splits `[since, until)` (whole hours) into hours, and whole days where the day ends by
/// `days_until` (days whose numbers are final: they are computed once, not refreshed).
fn chunks(since: DateTime<Utc>, until: DateTime<Utc>, days_until: DateTime<Utc>) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut t = since;
    while t < until {
        let day = t.date_naive();
        let next_midnight = midnight(day.succ_opt().unwrap_or(day));
        let (key, next) =
            if t == midnight(day) && next_midnight <= until && next_midnight <= days_until {
                (day.format("%Y-%m-%d").to_string(), next_midnight)
            } else {
                (t.format("%Y-%m-%dT%H").to_string(), t + Duration::hours(1))
            };
        out.push(Chunk {
            key,
            since: t,
            until: next,
        });
        t = next;
    }
    out
}

/// Whether a kept chunk ending at `until` can be read back at `now`: it was computed once its
/// numbers were final (`settle` after its end), or less than [`REFRESH`] ago.
fn usable(
    computed_at: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
    settle: Duration,
    now: DateTime<Utc>,
) -> bool {
    computed_at.is_some_and(|at| at >= until + settle || now - at < REFRESH)
}

/// Runs a chunked aggregate over `period`: every whole hour (whole days once they are final)
/// is computed once and kept, then read back — while its numbers can still change (for
/// `settle` after its end) for [`REFRESH`] at a time; only the partial first and current
/// hours are always computed live, so a report's cost does not grow with the traffic of the
/// period. `compute(since, until)` must return rows that can simply be concatenated (the
/// callers sum rows with the same key).
pub(super) async fn by_chunks<T, F, Fut>(
    store: &Store,
    query: &str,
    period: Period,
    settle: Duration,
    compute: F,
) -> Result<Vec<T>, ReportError>
where
    T: Serialize + serde::de::DeserializeOwned,
    F: Fn(DateTime<Utc>, DateTime<Utc>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, StoreError>>,
{
    let now = Utc::now();
    let start = hour_ceil(period.since);
    let end = hour_floor(period.until.min(now));
    if start >= end {
        return Ok(compute(period.since, period.until).await?);
    }
    let mut rows = Vec::new();
    if period.since < start {
        rows.extend(compute(period.since, start).await?);
    }
    let fmt = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let last_day = end.date_naive();
    let cached: HashMap<String, (String, Option<DateTime<Utc>>)> = store
        .cached_days(
            query,
            &fmt(start.date_naive()),
            &fmt(last_day.succ_opt().unwrap_or(last_day)),
        )
        .await?
        .into_iter()
        .map(|(key, json, at)| (key, (json, at)))
        .collect();
    for chunk in chunks(start, end, now - settle) {
        // A row format from another version does not parse: compute it again.
        if let Some(chunk_rows) = cached
            .get(&chunk.key)
            .filter(|(_, at)| usable(*at, chunk.until, settle, now))
            .and_then(|(json, _)| serde_json::from_str::<Vec<T>>(json).ok())
        {
            rows.extend(chunk_rows);
            continue;
        }
        let computed_at = Utc::now();
        let chunk_rows = compute(chunk.since, chunk.until).await?;
        match serde_json::to_string(&chunk_rows) {
            Ok(json) => {
                store
                    .cache_day(query, &chunk.key, &json, computed_at)
                    .await?;
            }
            Err(e) => tracing::warn!("caching {query} for {}: {e}", chunk.key),
        }
        rows.extend(chunk_rows);
    }
    if end < period.until {
        rows.extend(compute(end, period.until).await?);
    }
    Ok(rows)
}

pub(super) async fn query_day_stats(
    store: &Store,
    period: Period,
) -> Result<Vec<QueryDayStats>, ReportError> {
    by_chunks(
        store,
        "query_day_stats/3",
        period,
        SETTLE_SEARCHES,
        |a, b| store.query_day_stats(a, b),
    )
    .await
}

pub(super) async fn failed_sessions_by_base(
    store: &Store,
    period: Period,
) -> Result<Vec<BaseSessions>, ReportError> {
    by_chunks(
        store,
        "failed_sessions_by_base/1",
        period,
        SETTLE_SEARCHES,
        |a, b| store.failed_sessions_by_base(a, b),
    )
    .await
}

/// Refinements over the period: the chunks' top pairs merged (a pair that is never among a
/// day's or an hour's top 500 is missed; the total is exact).
pub(super) async fn refinements(store: &Store, period: Period) -> Result<Refinements, ReportError> {
    let parts = by_chunks(
        store,
        "refinements/2",
        period,
        SETTLE_SEARCHES,
        |a, b| async move {
            Ok(vec![
                store.refinements(a, b, REFINEMENT_WINDOW_SECS, 500).await?,
            ])
        },
    )
    .await?;
    let mut total = 0;
    let mut pairs: HashMap<(String, String), (i64, i64)> = HashMap::new();
    for part in parts {
        total += part.total;
        for p in part.pairs {
            let e = pairs.entry((p.from, p.to)).or_default();
            *e = (e.0 + p.count, e.1 + p.fixed);
        }
    }
    let mut pairs: Vec<RefinementPair> = pairs
        .into_iter()
        .map(|((from, to), (count, fixed))| RefinementPair {
            from,
            to,
            count,
            fixed,
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.fixed
            .cmp(&a.fixed)
            .then(b.count.cmp(&a.count))
            .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
    });
    pairs.truncate(200);
    Ok(Refinements { total, pairs })
}

pub(super) async fn session_buckets(
    store: &Store,
    period: Period,
) -> Result<Vec<SessionBucket>, ReportError> {
    by_chunks(
        store,
        "session_buckets/2",
        period,
        SETTLE_SESSIONS,
        |a, b| store.session_buckets(a, b, TICKET_WINDOW_SECS),
    )
    .await
}

/// Keeps the hours and days of the last 31 days aggregated — the ones still changing
/// refreshed a little more often than [`REFRESH`] — so a report request finds them ready, and
/// forgets aggregated days past the retention period (they hold queries as typed;
/// `retention_days` 0 keeps them): runs now and then every 4 minutes, in the background.
pub fn spawn_warmup(store: Store, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(240));
        loop {
            every.tick().await;
            let now = Utc::now();
            if retention_days > 0 {
                let cutoff = now - Duration::days(i64::from(retention_days));
                let day = cutoff.date_naive().format("%Y-%m-%d").to_string();
                if let Err(e) = store.forget_report_days_before(&day).await {
                    tracing::warn!("forgetting old report days: {e}");
                }
            }
            let period = Period {
                since: midnight((now - Duration::days(31)).date_naive()),
                until: now,
            };
            let started = std::time::Instant::now();
            let result = async {
                query_day_stats(&store, period).await?;
                failed_sessions_by_base(&store, period).await?;
                refinements(&store, period).await?;
                session_buckets(&store, period).await?;
                Ok::<_, ReportError>(())
            }
            .await;
            match result {
                Ok(()) => {
                    tracing::debug!(ms = started.elapsed().as_millis(), "report days aggregated");
                }
                Err(e) => tracing::warn!("aggregating report days: {e}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn chunks_are_whole_days_between_hours() {
        let far = at("2030-01-01T00:00:00Z");
        let keys = |a: &str, b: &str| -> Vec<String> {
            chunks(at(a), at(b), far)
                .into_iter()
                .map(|c| c.key)
                .collect()
        };
        assert_eq!(
            keys("2026-11-20T22:00:00Z", "2026-11-23T02:00:00Z"),
            [
                "2026-11-20T22",
                "2026-11-20T23",
                "2026-11-21",
                "2026-11-22",
                "2026-11-23T00",
                "2026-11-23T01"
            ]
        );
        // Less than a day: hours only, even across midnight.
        assert_eq!(
            keys("2026-11-20T23:00:00Z", "2026-11-21T01:00:00Z"),
            ["2026-11-20T23", "2026-11-21T00"]
        );
        assert!(keys("2026-11-20T23:00:00Z", "2026-11-20T23:00:00Z").is_empty());
        // The chunks tile the range: each starts where the one before ended.
        // Days that are not final yet stay hours.
        assert_eq!(
            chunks(
                at("2026-11-21T00:00:00Z"),
                at("2026-11-22T02:00:00Z"),
                at("2026-11-21T23:00:00Z")
            )
            .len(),
            26
        );
        let c = chunks(at("2026-11-01T05:00:00Z"), at("2026-11-09T17:00:00Z"), far);
        assert_eq!(c[0].since, at("2026-11-01T05:00:00Z"));
        assert!(c.windows(2).all(|w| w[0].until == w[1].since));
        assert_eq!(c.last().map(|c| c.until), Some(at("2026-11-09T17:00:00Z")));
        assert_eq!(
            hour_ceil(at("2026-11-01T05:00:01Z")),
            at("2026-11-01T06:00:00Z")
        );
        assert_eq!(
            hour_floor(at("2026-11-01T05:59:59Z")),
            at("2026-11-01T05:00:00Z")
        );
    }

    #[test]
    fn kept_chunks_are_final_or_recent() {
        let until = at("2026-11-22T10:00:00Z");
        let settle = Duration::hours(1);
        let now = at("2026-11-22T12:00:00Z");
        // Computed after it settled: read back for good.
        assert!(usable(Some(at("2026-11-22T11:00:00Z")), until, settle, now));
        assert!(usable(
            Some(at("2026-11-22T11:00:00Z")),
            until,
            settle,
            now + Duration::days(30)
        ));
        // Computed before it settled: only while recent.
        let early = at("2026-11-22T10:58:00Z");
        assert!(usable(
            Some(early),
            until,
            settle,
            early + Duration::minutes(4)
        ));
        assert!(!usable(Some(early), until, settle, early + REFRESH));
        assert!(!usable(None, until, settle, now));
    }
}
