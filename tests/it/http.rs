//! The help center over HTTP: through the router, and through a real socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use deflect::config::{Config, Secret};
use deflect::site::{LiveSite, Site};

use crate::app::{TestApp, form_post, json, raw_request};
use crate::fixture::{ArticleSrc, Fixture, today};

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival", "change_pin"]);
    f.synonyms("atm, cash machine\n");
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived")
            .set("last_reviewed", "2026-10-01")
            .summary("Delivery takes 3-5 working days.")
            .ticket_types(&["card_arrival"])
            .set("featured", "true")
            .steps("Wait five working days, then order a replacement card."),
    );
    f.article(
        "cards/pins/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .set("last_reviewed", "2026-10-01")
            .ticket_types(&["change_pin"])
            .steps("Use any cash machine that offers PIN services."),
    );
    f
}

#[tokio::test]
async fn search_api_follows_the_contract() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (status, headers, body) = app
        .get("/api/v1/search?q=card%20hasnt%20arived")
        .await
        .parts();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let v = json(&body);
    assert!(v["search_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(v["query"], "card hasnt arived");
    assert_eq!(v["total"], 1);
    let r = &v["results"][0];
    assert_eq!(r["slug"], "card-arrival");
    assert_eq!(r["url"], "/articles/card-arrival");
    assert_eq!(r["category"], "cards");
    for field in ["title", "summary", "snippet"] {
        assert!(r[field].is_string(), "{field} missing: {r}");
    }
    assert!(r["score"].as_f64().is_some_and(|s| s > 0.0));

    // Category filter includes subcategories.
    let (_, _, body) = app.get("/api/v1/search?q=pin&category=cards").await.parts();
    assert_eq!(json(&body)["results"][0]["slug"], "change-pin");
    let (_, _, body) = app
        .get("/api/v1/search?q=pin&category=transfers")
        .await
        .parts();
    assert_eq!(json(&body)["total"], 0);
}

#[tokio::test]
async fn autocomplete_completes_the_last_word_with_typos() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (status, _, body) = app.get("/api/v1/autocomplete?q=arriv").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["suggestions"][0]["slug"], "card-arrival");
    let (_, _, body) = app.get("/api/v1/autocomplete?q=cash%20machi").await.parts();
    assert_eq!(
        json(&body)["suggestions"][0]["slug"],
        "change-pin",
        "{body}"
    );
}

#[tokio::test]
async fn errors_use_the_envelope() {
    let f = help_center();
    let app = TestApp::new(&f);
    let long = "a".repeat(2000);
    let cases = [
        (
            format!("/api/v1/search?q={long}"),
            StatusCode::BAD_REQUEST,
            "query_too_long",
        ),
        (
            "/api/v1/search?q=x&limit=lots".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/search?q=x&limit=0".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/articles/nope".to_string(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/no-such-route".to_string(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (uri, status, code) in cases {
        let (got, _, body) = app.get(&uri).await.parts();
        assert_eq!(got, status, "{uri}: {body}");
        let v = json(&body);
        assert_eq!(v["error"]["code"], code, "{uri}: {body}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn user_text_is_escaped_on_every_page_and_in_json() {
    let f = help_center();
    let app = TestApp::new(&f);
    let attack = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E%20card";
    let (status, headers, page) = app.get(&format!("/search?q={attack}")).await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert(1)"), "raw script in page");
    assert!(
        page.contains("&lt;script&gt;alert(1)"),
        "escaped query shown"
    );
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

    let (_, _, body) = app.get(&format!("/api/v1/search?q={attack}")).await.parts();
    let v = json(&body);
    assert_eq!(v["query"], "\"><script>alert(1)</script> card");
    for r in v["results"].as_array().expect("results") {
        let snippet = r["snippet"].as_str().expect("snippet");
        assert!(!snippet.contains("<script"), "{snippet}");
    }
    let (_, _, page) = app.get(&format!("/no/such/page?q={attack}")).await.parts();
    assert!(!page.contains("<script>alert(1)"));
}

#[tokio::test]
async fn pages_render() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (status, _, home) = app.get("/").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("action=\"/search\""), "search box first");
    assert!(home.contains("/categories/cards"), "categories listed");
    assert!(
        home.contains("My card hasn&#x27;t arrived") || home.contains("My card hasn't arrived"),
        "featured article"
    );

    let (status, _, page) = app.get("/search?q=replacement").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<mark>replacement</mark>"),
        "highlighted snippet"
    );
    assert!(
        page.contains("/contact?subject=replacement"),
        "contact link carries the query"
    );

    let (_, _, page) = app.get("/search?q=arived").await.parts();
    assert!(page.contains("Showing results for"), "correction shown");

    let (status, _, page) = app.get("/articles/card-arrival").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<h2 id=\"quick-answer\">"),
        "rendered Markdown with anchors"
    );
    assert!(page.contains("application/ld+json"), "schema.org data");
    assert!(page.contains("Last reviewed"));

    let (status, _, page) = app.get("/categories/cards/pins").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("How do I change my PIN?"));

    let (status, _, page) = app.get("/articles/nope").await.parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("name=\"q\""), "404 offers search");

    let (_, _, xml) = app.get("/sitemap.xml").await.parts();
    assert!(xml.contains("<loc>/articles/change-pin</loc>"));
}

