//! The event side of analytics: session cookies, article views and page clicks, as-you-type
//! grouping, recording switched off, and the retention purge on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use deflect::config::Config;
use deflect::store::{ArticleView, Click, Event, SearchEvent, Store, SuggestEvent, Vote};

use crate::app::{TestApp, json};
use crate::fixture::{ArticleSrc, Fixture};
use crate::postgres::PgDatabase;

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["change_pin", "forgot_password"]);
    f.article(
        "cards/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .ticket_types(&["change_pin"])
            .steps("Use any cash machine that offers PIN services."),
    );
    f.article(
        "security/reset-password.md",
        &ArticleSrc::new("I forgot my password")
            .ticket_types(&["forgot_password"])
            .steps("Tap Forgot password on the sign-in screen."),
    );
    f
}

/// Rows of a one-column text query, on either backend.
async fn texts(store: &Store, sql: &str) -> Vec<String> {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn count(store: &Store, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
        Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Events are written in the background: wait up to 5 s until `sql` returns `want`.
async fn eventually(store: &Store, sql: &str, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = texts(store, sql).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: got {got:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    (dir, store)
}

#[tokio::test]
async fn as_you_type_requests_of_a_session_are_one_search() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let store = app.store();
    let mut ids = Vec::new();
    for q in ["pas", "pass", "password"] {
        let (status, _, body) = app
            .get(&format!("/api/v1/autocomplete?q={q}&session_id=a"))
            .await
            .parts();
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(
            json(&body)["search_id"]
                .as_str()
                .expect("search_id when a session is given")
                .to_string(),
        );
    }
    // Submitting the search right after is the same search.
    let (_, _, body) = app
        .get("/api/v1/search?q=password&session_id=a")
        .await
        .parts();
    ids.push(json(&body)["search_id"].as_str().expect("id").to_string());
    assert!(ids.iter().all(|id| id == &ids[0]), "one search id: {ids:?}");
    // Another session typing the same is another search.
    let (_, _, body) = app
        .get("/api/v1/autocomplete?q=pass&session_id=b")
        .await
        .parts();
    assert_ne!(json(&body)["search_id"], ids[0].as_str());
    // Without a session keystrokes cannot be grouped, so they are not recorded.
    let (_, _, body) = app.get("/api/v1/autocomplete?q=pin").await.parts();
    assert!(json(&body).get("search_id").is_none(), "{body}");

    eventually(
        store,
        "SELECT session_id || ':' || query FROM searches ORDER BY session_id",
        &["a:password", "b:pass"],
    )
    .await;
    let top = texts(
        store,
        "SELECT top_slugs FROM searches WHERE session_id = 'a'",
    )
    .await;
    assert_eq!(top, ["reset-password"], "the latest results are kept");

    // A different query, or the same one after a pause, is a new search.
    let (_, _, body) = app.get("/api/v1/search?q=pin&session_id=a").await.parts();
    assert_ne!(json(&body)["search_id"], ids[0].as_str());
    eventually(
        store,
        "SELECT query FROM searches WHERE session_id = 'a' ORDER BY query",
        &["password", "pin"],
    )
    .await;
}

#[tokio::test]
async fn pages_issue_a_session_and_record_views_and_result_clicks() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let store = app.store();

    // First page: a session cookie, and the page's own view is already in that session.
    let (status, headers, _) = app.get("/articles/change-pin").await.parts();
    assert_eq!(status, StatusCode::OK);
    let set = headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    for part in ["deflect_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http: {set}");
    let id = set["deflect_session=".len()..]
        .split(';')
        .next()
        .expect("value")
        .to_string();
    let cookie = format!("deflect_session={id}");
    let with_cookie = [("cookie", cookie.as_str())];
    eventually(
        store,
        "SELECT session_id || ' ' || slug FROM article_views",
        &[&format!("{id} change-pin")],
    )
    .await;

    // Cacheable assets never carry one (a proxy could hand it to everyone).
    let (_, headers, _) = app.get("/assets/style.css").await.parts();
    assert!(headers.get(header::SET_COOKIE).is_none());

    // A visitor who has one keeps it.
    let (_, headers, _) = app.get_with("/", &with_cookie).await.parts();
    assert!(headers.get(header::SET_COOKIE).is_none());

    // A page search links its results with the search id; opening one records the click.
    let (_, _, page) = app.get_with("/search?q=pin", &with_cookie).await.parts();
    // (minijinja escapes "/" in attributes as well.)
    let page = page.replace("&#x2f;", "/").replace("&amp;", "&");
    let at = page
        .find("/articles/change-pin?s=")
        .unwrap_or_else(|| panic!("result link carries the search: {page}"));
    let link = page[at..page[at..].find('"').map(|e| at + e).expect("end")].to_string();
    let search_id = link
        .split("s=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("id")
        .to_string();
    assert!(link.ends_with("&p=1"), "{link}");
    app.get_with(&link, &with_cookie).await;
    app.get_with(&link, &with_cookie).await; // a reload
    let clicks = format!(
        "SELECT slug || ' ' || position || ' ' || session_id FROM clicks WHERE search_id = '{search_id}'"
    );
    eventually(store, &clicks, &[&format!("change-pin 1 {id}")]).await;
    eventually(
        store,
        &format!("SELECT slug FROM article_views WHERE search_id = '{search_id}'"),
        &["change-pin", "change-pin"],
    )
    .await;
    let searches = texts(
        store,
        &format!("SELECT session_id FROM searches WHERE id = '{search_id}'"),
    )
    .await;
    assert_eq!(
        searches,
        std::slice::from_ref(&id),
        "the page search is in the cookie's session"
    );
    // The API's click on the same result is not a second one.
    let res = app
        .post_json_text(
            &format!("/api/v1/search/{search_id}/clicks"),
            r#"{"slug": "change-pin", "position": 1}"#,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(store.click_count(&search_id).await.expect("count"), 1);

    // After a vote the page is shown again: not another view; the vote keeps the search.
    let form = Request::post("/articles/change-pin/feedback")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie.as_str())
        .body(Body::from(format!("helpful=false&s={search_id}")))
        .expect("request");
    let res = app.send(form).await;
    let location = res.headers[header::LOCATION]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(
        location,
        format!("/articles/change-pin?feedback=no&s={search_id}#feedback")
    );
    let (_, _, page) = app
        .get_with(location.trim_end_matches("#feedback"), &with_cookie)
        .await
        .parts();
    assert!(
        page.contains(&format!("name=\"s\" value=\"{search_id}\"")),
        "the reason form carries the search"
    );
    let votes = texts(store, "SELECT session_id || ' ' || search_id FROM votes").await;
    assert_eq!(votes, [format!("{id} {search_id}")]);

    // Widgets: the article API counts a view when told the session.
    app.get("/api/v1/articles/reset-password?session_id=w1")
        .await
        .parts();
    app.get("/api/v1/articles/reset-password").await;
    eventually(
        store,
        "SELECT session_id FROM article_views WHERE slug = 'reset-password'",
        &["w1"],
    )
    .await;
    assert_eq!(
        count(store, "article_views").await,
        4,
        "first view, two from the search, the widget's"
    );

    // Crawlers get the page, no cookie, and are not counted.
    let (status, headers, _) = app
        .get_with(
            "/articles/reset-password",
            &[("user-agent", "Mozilla/5.0 (compatible; bingbot/2.0)")],
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::SET_COOKIE).is_none());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(count(store, "article_views").await, 4);
}

#[tokio::test]
async fn the_cookie_is_secure_behind_https() {
    let f = help_center();
    let config = Config {
        public_url: "https://help.example.com".into(),
        ..Config::default()
    };
    let app = TestApp::with_sqlite(&f, config).await;
    let (_, headers, _) = app.get("/search?q=pin").await.parts();
    let set = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(
        set.contains("; Secure") && set.contains("HttpOnly"),
        "{set}"
    );
}

#[tokio::test]
async fn recording_can_be_switched_off_but_votes_are_kept() {
    let f = help_center();
    let mut config = Config::default();
    config.analytics.record = false;
    let app = TestApp::with_sqlite(&f, config).await;
    let store = app.store();
    let (_, _, body) = app.get("/api/v1/search?q=pin&session_id=a").await.parts();
    let search_id = json(&body)["search_id"]
        .as_str()
        .expect("still an id")
        .to_string();
    app.get(&format!("/articles/change-pin?s={search_id}&p=1"))
        .await
        .parts();
    let click = format!("/api/v1/search/{search_id}/clicks");
    assert_eq!(
        app.post_json_text(&click, r#"{"slug": "change-pin"}"#)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let vote = r#"{"helpful": true, "session_id": "a"}"#;
    assert_eq!(
        app.post_json_text("/api/v1/articles/change-pin/votes", vote)
            .await
            .status,
        StatusCode::CREATED
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    for table in ["searches", "clicks", "article_views"] {
        assert_eq!(count(store, table).await, 0, "{table}");
    }
    assert_eq!(count(store, "votes").await, 1);
}

/// One row of each kind at `at`, for session `s`.
async fn seed(store: &Store, s: &str, at: chrono::DateTime<Utc>) {
    let events = [
        Event::Search(SearchEvent {
            id: format!("q-{s}"),
            session_id: s.into(),
            query: "pin".into(),
            normalized: "pin".into(),
            result_count: 1,
            top_slugs: vec!["change-pin".into()],
            corrected_query: None,
            at,
            client: None,
            learned: None,
        }),
        Event::Click(Click {
            search_id: format!("q-{s}"),
            slug: "change-pin".into(),
            position: Some(1),
            session_id: s.into(),
            at,
        }),
        Event::View(ArticleView {
            session_id: s.into(),
            slug: "change-pin".into(),
            search_id: None,
            at,
        }),
        Event::Suggest(SuggestEvent {
            id: format!("g-{s}"),
            session_id: s.into(),
            message: "pin".into(),
            action: "answer".into(),
            confidence: 0.9,
            slug: Some("change-pin".into()),
            at,
            client: None,
            learned: None,
        }),
    ];
    store.record_events(&events).await.expect("events");
    store
        .record_vote(&Vote {
            session_id: s.into(),
            slug: "change-pin".into(),
            helpful: true,
            reason: None,
            comment: None,
            search_id: None,
            at,
        })
        .await
        .expect("vote");
    let t = format!("t-{s}");
    crate::reports::ticket(store, &t, Some(s), "card_arrival", at).await;
}

async fn purges_past_retention(store: &Store) {
    let now = Utc::now();
    seed(store, "old", now - chrono::Duration::days(200)).await;
    seed(store, "edge", now - chrono::Duration::days(179)).await;
    seed(store, "new", now).await;
    let cutoff = deflect::store::retention::AnalyticsConfig::default()
        .cutoff(now)
        .expect("180 days by default");
    let purged = store.purge_older_than(cutoff).await.expect("purge");
    assert_eq!(
        (
            purged.searches,
            purged.clicks,
            purged.article_views,
            purged.suggestions,
            purged.votes
        ),
        (1, 1, 1, 1, 1),
        "{purged:?}"
    );
    for table in [
        "searches",
        "clicks",
        "article_views",
        "suggestions",
        "votes",
    ] {
        let sessions = texts(
            store,
            &format!("SELECT session_id FROM {table} ORDER BY session_id"),
        )
        .await;
        assert_eq!(sessions, ["edge", "new"], "{table}");
    }
    assert_eq!(count(store, "tickets").await, 3, "tickets are kept");
    let again = store.purge_older_than(cutoff).await.expect("purge");
    assert_eq!(again.total(), 0);
}

#[tokio::test]
async fn sqlite_purges_events_past_retention() {
    let (_dir, store) = sqlite().await;
    purges_past_retention(&store).await;
}

#[tokio::test]
async fn postgres_purges_events_past_retention() {
    let (db, store) = PgDatabase::create().await;
    purges_past_retention(&store).await;
    db.drop_now(store).await;
}

#[test]
fn analytics_settings_layer() {
    use deflect::config::Layer;
    let file = Layer::from_toml(
        std::path::Path::new("d.toml"),
        "[analytics]\nretention_days = 30\n",
    )
    .expect("valid");
    let env = Layer::from_env(|k| (k == "DEFLECT_ANALYTICS_RECORD").then(|| "false".to_string()))
        .expect("valid");
    let c = Config::resolve(Some(file), env, Layer::default());
    assert_eq!(
        (c.analytics.record, c.analytics.retention_days),
        (false, 30)
    );
    let e = Layer::from_toml(
        std::path::Path::new("d.toml"),
        "[analytics]\nretention = 3\n",
    )
    .expect_err("unknown key");
    assert!(e.to_string().starts_with("d.toml:2:"), "{e}");
    let never = deflect::store::retention::AnalyticsConfig {
        record: true,
        retention_days: 0,
    };
    assert_eq!(never.cutoff(Utc::now()), None);
}
