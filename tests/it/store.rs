//! The store on both backends: SQLite in a temporary directory and a real PostgreSQL (see
//! `postgres.rs`: a throwaway cluster), each test in a fresh database.

use chrono::Utc;
use deflect::store::{Click, SearchEvent, Store, Vote, VoteReason};

use crate::postgres::PgDatabase;

fn vote(session: &str, slug: &str, helpful: bool) -> Vote {
    Vote {
        session_id: session.into(),
        slug: slug.into(),
        helpful,
        reason: (!helpful).then_some(VoteReason::Outdated),
        comment: None,
        search_id: None,
        at: Utc::now(),
    }
}

fn search(id: &str) -> SearchEvent {
    SearchEvent {
        id: id.into(),
        session_id: "s1".into(),
        query: "Card ARRIVED?".into(),
        normalized: "card arrived".into(),
        result_count: 2,
        top_slugs: vec!["card-arrival".into(), "card-delivery-estimate".into()],
        corrected_query: None,
        at: Utc::now(),
        client: None,
        learned: None,
    }
}

/// The same behaviour whatever the backend.
async fn behaves(store: &Store) {
    // One counted vote per session and article; a later vote replaces the earlier.
    store
        .record_vote(&vote("a", "card-arrival", false))
        .await
        .expect("vote");
    store
        .record_vote(&vote("a", "card-arrival", true))
        .await
        .expect("revote");
    store
        .record_vote(&vote("b", "card-arrival", false))
        .await
        .expect("vote");
    store
        .record_vote(&vote("a", "change-pin", true))
        .await
        .expect("vote");
    let h = store.helpfulness().await.expect("helpfulness");
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(
        (h[0].slug.as_str(), h[0].yes, h[0].no),
        ("card-arrival", 1, 1)
    );
    assert_eq!(
        (h[1].slug.as_str(), h[1].yes, h[1].no),
        ("change-pin", 1, 0)
    );

    store
        .record_searches(&[search("q1"), search("q2")])
        .await
        .expect("searches");
    store
        .record_searches(&[search("q2")])
        .await
        .expect("a repeated event is stored once");
    assert_eq!(store.search_count().await.expect("count"), 2);

    // One batch holding a search typed further: one row, the last query, the first start.
    let start = chrono::Utc::now() - chrono::Duration::seconds(5);
    let mut first = search("q3");
    first.query = "pas".into();
    first.at = start;
    let mut later = search("q3");
    later.query = "password".into();
    later.at = start + chrono::Duration::seconds(2);
    store
        .record_searches(&[first, search("q4"), later])
        .await
        .expect("a grouped search in one batch");
    assert_eq!(store.search_count().await.expect("count"), 4);
    let (query, at): (String, chrono::DateTime<chrono::Utc>) = match store {
        Store::Sqlite(p) => {
            sqlx::query_as("SELECT query, created_at FROM searches WHERE id = 'q3'")
                .fetch_one(p)
                .await
        }
        Store::Postgres(p) => {
            sqlx::query_as("SELECT query, created_at FROM searches WHERE id = 'q3'")
                .fetch_one(p)
                .await
        }
    }
    .expect("q3");
    assert_eq!(query, "password");
    assert_eq!(at.timestamp_micros(), start.timestamp_micros());

    let click = Click {
        search_id: "q1".into(),
        slug: "card-arrival".into(),
        position: Some(1),
        session_id: "s1".into(),
        at: Utc::now(),
    };
    store.record_click(&click).await.expect("click");
    assert_eq!(store.click_count("q1").await.expect("clicks"), 1);
    assert_eq!(store.click_count("q2").await.expect("clicks"), 0);
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    assert_eq!(store.backend(), "sqlite");
    behaves(&store).await;
    // Data survives reopening: migrations are idempotent and writes were committed.
    drop(store);
    let again = Store::open_dir(dir.path()).await.expect("reopen");
    assert_eq!(again.search_count().await.expect("count"), 4);
}

#[tokio::test]
async fn postgres_store() {
    let (db, store) = PgDatabase::create().await;
    assert_eq!(store.backend(), "postgres");
    behaves(&store).await;
    db.drop_now(store).await;
}

#[tokio::test]
async fn bad_database_urls_are_explained() {
    let e = Store::connect("mysql://x").await.expect_err("unsupported");
    assert!(
        e.to_string().contains("use sqlite://PATH or postgres://"),
        "{e}"
    );
    let e = Store::connect("postgres://postgres@127.0.0.1:1/none")
        .await
        .expect_err("nothing listens on port 1");
    assert!(e.to_string().contains("database is unavailable"), "{e}");
}

/// A multi-row statement's text depends on its number of rows: batches of any size must
/// leave each connection a few prepared statements, not one per size (kept, they grew the
/// server's memory by about 0.7 MB a second under load), and store every row.
#[tokio::test]
async fn batches_of_any_size_keep_a_few_statements_prepared() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    let Store::Sqlite(pool) = &store else {
        panic!("a SQLite store")
    };
    // Opening ran the migrations, whose statements stay prepared on the connection that ran
    // them: start every connection from none, so what is counted is the batches'. Holding as
    // many as the pool may open is holding them all, even one still on its way back to it.
    let every = pool.options().get_max_connections();
    let mut open = Vec::new();
    for _ in 0..every {
        open.push(pool.acquire().await.expect("connection"));
    }
    for connection in &mut open {
        connection
            .clear_cached_statements()
            .await
            .expect("clear statements");
    }
    drop(open);
    let sizes = 100;
    for size in 1..=sizes {
        let batch: Vec<SearchEvent> = (0..size).map(|i| search(&format!("b{size}-{i}"))).collect();
        store.record_searches(&batch).await.expect("searches");
    }
    assert_eq!(
        store.search_count().await.expect("count"),
        (1..=sizes).sum::<i64>()
    );
    // Every connection of the pool at once: the statements each one keeps.
    let mut held = Vec::new();
    for _ in 0..every {
        held.push(pool.acquire().await.expect("connection"));
    }
    let kept: Vec<usize> = held
        .iter_mut()
        .map(|c| c.cached_statements_size())
        .collect();
    // Seven sizes of the insert, and the count on one of them; one statement per size would
    // leave 25 or more on one of the pool's connections.
    assert!(
        kept.iter().all(|&k| k <= 8),
        "statements kept prepared per connection after {sizes} batch sizes: {kept:?}"
    );
}
