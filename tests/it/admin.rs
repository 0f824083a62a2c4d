//! Admin logins: a login is a session the server keeps (logging out and rotating the token
//! end it; replicas of one store share it), wrong tokens are limited per client, and a change
//! made with the login cookie is accepted from this site's own pages only.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use deflect::config::{Config, Secret, WidgetConfig};
use deflect::store::Store;
use deflect::store::admin::AdminSession;
use sha2::Digest;

use crate::app::TestApp;
use crate::fixture::{ArticleSrc, Fixture};
use crate::postgres::PgDatabase;

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived")
            .set("last_reviewed", "2026-10-01")
            .steps("Wait five working days, then order a replacement card."),
    );
    f
}

fn config(token: &str) -> Config {
    Config {
        admin_token: Some(Secret::new(token)),
        ..Config::default()
    }
}

/// A request carrying the login cookie, sent from `origin` (none when `None`) to help.example.
fn with_cookie(method: &str, uri: &str, cookie: &str, origin: Option<&str>) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "help.example")
        .header(header::COOKIE, cookie);
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    req.body(Body::empty()).expect("request")
}

const HERE: Option<&str> = Some("https://help.example");

/// The session id's hash, as the store keeps it.
fn id_hash(cookie: &str) -> String {
    let id = cookie.split_once('=').expect("name=value").1;
    hex::encode(sha2::Sha256::digest(id.as_bytes()))
}

async fn sessions_behave(store: Store) {
    let f = help_center();
    let app = TestApp::with_store(&f, config("first-token"), store.clone());
    let cookie = app.login().await;
    assert!(
        !cookie.contains("first-token"),
        "the cookie holds a random session id, not the token: {cookie}"
    );
    let stored = store
        .admin_session(&id_hash(&cookie))
        .await
        .expect("read")
        .expect("the login is stored");
    assert!(stored.expires_at > stored.created_at);
    assert!(
        !format!("{stored:?}").contains(&stored.id_hash),
        "Debug hides the id's hash"
    );

    let (status, _, page) = app
        .send(with_cookie("GET", "/admin", &cookie, None))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK, "{page}");

    // Another replica on the same store, with the same token, knows the login.
    let replica = TestApp::with_store(&f, config("first-token"), store.clone());
    let (status, _, _) = replica
        .send(with_cookie("GET", "/admin", &cookie, None))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK, "a replica shares the login");

    // Rotating the token ends every session the old token opened.
    let rotated = TestApp::with_store(&f, config("second-token"), store.clone());
    let (status, headers, _) = rotated
        .send(with_cookie("GET", "/admin", &cookie, None))
        .await
        .parts();
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::LOCATION]
            .to_str()
            .expect("ascii")
            .starts_with("/admin/login")
    );
    let (status, _, _) = rotated
        .send(with_cookie("GET", "/api/v1/admin/tickets", &cookie, None))
        .await
        .parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An expired session is refused, though stored with the right token's fingerprint.
    let expired_id = "expired-session-id-0123456789abcdef";
    store
        .create_admin_session(&AdminSession {
            id_hash: hex::encode(sha2::Sha256::digest(expired_id.as_bytes())),
            token_fingerprint: stored.token_fingerprint.clone(),
            created_at: stored.created_at - 100_000,
            expires_at: stored.created_at - 1,
        })
        .await
        .expect("store");
    let (status, _, _) = app
        .send(with_cookie(
            "GET",
            "/admin",
            &format!("deflect_admin={expired_id}"),
            None,
        ))
        .await
        .parts();
    assert_eq!(status, StatusCode::SEE_OTHER, "an expired login");

    // Logging out on one replica ends the session everywhere, even for a copy of the cookie.
    let (status, headers, _) = replica
        .send(with_cookie("POST", "/admin/logout", &cookie, HERE))
        .await
        .parts();
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
    assert!(
        store
            .admin_session(&id_hash(&cookie))
            .await
            .expect("read")
            .is_none()
    );
    let (status, _, _) = app
        .send(with_cookie("GET", "/admin", &cookie, None))
        .await
        .parts();
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie after logout");
}

#[tokio::test]
async fn a_login_is_a_server_session_that_logout_and_token_rotation_end_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    sessions_behave(store).await;
}

#[tokio::test]
async fn a_login_is_a_server_session_that_logout_and_token_rotation_end_on_postgres() {
    let (db, store) = PgDatabase::create().await;
    sessions_behave(store.clone()).await;
    db.drop_now(store).await;
}

