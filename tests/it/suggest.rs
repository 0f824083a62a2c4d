//! The suggestion endpoint through the router: answer, suggest, hand-off, small talk, errors,
//! CORS for the widget's origins, rate limits, and the reply recorded in the session's trail.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use deflect::config::Config;
use deflect::config::WidgetConfig;
use deflect::store::Store;
use deflect::suggest::SuggestConfig;
use serde_json::{Value, json};

use crate::app::{TestApp, json_post, raw_request};
use crate::fixture::{ArticleSrc, Fixture};

pub fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&[
        "card_arrival",
        "change_pin",
        "lost_or_stolen_card",
        "top_up_failed",
        "exchange_rate",
    ]);
    f.synonyms("atm, cash machine\n");
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived yet")
            .summary("How long delivery takes and what to do if your card is late.")
            .ticket_types(&["card_arrival"])
            .set("keywords", "[card not delivered, where is my card, card delivery]")
            .set("tags", "[delivery]")
            .intro("Cards are posted the day after you order them.")
            .steps("Wait five working days, then order a replacement card in the app.")
            .quick_answer("Cards arrive within 3-5 working days. If yours has not arrived after a week, order a replacement in the app."),
    );
    f.article(
        "cards/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .summary("Change your card PIN at a cash machine.")
            .ticket_types(&["change_pin"])
            .steps("Use any cash machine that offers PIN services."),
    );
    f.article(
        "cards/lost-card.md",
        &ArticleSrc::new("I lost my card or it was stolen")
            .summary("Freeze your card and order a new one.")
            .ticket_types(&["lost_or_stolen_card"])
            .set("keywords", "[stolen card, missing card]")
            .steps("Open the app, tap your card and choose Freeze, then order a new card."),
    );
    f.article(
        "top-ups/top-up-failed.md",
        &ArticleSrc::new("My top-up failed")
            .summary("Why a card top-up can fail and what to try.")
            .ticket_types(&["top_up_failed"])
            .set("tags", "[top-up]")
            .steps("Check your card details and your bank's limits, then try again."),
    );
    f.article(
        "currencies/exchange-rate.md",
        &ArticleSrc::new("Which exchange rate do you use?")
            .summary("We use the interbank rate plus a small fee on weekends.")
            .ticket_types(&["exchange_rate"])
            .steps("The app shows the rate before you exchange money."),
    );
    f
}

fn post(body: &Value) -> Request<Body> {
    json_post("/api/v1/suggest", &body.to_string())
}

async fn ask(app: &TestApp, message: &str) -> Value {
    let (status, _, v) = app
        .send(post(&json!({ "message": message })))
        .await
        .parts_json();
    assert_eq!(status, StatusCode::OK, "{message}: {v}");
    v
}