#[tokio::test]
async fn faq_articles_carry_faqpage_data() {
    let f = help_center();
    f.article(
        "faq.md",
        &ArticleSrc::new("Frequently asked questions")
            .set("last_reviewed", "2026-10-01")
            .steps(
                "1. **Can I pay by cheque?** No, we don't take </script> cheques.\n2. Plain item.",
            ),
    );
    let app = TestApp::new(&f);
    let (_, _, page) = app.get("/articles/faq").await.parts();
    let start = page.find("application/ld+json\">").expect("JSON-LD") + 21;
    let end = start + page[start..].find("</script>").expect("script ends");
    let data = json(&page[start..end]);
    let faq = &data["@graph"][1];
    assert_eq!(faq["@type"], "FAQPage");
    assert_eq!(faq["mainEntity"].as_array().map(Vec::len), Some(1));
    assert_eq!(faq["mainEntity"][0]["name"], "Can I pay by cheque?");
    assert_eq!(
        faq["mainEntity"][0]["acceptedAnswer"]["text"],
        "No, we don\u{2019}t take </script> cheques."
    );
    assert_eq!(data["@graph"][0]["@type"], "Article");

    let (_, _, page) = app.get("/articles/card-arrival").await.parts();
    assert!(!page.contains("FAQPage"), "only articles with questions");
}