#[tokio::test]
async fn without_a_store_a_login_lives_in_the_process_and_logout_ends_it() {
    let f = help_center();
    let app = TestApp::with_config(&f, config("tok-123"));
    let cookie = app.login().await;
    let (status, _, _) = app
        .send(with_cookie("POST", "/api/v1/admin/reindex", &cookie, HERE))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    let other_process = TestApp::with_config(&f, config("tok-123"));
    let (status, _, _) = other_process
        .send(with_cookie("POST", "/api/v1/admin/reindex", &cookie, HERE))
        .await
        .parts();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "not known to another process"
    );
    app.send(with_cookie("POST", "/admin/logout", &cookie, HERE))
        .await;
    let (status, _, _) = app
        .send(with_cookie("POST", "/api/v1/admin/reindex", &cookie, HERE))
        .await
        .parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changes_made_with_the_login_cookie_come_from_this_sites_pages_only() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, config("tok-123")).await;
    let cookie = app.login().await;
    let reindex =
        |origin: Option<&str>| with_cookie("POST", "/api/v1/admin/reindex", &cookie, origin);

    for origin in [Some("https://evil.example"), Some("null"), None] {
        let (status, _, body) = app.send(reindex(origin)).await.parts();
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}: {body}");
        assert!(body.contains("this site's own pages"), "{body}");
    }
    let (status, _, body) = app.send(reindex(HERE)).await.parts();
    assert_eq!(status, StatusCode::OK, "{body}");
    // Without an Origin, a Referer from this site will do.
    let req = Request::post("/api/v1/admin/reindex")
        .header(header::HOST, "help.example")
        .header(header::REFERER, "https://help.example/admin/tickets")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send(req).await.status, StatusCode::OK);
    // Reading needs no Origin; a script's bearer token needs none either.
    let (status, _, _) = app
        .send(with_cookie(
            "GET",
            "/api/v1/admin/tickets",
            &cookie,
            Some("https://evil.example"),
        ))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app
        .admin("POST", "/api/v1/admin/reindex", None)
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);

    // Logging out from another site's page does not end the session.
    let (status, _, _) = app
        .send(with_cookie(
            "POST",
            "/admin/logout",
            &cookie,
            Some("https://evil.example"),
        ))
        .await
        .parts();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = app
        .send(with_cookie("GET", "/admin", &cookie, None))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);

    // A login form posted from another site is refused.
    let req = Request::post("/admin/login")
        .header(header::HOST, "help.example")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("token=tok-123&next=%2Fadmin"))
        .expect("request");
    let (status, headers, _) = app.send(req).await.parts();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn wrong_tokens_are_limited_per_client_and_the_limit_holds_for_the_right_one_too() {
    let f = help_center();
    let app = TestApp::with_config(
        &f,
        Config {
            widget: WidgetConfig {
                trust_proxy: true,
                ..WidgetConfig::default()
            },
            ..config("right-token")
        },
    );
    let bearer = |client: &str, token: &str| {
        Request::post("/api/v1/admin/reindex")
            .header("x-forwarded-for", client)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let guesser = "203.0.113.7";
    let mut statuses = Vec::new();
    for i in 0..1_000 {
        statuses.push(
            app.send(bearer(guesser, &format!("guess-{i}")))
                .await
                .status,
        );
    }
    let unauthorized = statuses
        .iter()
        .take_while(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        (3..=6).contains(&unauthorized),
        "a few wrong tokens are answered 401, then 429: {:?}",
        &statuses[..10]
    );
    // Of 1,000 guesses, all but the first few (and one a refill allows now and then) are 429.
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(limited >= 990, "{limited} of 1,000 guesses were 429");
    assert!(
        statuses
            .iter()
            .all(|s| matches!(*s, StatusCode::TOO_MANY_REQUESTS | StatusCode::UNAUTHORIZED)),
        "{statuses:?}"
    );
    let limited = app.send(bearer(guesser, "right-token")).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a guesser who finds the token learns nothing while limited"
    );
    let wait: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");

    // The login form counts the same wrong tokens.
    let req = Request::post("/admin/login")
        .header("x-forwarded-for", guesser)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("token=right-token&next=%2Fadmin"))
        .expect("request");
    let (status, headers, page) = app.send(req).await.parts();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(page.contains("try again in"), "{page}");

    // Another client is not held back by the guesser.
    let (status, _, body) = app
        .send(bearer("198.51.100.2", "right-token"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK, "{body}");
}