#[tokio::test]
async fn a_clear_question_gets_the_quick_answer() {
    let f = help_center();
    let app = TestApp::new(&f);
    let v = ask(&app, "my card hasn't arrived yet, where is it?").await;
    assert_eq!(v["action"], "answer", "{v:#}");
    let c = v["confidence"].as_f64().expect("confidence");
    assert!(
        c >= SuggestConfig::default().answer_threshold && c <= 1.0,
        "{c}"
    );
    let a = &v["answer"];
    assert_eq!(a["slug"], "card-arrival");
    assert_eq!(a["url"], "/articles/card-arrival");
    assert_eq!(a["title"], "My card hasn't arrived yet");
    assert!(
        a["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Cards arrive within 3-5 working days.")),
        "{a}"
    );
    assert!(
        a["html"]
            .as_str()
            .is_some_and(|h| h.starts_with("<p>Cards arrive"))
    );
    assert_eq!(v["articles"][0]["slug"], "card-arrival");
    assert!(v["articles"][0]["summary"].is_string());
    assert!(v["handoff"].is_null());
    assert!(v["session_id"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test]
async fn small_talk_and_foreign_questions_are_handed_off_without_an_article() {
    let f = help_center();
    let app = TestApp::new(&f);
    for (message, reason) in [
        ("hi", "greeting"),
        ("Hello there!", "greeting"),
        ("thanks!", "thanks"),
        ("are you a robot?", "about_the_bot"),
        ("asdfgh", "gibberish"),
        ("what's the weather in Paris", "no_match"),
    ] {
        let v = ask(&app, message).await;
        assert_eq!(v["action"], "handoff", "{message}: {v:#}");
        assert_eq!(v["handoff"]["reason"], reason, "{message}: {v:#}");
        assert!(v["answer"].is_null(), "{message}");
        assert_eq!(v["articles"], json!([]), "{message}");
        assert!(v["reply"].as_str().is_some_and(|r| !r.is_empty()));
        let url = v["handoff"]["ticket_url"].as_str().expect("ticket_url");
        assert!(url.starts_with("/contact?subject="), "{url}");
    }
    let v = ask(&app, "what's the weather in Paris").await;
    assert_eq!(
        v["handoff"]["ticket_url"],
        "/contact?subject=what%27s+the+weather+in+Paris&description=what%27s+the+weather+in+Paris"
    );
}

#[tokio::test]
async fn an_ambiguous_question_gets_a_few_articles() {
    let f = help_center();
    let app = TestApp::new(&f);
    let v = ask(&app, "card").await;
    assert_eq!(v["action"], "suggest", "{v:#}");
    assert!(v["answer"].is_null());
    let slugs: Vec<&str> = v["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .filter_map(|a| a["slug"].as_str())
        .collect();
    assert!(
        slugs.len() >= 2 && slugs.len() <= 3,
        "two or three articles: {slugs:?}"
    );
    let c = v["confidence"].as_f64().expect("confidence");
    assert!(c < SuggestConfig::default().answer_threshold, "{c}");
}

#[tokio::test]
async fn tiers_can_skip_the_bot_and_the_page_biases_results() {
    let f = help_center();
    let config = Config {
        suggest: SuggestConfig {
            handoff_tiers: vec!["enterprise".into()],
            ..SuggestConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::with_config(&f, config);
    let body = json!({"message": "my card hasn't arrived yet", "context": {"customer_tier": "Enterprise"}});
    let (_, _, v) = app.send(post(&body)).await.parts_json();
    assert_eq!(v["action"], "handoff", "{v:#}");
    assert_eq!(v["handoff"]["reason"], "customer_tier");

    // "card failed": the top-up article and others match; on the top-up page it comes first.
    let plain = ask(&app, "my card failed").await;
    let body = json!({"message": "my card failed", "context": {"page": "/app/top-up/history"}});
    let (_, _, on_page) = app.send(post(&body)).await.parts_json();
    assert_eq!(
        on_page["articles"][0]["slug"], "top-up-failed",
        "{on_page:#}"
    );
    let first_plain = plain["articles"][0]["slug"].clone();
    assert!(
        on_page["confidence"].as_f64() >= plain["confidence"].as_f64()
            || first_plain != "top-up-failed",
        "the page only helps: {plain:#} {on_page:#}"
    );
}

#[tokio::test]
async fn bad_requests_get_the_envelope() {
    let f = help_center();
    let app = TestApp::new(&f);
    let long = "a".repeat(2000);
    for (body, status, code) in [
        (
            json!({"message": "   "}).to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"message": long}).to_string(),
            StatusCode::BAD_REQUEST,
            "query_too_long",
        ),
        (
            "{\"message\": ".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"msg": "hi"}).to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"message": "hi", "session_id": ""}).to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"message": "hi", "context": {"page": "x".repeat(3000)}}).to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"message": "x".repeat(20_000)}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
    ] {
        let (s, _, v) = app
            .post_json_text("/api/v1/suggest", &body)
            .await
            .parts_json();
        assert_eq!(s, status, "{}: {v}", &body[..body.len().min(60)]);
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(v["error"]["message"].is_string());
    }
}

fn with_origin(mut req: Request<Body>, origin: &str) -> Request<Body> {
    req.headers_mut()
        .insert(header::ORIGIN, origin.parse().expect("origin"));
    req
}

