//! Real `deflect serve` processes: two replicas sharing one PostgreSQL (a vote on one is the
//! other's vote; events from both are counted once each, flushed on SIGTERM), and
//! `deflect simulate` replaying questions through the public API.

use std::path::Path;
use std::process::{Command, Stdio};

use deflect::store::Store;

use crate::app::ServeProcess;
use crate::fixture::{ArticleSrc, Fixture};
use crate::postgres::PgDatabase;

/// A `deflect serve` replica on `content`, its data in `work`, sharing `database_url`.
fn replica(content: &Path, work: &Path, database_url: Option<&str>) -> ServeProcess {
    ServeProcess::start(|cmd| {
        cmd.arg("--content")
            .arg(content)
            .arg("--data-dir")
            .arg(work.join("data"))
            .current_dir(work)
            .stderr(Stdio::inherit());
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        cmd
    })
}

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["change_pin", "card_arrival"]);
    f.article(
        "cards/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .ticket_types(&["change_pin"])
            .steps("Use any cash machine that offers PIN services."),
    );
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived")
            .ticket_types(&["card_arrival"])
            .steps("Wait five working days, then order a replacement card."),
    );
    f
}

async fn count(store: &Store, sql: &str) -> i64 {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_one_postgres() {
    let (db, store) = PgDatabase::create().await;
    let url = db.url();
    let f = help_center();
    let (wa, wb) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let a = replica(f.root(), wa.path(), Some(&url));
    let b = replica(f.root(), wb.path(), Some(&url));

    // A vote on A is committed when A says 201: B's database has it. The same session voting
    // again on B replaces it — one counted vote per session and article across replicas.
    let vote = r#"{"helpful": false, "reason": "outdated", "session_id": "s1"}"#;
    let (status, body) = a.call("POST", "/api/v1/articles/change-pin/votes", Some(vote));
    assert_eq!(status, 201, "{body}");
    let h = store.helpfulness().await.expect("read");
    assert_eq!(
        (h[0].slug.as_str(), h[0].yes, h[0].no),
        ("change-pin", 0, 1)
    );
    let (status, _) = b.call(
        "POST",
        "/api/v1/articles/change-pin/votes",
        Some(r#"{"helpful": true, "session_id": "s1"}"#),
    );
    assert_eq!(status, 201);
    let h = store.helpfulness().await.expect("read");
    assert_eq!((h.len(), h[0].yes, h[0].no), (1, 1, 0), "{h:?}");

    // Searches on both, then SIGTERM at once: what is still queued must be flushed.
    for i in 0..5 {
        let (status, _) = a.call(
            "GET",
            &format!("/api/v1/search?q=pin&session_id=a{i}"),
            None,
        );
        assert_eq!(status, 200);
    }
    for i in 0..7 {
        b.call(
            "GET",
            &format!("/api/v1/search?q=card&session_id=b{i}"),
            None,
        );
    }
    // As-you-type on A: one search.
    for q in ["car", "card", "card arr"] {
        a.call(
            "GET",
            &format!("/api/v1/autocomplete?q={q}&session_id=t"),
            None,
        );
    }
    b.call("GET", "/api/v1/articles/change-pin?session_id=b1", None);
    a.stop();
    b.stop();
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM searches").await,
        13,
        "5 + 7 + 1"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM searches WHERE session_id LIKE 'b%'"
        )
        .await,
        7
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM article_views").await, 1);
    db.drop_now(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn simulate_replays_questions_as_sessions() {
    let f = help_center();
    let work = tempfile::tempdir().expect("tmp");
    let questions = work.path().join("questions.csv");
    std::fs::write(
        &questions,
        "text,label\n\
         I am still waiting on my card?,card_arrival\n\
         How do I change my PIN?,change_pin\n\
         Where can I change my pin number,change_pin\n\
         my card hasnt arrived after two weeks,card_arrival\n\
         zebra xylophone quokka,refund_request\n",
    )
    .expect("write csv");
    let server = replica(f.root(), work.path(), None);
    let simulate = |seed: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_deflect"))
            .args(["simulate"])
            .arg(&questions)
            .args(["--url", &format!("http://{}", server.addr)])
            .args(["--sessions", "30", "--seed", seed, "--concurrency", "4"])
            .output()
            .expect("run simulate");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("requests/s"), "{stdout}");
        // The second line sums up the behaviour; the first has timings.
        stdout.lines().nth(1).expect("summary").to_string()
    };
    let first = simulate("7");
    assert_eq!(first, simulate("7"), "the same seed, the same sessions");
    assert!(
        first.contains("the server has no ticket endpoint") || first.contains("tickets"),
        "{first}"
    );
    let data = work.path().join("data");
    server.stop();
    let store = Store::open_dir(&data).await.expect("open");
    // Each session searched once, however many keystrokes it sent.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM searches").await, 60);
    assert!(count(&store, "SELECT COUNT(*) FROM clicks").await > 10);
    assert!(count(&store, "SELECT COUNT(*) FROM votes").await > 5);
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM searches WHERE result_count = 0"
        )
        .await
            > 0,
        "the zebra"
    );
}
