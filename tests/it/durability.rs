//! `kill -9` in the middle of traffic, on both backends: every acknowledged vote is stored,
//! and every acknowledged analytics event too — the killed run's journal is written at the
//! next start, exactly once (no event twice), and counted in `/metrics`.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use deflect::store::Store;

use crate::app::ServeProcess;
use crate::fixture::{ArticleSrc, Fixture};
use crate::postgres::PgDatabase;

const SEARCHES: i64 = 120;
const VIEWS: i64 = 30;
const VOTES: i64 = 10;

fn server(content: &Path, data: &Path, database_url: Option<&str>) -> ServeProcess {
    ServeProcess::start(|cmd| {
        cmd.arg("--content")
            .arg(content)
            .arg("--data-dir")
            .arg(data)
            .stderr(Stdio::null());
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        cmd
    })
}

async fn count(store: &Store, sql: &str) -> i64 {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn journal_lines(data: &Path) -> usize {
    std::fs::read_dir(data.join("journal"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
                .map(|e| {
                    std::fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .lines()
                        .count()
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn killed_mid_traffic(database_url: Option<&str>, open: impl AsyncFnOnce(&Path) -> Store) {
    let f = Fixture::new();
    f.article(
        "cards/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?").steps("Use any cash machine."),
    );
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    let first = server(f.root(), &data, database_url);
    // Votes are committed before their 201.
    for i in 0..VOTES {
        let vote = format!(r#"{{"helpful": true, "session_id": "vote{i}"}}"#);
        let (status, body) = first.call("POST", "/api/v1/articles/change-pin/votes", Some(&vote));
        assert_eq!(status, 201, "{body}");
    }
    for i in 0..SEARCHES {
        let (status, body) = first.call(
            "GET",
            &format!("/api/v1/search?q=pin+{i}&session_id=k{i}"),
            None,
        );
        assert_eq!(status, 200, "{body}");
    }
    for i in 0..VIEWS {
        let (status, _) = first.call(
            "GET",
            &format!("/api/v1/articles/change-pin?session_id=v{i}"),
            None,
        );
        assert_eq!(status, 200);
    }
    // Killed at once: the last events are still lingering in the writer's batch.
    drop(first);
    assert!(
        journal_lines(&data) > 0,
        "the killed run left acknowledged events in its journal"
    );

    // What the killed run's writer had stored: the rest is the journal's to replay.
    let store = open(&data).await;
    let stored = count(&store, "SELECT COUNT(*) FROM searches").await
        + count(&store, "SELECT COUNT(*) FROM article_views").await;
    let pending = SEARCHES + VIEWS - stored;
    assert!(
        pending > 0,
        "the kill came after the writer had stored every event: nothing left to replay"
    );

    let second = server(f.root(), &data, database_url);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let searches = count(&store, "SELECT COUNT(*) FROM searches").await;
        let views = count(&store, "SELECT COUNT(*) FROM article_views").await;
        if (searches, views) == (SEARCHES, VIEWS) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Exactly once: what was written before the kill is not written again.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM searches").await,
        SEARCHES
    );
    assert_eq!(
        count(&store, "SELECT COUNT(DISTINCT query) FROM searches").await,
        SEARCHES
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM article_views").await,
        VIEWS
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM votes").await, VOTES);
    // The replay is counted, exactly: the counter moves just after the rows are written,
    // so it is read until it does (or the deadline passes).
    let recovered = loop {
        let (status, metrics) = second.call("GET", "/metrics", None);
        assert_eq!(status, 200);
        let recovered: i64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("deflect_events_recovered_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no recovered counter in {metrics}"));
        if recovered == pending || Instant::now() > deadline {
            break recovered;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(recovered, pending, "the replay is counted");

    // A clean stop leaves no journal and no mark behind.
    second.stop();
    assert_eq!(journal_lines(&data), 0);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM event_journal_marks").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_loses_no_acknowledged_event_on_sqlite() {
    killed_mid_traffic(None, async |data: &Path| {
        Store::open_dir(data).await.expect("open")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_loses_no_acknowledged_event_on_postgres() {
    let (db, store) = PgDatabase::create().await;
    let url = db.url();
    let shared = store.clone();
    killed_mid_traffic(Some(&url), async move |_: &Path| shared).await;
    db.drop_now(store).await;
}