#[tokio::test]
async fn admin_pages_need_a_login_that_sets_a_secure_cookie() {
    let f = help_center();
    let config = Config {
        admin_token: Some(Secret::new("s3cret-token")),
        ..Config::default()
    };
    let app = TestApp::with_sqlite(&f, config).await;

    let (status, headers, _) = app.get("/admin").await.parts();
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/admin/login?next=/admin");

    let login = |body: &str| form_post("/admin/login", body);
    let (status, headers, page) = app.send(login("token=wrong&next=%2Fadmin")).await.parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(page.contains("not right"));

    // Never an open redirect after login.
    let (status, headers, _) = app
        .send(login("token=s3cret-token&next=%2F%2Fevil.example"))
        .await
        .parts();
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/admin");
    // A control character in `next` cannot go into a Location header: the default instead.
    for next in ["%2Fadmin%0A", "%2Fadmin%0D%0AX-Evil%3A+1", "%2Fadmin%7F"] {
        let (status, headers, body) = app
            .send(login(&format!("token=s3cret-token&next={next}")))
            .await
            .parts();
        assert_eq!(status, StatusCode::SEE_OTHER, "{next}: {body}");
        assert_eq!(headers[header::LOCATION], "/admin", "{next}");
    }
    let cookie = headers[header::SET_COOKIE].to_str().expect("ascii");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let pair = cookie.split(';').next().expect("name=value");

    assert_ne!(
        pair, "deflect_admin=s3cret-token",
        "the cookie holds a session id, never the token"
    );
    let with_cookie = |uri: &str, method: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "help.example")
            .header(header::ORIGIN, "https://help.example")
            .header(header::COOKIE, format!("deflect_session=abc; {pair}"))
            .body(Body::empty())
            .expect("request")
    };
    let (status, _, page) = app.send(with_cookie("/admin", "GET")).await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Log out"));
    let (status, _, _) = app
        .send(with_cookie("/api/v1/admin/reindex", "POST"))
        .await
        .parts();
    assert_eq!(
        status,
        StatusCode::OK,
        "the admin API accepts the login cookie"
    );

    // Neither a guess nor the token itself opens the pages: only a session the server made.
    for forged in ["deflect_admin=s3cret-tokeN", "deflect_admin=s3cret-token"] {
        let forged = Request::get("/admin")
            .header(header::COOKIE, forged)
            .body(Body::empty())
            .expect("request");
        let (status, _, _) = app.send(forged).await.parts();
        assert_eq!(status, StatusCode::SEE_OTHER);
    }

    // Without a configured token, admin is off and says how to turn it on.
    let off = TestApp::new(&f);
    let (status, _, page) = off.get("/admin/login").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("DEFLECT_ADMIN_TOKEN"));
    let (status, _, _) = off.send(login("token=&next=%2Fadmin")).await.parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reindex_needs_the_token_and_swaps_the_index() {
    let f = help_center();
    let config = Config {
        admin_token: Some(Secret::new("s3cret")),
        ..Config::default()
    };
    let app = TestApp::with_config(&f, config);
    let reindex = |token: Option<&str>| {
        let mut req = Request::post("/api/v1/admin/reindex");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        req.body(Body::empty()).expect("request")
    };
    let (status, _, body) = app.send(reindex(None)).await.parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["error"]["code"], "unauthorized");
    let (status, _, _) = app.send(reindex(Some("wrong"))).await.parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    f.article(
        "cards/zebra.md",
        &ArticleSrc::new("Can I pay at the zebra park?"),
    );
    let (_, _, body) = app.get("/api/v1/search?q=zebra").await.parts();
    assert_eq!(json(&body)["total"], 0, "not live before reindex");
    let (status, _, body) = app.send(reindex(Some("s3cret"))).await.parts();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["reindexed"]["articles"], 3);
    let (_, _, body) = app.get("/api/v1/search?q=zebra").await.parts();
    assert_eq!(json(&body)["results"][0]["slug"], "zebra");

    // A broken edit keeps the last good version.
    f.file("cards/zebra.md", "---\ntitle: [broken\n---\n");
    let (_, _, body) = app.send(reindex(Some("s3cret"))).await.parts();
    assert_eq!(
        json(&body)["reindexed"]["kept_last_good"][0],
        "zebra",
        "{body}"
    );
    let (_, _, body) = app.get("/api/v1/search?q=zebra").await.parts();
    assert_eq!(json(&body)["results"][0]["slug"], "zebra");

    let (_, _, metrics) = app.get("/metrics").await.parts();
    assert!(
        metrics.contains(
            "deflect_http_requests_total{method=\"GET\",route=\"/api/v1/search\",status=\"200\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("deflect_articles_indexed 3"), "{metrics}");
}

#[tokio::test]
async fn openapi_describes_the_routes() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (_, _, body) = app.get("/api/v1/openapi.json").await.parts();
    let v = json(&body);
    for path in [
        "/api/v1/search",
        "/api/v1/autocomplete",
        "/api/v1/articles/{slug}",
        "/healthz",
    ] {
        assert!(v["paths"][path].is_object(), "{path} missing");
    }
    assert!(
        v["components"]["schemas"]["SearchResponse"]["properties"]["corrected_query"].is_object()
    );
}