#[tokio::test]
async fn cors_headers_only_for_allowed_origins() {
    let f = help_center();
    let config = Config {
        widget: WidgetConfig {
            allowed_origins: vec!["https://app.example.com".into()],
            ..WidgetConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::with_config(&f, config);
    let preflight = |origin: &str, uri: &str| {
        with_origin(
            Request::builder()
                .method(Method::OPTIONS)
                .uri(uri)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .body(Body::empty())
                .expect("request"),
            origin,
        )
    };
    for uri in [
        "/api/v1/suggest",
        "/api/v1/search",
        "/api/v1/autocomplete",
        "/api/v1/articles/card-arrival/votes",
    ] {
        let (s, h, _) = app
            .send(preflight("https://app.example.com", uri))
            .await
            .parts_json();
        assert_eq!(s, StatusCode::NO_CONTENT, "{uri}");
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        assert!(
            h[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .expect("ascii")
                .contains("POST")
        );
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_HEADERS], "content-type");
        let (s, h, v) = app
            .send(preflight("https://evil.example", uri))
            .await
            .parts_json();
        assert_eq!(s, StatusCode::FORBIDDEN, "{uri}: {v}");
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }
    let (s, h, _) = app
        .send(with_origin(
            post(&json!({"message": "card"})),
            "https://app.example.com",
        ))
        .await
        .parts_json();
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    assert_eq!(h[header::VARY], "Origin");
    let (s, h, _) = app
        .send(with_origin(
            post(&json!({"message": "card"})),
            "https://evil.example",
        ))
        .await
        .parts_json();
    assert_eq!(
        s,
        StatusCode::OK,
        "the browser, not the server, enforces CORS"
    );
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // Admin routes are never cross-origin.
    let req = with_origin(
        Request::post("/api/v1/admin/reindex")
            .body(Body::empty())
            .expect("request"),
        "https://app.example.com",
    );
    let (_, h, _) = app.send(req).await.parts_json();
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn too_many_questions_from_one_session_get_429_with_retry_after() {
    let f = help_center();
    let config = Config {
        widget: WidgetConfig {
            session_per_minute: 6,
            session_burst: 3,
            ..WidgetConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::with_config(&f, config);
    let body = json!({"message": "card", "session_id": "s1"});
    for _ in 0..3 {
        let (s, _, _) = app.send(post(&body)).await.parts_json();
        assert_eq!(s, StatusCode::OK);
    }
    let (s, h, v) = app.send(post(&body)).await.parts_json();
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited");
    let retry: u64 = h[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(v["error"]["retry_after"], retry);
    let other = json!({"message": "card", "session_id": "s2"});
    let (s, _, _) = app.send(post(&other)).await.parts_json();
    assert_eq!(s, StatusCode::OK, "other sessions are not affected");
}

#[tokio::test]
async fn per_ip_limit_on_a_real_socket() {
    let f = help_center();
    let config = Config {
        widget: WidgetConfig {
            ip_per_minute: 2,
            ip_burst: 2,
            ..WidgetConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::with_config(&f, config);
    let server = app.serve().await;
    let addr = server.addr;
    let statuses = tokio::task::spawn_blocking(move || {
        (0..3)
            .map(|i| {
                // A new session each time: only the address connects them.
                let body = json!({"message": "card", "session_id": format!("ip{i}")}).to_string();
                raw_request(addr, "POST", "/api/v1/suggest", Some(&body))
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("client");
    let _ = server.stop().await;
    assert!(statuses[0].starts_with("HTTP/1.1 200"), "{}", statuses[0]);
    assert!(statuses[1].starts_with("HTTP/1.1 200"), "{}", statuses[1]);
    assert!(statuses[2].starts_with("HTTP/1.1 429"), "{}", statuses[2]);
    assert!(
        statuses[2].to_ascii_lowercase().contains("retry-after: "),
        "{}",
        statuses[2]
    );
}

#[tokio::test]
async fn widget_js_is_served_as_cacheable_javascript() {
    let f = help_center();
    let app = TestApp::new(&f);
    let res = app.get("/widget.js").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/javascript")
    );
    assert!(
        res.headers[header::CACHE_CONTROL]
            .to_str()
            .expect("ascii")
            .contains("max-age")
    );
    let body = res.body;
    assert!(body.len() < 20 * 1024, "{} bytes", body.len());
    assert!(body.contains("/api/v1/suggest"));
}

#[tokio::test]
async fn each_reply_is_recorded_in_the_session_trail() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    for m in ["my card hasn't arrived yet", "hi"] {
        let (s, _, _) = app
            .send(post(&json!({"message": m, "session_id": "trail1"})))
            .await
            .parts_json();
        assert_eq!(s, StatusCode::OK);
    }
    let Store::Sqlite(pool) = app.store() else {
        panic!("open_dir gives SQLite")
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let rows: Vec<(String, String, f64, Option<String>)> = loop {
        let rows = sqlx::query_as(
            "SELECT message, action, confidence, slug FROM suggestions WHERE session_id = $1 ORDER BY created_at",
        )
        .bind("trail1")
        .fetch_all(pool)
        .await
        .expect("query");
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "my card hasn't arrived yet");
    assert_eq!(rows[0].1, "answer");
    assert_eq!(rows[0].3.as_deref(), Some("card-arrival"));
    assert_eq!((rows[1].1.as_str(), rows[1].2), ("handoff", 0.0));
}