#[test]
fn content_changes_go_live_without_a_restart() {
    let f = help_center();
    let (site, _) = Site::load(f.root(), today(), None).expect("loads");
    let live = Arc::new(LiveSite::new(f.root().to_path_buf(), site));
    let _watcher = deflect::site::watch(Arc::clone(&live), today, |_| {}).expect("watcher starts");
    let live_within_5s = |query: &str, expected: usize, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = live
                .get()
                .engine
                .search(&deflect::search::SearchRequest::new(query))
                .total;
            if found == expected {
                break;
            }
            assert!(Instant::now() < deadline, "{what} not live within 5 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // A new file, an edit, a new folder (the watcher's reload then walks), a deletion.
    f.article("cards/otter.md", &ArticleSrc::new("Otter insurance"));
    live_within_5s("otter", 1, "a new article");
    f.article("cards/otter.md", &ArticleSrc::new("Beaver insurance"));
    live_within_5s("beaver", 1, "an edit");
    live_within_5s("otter", 0, "an edit's old title gone");
    f.article("faq/pets/heron.md", &ArticleSrc::new("Heron insurance"));
    live_within_5s("heron", 1, "an article in a new folder");
    std::fs::remove_file(f.root().join("cards/otter.md")).expect("delete");
    live_within_5s("beaver", 0, "a deletion");
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down_gracefully() {
    let f = help_center();
    let app = TestApp::new(&f);
    let server = app.serve().await;
    let addr = server.addr;
    let response =
        tokio::task::spawn_blocking(move || raw_request(addr, "GET", "/api/v1/search?q=pin", None))
            .await
            .expect("client");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"slug\":\"change-pin\""), "{response}");
    server
        .stop()
        .await
        .expect("the server shuts down gracefully");
}

/// Ids and times vary per run; snapshots compare everything else.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\"search_id\": \"") {
        let (head, tail) = rest.split_at(i + "\"search_id\": \"".len());
        out.push_str(head);
        out.push_str("[search_id]");
        rest = tail.find('"').map_or("", |j| &tail[j..]);
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn rendered_pages_and_json_match_their_snapshots() {
    let f = help_center();
    let app = TestApp::new(&f);
    for (name, uri) in [
        ("home", "/"),
        ("search_page", "/search?q=replacment%20card"),
        ("article_page", "/articles/card-arrival"),
        ("category_page", "/categories/cards"),
        ("not_found_page", "/nowhere"),
    ] {
        let (_, _, body) = app.get(uri).await.parts();
        insta::assert_snapshot!(name, body);
    }
    let (_, _, body) = app
        .get("/api/v1/search?q=cash%20machine%20pin")
        .await
        .parts();
    let pretty = serde_json::to_string_pretty(&json(&body)).expect("json");
    insta::assert_snapshot!("search_api", redact(&pretty));
}

/// Search events are written in the background, in batches: wait up to 5 s for `n` of them.
async fn wait_for_searches(store: &deflect::store::Store, n: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.search_count().await.expect("count") < n {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn votes_are_committed_before_201_and_replace_earlier_ones() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let uri = "/api/v1/articles/card-arrival/votes";
    let (status, _, body) = app
        .post_json_text(
            uri,
            r#"{"helpful": false, "reason": "outdated", "session_id": "s1"}"#,
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(json(&body)["session_id"], "s1");
    let store = app.store();
    let h = store.helpfulness().await.expect("read");
    assert_eq!((h[0].yes, h[0].no), (0, 1), "stored when 201 returned");
    let (status, _, _) = app
        .post_json_text(uri, r#"{"helpful": true, "session_id": "s1"}"#)
        .await
        .parts();
    assert_eq!(status, StatusCode::CREATED);
    let h = store.helpfulness().await.expect("read");
    assert_eq!(
        (h[0].yes, h[0].no),
        (1, 0),
        "the later vote replaced the earlier"
    );

    let cases = [
        (
            "/api/v1/articles/nope/votes",
            r#"{"helpful": true}"#,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            uri,
            r#"{"helpful": tru"#,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            uri,
            r#"{"helpful": false, "reason": "meh"}"#,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            uri,
            r#"{"helpfull": true}"#,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for (uri, body, status, code) in cases {
        let (got, _, text) = app.post_json_text(uri, body).await.parts();
        assert_eq!(got, status, "{body}: {text}");
        assert_eq!(json(&text)["error"]["code"], code, "{body}: {text}");
    }
    let huge = format!(
        r#"{{"helpful": false, "comment": "{}"}}"#,
        "x".repeat(40_000)
    );
    let (got, _, text) = app.post_json_text(uri, &huge).await.parts();
    assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert_eq!(json(&text)["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn without_a_database_a_vote_is_refused_not_falsely_confirmed() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (status, _, body) = app
        .post_json_text(
            "/api/v1/articles/card-arrival/votes",
            r#"{"helpful": true}"#,
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(json(&body)["error"]["code"], "unavailable");
}

#[tokio::test]
async fn clicks_and_searches_are_recorded() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let (_, _, body) = app.get("/api/v1/search?q=pin&session_id=s9").await.parts();
    let search_id = json(&body)["search_id"].as_str().expect("id").to_string();
    let click = format!("/api/v1/search/{search_id}/clicks");
    let (status, _, _) = app
        .post_json_text(&click, r#"{"slug": "change-pin", "position": 1}"#)
        .await
        .parts();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = app
        .post_json_text(&click, r#"{"slug": "nope"}"#)
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
    for position in ["0", "-3"] {
        let (status, _, body) = app
            .post_json_text(
                &click,
                &format!(r#"{{"slug": "change-pin", "position": {position}}}"#),
            )
            .await
            .parts();
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "position {position}: {body}"
        );
        assert!(body.contains("1-based"), "{body}");
    }
    // A search id nobody issued is not clicked.
    let (status, _, body) = app
        .post_json_text(
            "/api/v1/search/s1234abcd/clicks",
            r#"{"slug": "change-pin", "position": 1}"#,
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no search `s1234abcd`"), "{body}");
    let store = app.store();
    assert_eq!(store.click_count(&search_id).await.expect("clicks"), 1);
    // Search events are written in the background, in batches.
    wait_for_searches(store, 1, "search event not written within 5 s").await;
    // Another replica on the same database knows the search from the store.
    let replica = TestApp::with_store(&f, Config::default(), store.clone());
    let (status, _, body) = replica
        .post_json_text(&click, r#"{"slug": "card-arrival", "position": 2}"#)
        .await
        .parts();
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn the_helpful_form_works_without_javascript() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let (_, _, page) = app.get("/articles/card-arrival").await.parts();
    assert!(page.contains("Was this helpful?"));
    let (status, headers, _) = app
        .post_form("/articles/card-arrival/feedback", "helpful=false")
        .await
        .parts();
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/articles/card-arrival?feedback=no#feedback"
    );
    let cookie = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(
        cookie.starts_with("deflect_session=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let (_, _, page) = app.get("/articles/card-arrival?feedback=no").await.parts();
    assert!(
        page.contains("What was wrong?") && page.contains("value=\"outdated\""),
        "asks for a reason"
    );
    assert!(
        page.contains("/contact?article=card-arrival"),
        "offers the ticket path"
    );
    let h = app.store().helpfulness().await.expect("read");
    assert_eq!((h[0].slug.as_str(), h[0].no), ("card-arrival", 1));
}

#[tokio::test]
async fn page_searches_are_recorded_too() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let req = Request::get("/search?q=pin&session_id=forged")
        .header(header::COOKIE, "deflect_session=abc123")
        .body(Body::empty())
        .expect("request");
    let (status, _, _) = app.send(req).await.parts();
    assert_eq!(status, StatusCode::OK);
    let store = app.store();
    wait_for_searches(store, 1, "page search not recorded within 5 s").await;
}

/// Invented HTTP methods all count under one `other` label: a label each would grow
/// `/metrics` (and the process) without bound.
#[tokio::test]
async fn metrics_label_invented_methods_as_other() {
    let f = help_center();
    let app = TestApp::new(&f);
    for i in 0..50 {
        let method = axum::http::Method::from_bytes(format!("BREW{i}").as_bytes()).expect("method");
        let req = Request::builder()
            .method(method)
            .uri("/healthz")
            .body(Body::empty())
            .expect("request");
        app.send(req).await;
    }
    let (_, body) = app.get("/metrics").await.status_body();
    assert!(!body.contains("BREW"), "a label per invented method");
    assert!(body.contains(r#"method="other""#), "{body}");
}

/// Readiness tells the truth: 503 with the reason while the database is gone, while liveness
/// stays green and search keeps answering.
#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable() {
    let f = help_center();
    let (db, store) = crate::postgres::PgDatabase::create().await;
    let app = TestApp::with_store(&f, Config::default(), store.clone());
    let (status, body) = app.get("/readyz").await.status_body();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["status"], "ready");

    db.drop_now(store).await;
    let (status, body) = app.get("/readyz").await.status_body();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "unavailable");
    assert!(
        health["reason"]
            .as_str()
            .is_some_and(|r| r.contains("postgres database does not answer")),
        "{body}"
    );
    assert!(
        !body.contains("postgres://"),
        "no connection string in {body}"
    );
    let (status, _) = app.get("/healthz").await.status_body();
    assert_eq!(status, StatusCode::OK, "liveness stays green");
    let (status, body) = app.get("/api/v1/search?q=pin").await.status_body();
    assert_eq!(status, StatusCode::OK, "search is still served: {body}");
}

/// A NUL character in one visitor's text (PostgreSQL refuses it in text columns) costs no one
/// else's analytics, and a vote comment holding one is stored as on SQLite.
#[tokio::test]
async fn a_nul_character_loses_no_ones_events_on_postgres() {
    let f = help_center();
    let (db, store) = crate::postgres::PgDatabase::create().await;
    let app = TestApp::with_store(&f, Config::default(), store.clone());
    let (status, body) = app
        .get("/api/v1/search?q=card%00x&session_id=nul1")
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .get("/api/v1/search?q=pin&session_id=other")
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_json_text(
            "/api/v1/suggest",
            r#"{"message": "my card\u0000 is lost", "session_id": "nul2"}"#,
        )
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_for_searches(
        &store,
        2,
        "both searches stored, the NUL one and the other visitor's",
    )
    .await;
    let (status, body) = app
        .post_json_text(
            "/api/v1/articles/card-arrival/votes",
            r#"{"helpful": false, "comment": "bad\u0000 answer", "session_id": "nul3"}"#,
        )
        .await
        .status_body();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let helpfulness = store.helpfulness().await.expect("votes");
    assert!(
        helpfulness
            .iter()
            .any(|h| h.slug == "card-arrival" && h.no == 1),
        "{helpfulness:?}"
    );
    db.drop_now(store).await;
}

#[tokio::test]
async fn an_article_body_is_rendered_from_its_file_and_a_gone_file_is_a_notice() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (status, _, page) = app.get("/articles/change-pin").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Use any cash machine"), "{page}");
    let (_, _, api) = app.get("/api/v1/articles/change-pin").await.parts_json();
    assert!(
        api["html"]
            .as_str()
            .is_some_and(|h| h.contains("<p>Use any cash machine")),
        "{api}"
    );

    // The file goes before the reload catches up: a notice, never an error.
    std::fs::remove_file(f.root().join("cards/pins/change-pin.md")).expect("delete");
    let (status, _, page) = app.get("/articles/change-pin").await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("being updated"), "{page}");
    let (status, _, api) = app.get("/api/v1/articles/change-pin").await.parts_json();
    assert_eq!(status, StatusCode::OK);
    assert!(
        api["html"]
            .as_str()
            .is_some_and(|h| h.contains("being updated"))
    );
}
