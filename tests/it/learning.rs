//! Learning from traffic, end to end through the API: clicks and votes from distinct clients
//! change the first result after a retrain (and `learned=false` still answers from the words
//! alone), one client's many sessions change nothing, agents' ticket types teach triage, the
//! admin endpoints need the token, and replicas sharing one PostgreSQL learn the same model.

use std::time::{Duration, Instant};

use deflect::config::Config;
use deflect::store::Store;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::fixture::{ArticleSrc, Fixture};

const TOKEN: &str = "learning-test-token";
/// A wording both card articles match, the words alone preferring one.
const QUESTION: &str = "my new card is still not here";

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival", "card_delivery_estimate", "exchange_rate"]);
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My new card is not here yet")
            .summary("What to do when your card has not arrived.")
            .ticket_types(&["card_arrival"])
            .steps("Order a replacement card if it is not here after a week."),
    );
    f.article(
        "cards/card-delivery-estimate.md",
        &ArticleSrc::new("How long does card delivery take?")
            .summary("Cards are delivered in 3 to 5 working days.")
            .ticket_types(&["card_delivery_estimate"])
            .steps("Delivery of a new card takes 3 to 5 working days."),
    );
    f.article(
        "currencies/exchange-rates.md",
        &ArticleSrc::new("Which exchange rate do you use?")
            .summary("We use the interbank rate.")
            .ticket_types(&["exchange_rate"])
            .steps("The rate is shown before you confirm an exchange."),
    );
    f
}

fn config() -> Config {
    let mut c = Config {
        admin_token: Some(deflect::secret::Secret::new(TOKEN)),
        ..Config::default()
    };
    c.widget.trust_proxy = true;
    c.widget.session_per_minute = 0;
    c.widget.ip_per_minute = 0;
    c.learning.ab_control_share = 0.0;
    c
}

fn enc(s: &str) -> String {
    s.replace(' ', "+")
}

/// The slugs a search returns, as a visitor from `client` (an address) in `session`.
async fn search(app: &TestApp, q: &str, extra: &str, client: &str) -> (String, Vec<String>) {
    let r = app
        .get_with(
            &format!("/api/v1/search?q={}{extra}", enc(q)),
            &[("x-forwarded-for", client)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let slugs = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|h| h["slug"].as_str().expect("slug").to_string())
        .collect();
    (v["search_id"].as_str().expect("id").to_string(), slugs)
}

/// A visitor's session: searches, clicks `slug` where it is shown, votes it helpful.
async fn visit(app: &TestApp, q: &str, slug: &str, session: &str, client: &str) {
    let (id, slugs) = search(app, q, &format!("&session_id={session}"), client).await;
    let position = slugs.iter().position(|s| s == slug).expect("shown") + 1;
    let r = app
        .post_json(
            &format!("/api/v1/search/{id}/clicks"),
            &json!({"slug": slug, "position": position, "session_id": session}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app
        .post_json(
            &format!("/api/v1/articles/{slug}/votes"),
            &json!({"helpful": true, "session_id": session, "search_id": id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn retrain(app: &TestApp) -> Value {
    let r = app
        .admin("POST", "/api/v1/admin/learning/retrain", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Retrains until the evidence of `sessions` visitor sessions is in (searches are written in
/// batches off the request path).
async fn retrain_with(app: &TestApp, sessions: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = retrain(app).await;
        if stats["sessions"].as_u64().unwrap_or(0) >= sessions {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "searches were not recorded: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The article the words alone put second: what the visitors below will prefer.
async fn runner_up(app: &TestApp) -> (String, String) {
    let (_, cold) = search(app, QUESTION, "&learned=false", "10.200.0.1").await;
    assert!(cold.len() >= 2, "both card articles match: {cold:?}");
    (cold[0].clone(), cold[1].clone())
}

#[tokio::test]
async fn distinct_clients_teach_search_and_learned_false_answers_from_words_alone() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, config()).await;
    // Cold start: nothing learned, the same answer with and without learning.
    let (first, second) = runner_up(&app).await;
    let (_, warm) = search(&app, QUESTION, "", "10.200.0.2").await;
    assert_eq!(
        warm[0], first,
        "an empty store answers exactly as the words do"
    );
    let stats = retrain(&app).await;
    assert_eq!(stats["examples"], 0, "{stats}");

    // Two clients are below the default support of three: nothing changes yet.
    for i in 0..2 {
        visit(
            &app,
            QUESTION,
            &second,
            &format!("s{i}"),
            &format!("10.1.0.{i}"),
        )
        .await;
    }
    retrain_with(&app, 2).await;
    let (_, slugs) = search(&app, QUESTION, "", "10.200.0.3").await;
    assert_eq!(slugs[0], first, "two clients are not enough support");

    // A third, fourth and fifth client: the association counts.
    for i in 2..5 {
        visit(
            &app,
            QUESTION,
            &second,
            &format!("s{i}"),
            &format!("10.1.0.{i}"),
        )
        .await;
    }
    let stats = retrain_with(&app, 5).await;
    assert!(stats["examples"].as_u64().unwrap_or(0) >= 5, "{stats}");
    assert!(stats["sessions"].as_u64().unwrap_or(0) >= 5, "{stats}");
    assert!(stats["articles"].as_u64().unwrap_or(0) >= 1, "{stats}");
    assert!(stats.get("took_ms").is_some(), "{stats}");
    let (_, slugs) = search(&app, QUESTION, "", "10.200.0.4").await;
    assert_eq!(slugs[0], second, "what visitors chose now comes first");
    // An unseen wording with a typo shares the evidence.
    let (_, slugs) = search(&app, "my new crad is still not here", "", "10.200.0.5").await;
    assert_eq!(slugs.first(), Some(&second), "{slugs:?}");
    // `learned=false` answers as if nothing were learned.
    let (_, slugs) = search(&app, QUESTION, "&learned=false", "10.200.0.6").await;
    assert_eq!(slugs[0], first);
    // The suggestion endpoint hears it too, and can be asked without it.
    let r = app
        .post_json("/api/v1/suggest", &json!({"message": QUESTION}))
        .await;
    assert_eq!(
        r.json()["articles"][0]["slug"],
        second.as_str(),
        "{}",
        r.body
    );
    let r = app
        .post_json(
            "/api/v1/suggest",
            &json!({"message": QUESTION, "learned": false}),
        )
        .await;
    assert_eq!(
        r.json()["articles"][0]["slug"],
        first.as_str(),
        "{}",
        r.body
    );

    // The state endpoint reports the model and the A/B groups.
    let r = app.admin("GET", "/api/v1/admin/learning", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let state = r.json();
    assert_eq!(state["model"]["examples"], stats["examples"]);
    assert!(
        state["ab"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g["learned"] == false)),
        "learned=false searches form the control group: {state}"
    );

    // A KB manager rejects the wording for that article: it is unlearned.
    let r = app
        .admin(
            "POST",
            "/api/v1/admin/learning/rejections",
            Some(&json!({"slug": second, "wording": QUESTION})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, slugs) = search(&app, QUESTION, "", "10.200.0.7").await;
    assert_eq!(slugs[0], first, "a rejected wording is not learned");
    let r = app
        .admin(
            "POST",
            "/api/v1/admin/learning/rejections",
            Some(&json!({"slug": "no-such-article", "wording": QUESTION})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("\"field\":\"slug\""), "{}", r.body);
}

#[tokio::test]
async fn one_client_hammering_moves_nothing() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, config()).await;
    let (first, second) = runner_up(&app).await;
    // One client, forty sessions, every one clicking and praising the runner-up.
    for i in 0..40 {
        visit(&app, QUESTION, &second, &format!("p{i}"), "10.66.6.6").await;
    }
    let stats = retrain_with(&app, 40).await;
    let (_, slugs) = search(&app, QUESTION, "", "10.200.0.9").await;
    assert_eq!(slugs[0], first, "one client cannot move rankings: {stats}");
    // One honest client on top is still not support of three.
    visit(&app, QUESTION, &second, "honest", "10.7.7.7").await;
    retrain_with(&app, 41).await;
    let (_, slugs) = search(&app, QUESTION, "", "10.200.0.10").await;
    assert_eq!(slugs[0], first);
}

#[tokio::test]
async fn admin_learning_needs_the_token() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, config()).await;
    for (method, uri) in [
        ("POST", "/api/v1/admin/learning/retrain"),
        ("GET", "/api/v1/admin/learning"),
        ("GET", "/api/v1/admin/learning/phrasings"),
    ] {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::empty())
            .expect("request");
        let r = app.send(req).await;
        assert_eq!(r.status, 401, "{method} {uri}: {}", r.body);
    }
}

#[tokio::test]
async fn agents_correct_ticket_types_and_triage_learns_them() {
    let f = help_center();
    let app = TestApp::with_sqlite(&f, config()).await;
    let file = |i: usize| {
        json!({
            "email": format!("c{i}@example.com"),
            "subject": "Wire from abroad",
            "description": "The amount I received from abroad is less than what was sent",
            "session_id": format!("t{i}"),
        })
    };
    let r = app.post_json("/api/v1/tickets", &file(0)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = r.json();
    let id = t["id"].as_str().expect("id").to_string();
    assert_ne!(
        t["category"], "exchange_rate",
        "the words alone do not say it: {t}"
    );

    // Not a ticket type: 422 naming the field, nothing changed.
    let r = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/tickets/{id}"),
            Some(&json!({"ticket_type": "nonsense"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("ticket_type"), "{}", r.body);

    // The agent's correction: audited, routing follows, certain.
    let r = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/tickets/{id}"),
            Some(&json!({"ticket_type": "exchange_rate", "actor": "ana"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["category"], "exchange_rate");
    assert_eq!(r.json()["category_confidence"], 1.0);
    let r = app
        .admin("GET", &format!("/api/v1/admin/tickets/{id}"), None)
        .await;
    let detail = r.json();
    assert!(
        detail["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .any(|a| a["field"] == "ticket_type"
                && a["actor"] == "ana"
                && a["new_value"] == "exchange_rate"),
        "{detail}"
    );

    // Retrained, triage files the same kind of ticket under the agent's type.
    let stats = retrain(&app).await;
    assert!(stats["examples"].as_u64().unwrap_or(0) >= 1, "{stats}");
    let r = app.post_json("/api/v1/tickets", &file(1)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["category"], "exchange_rate", "{}", r.body);
}

#[tokio::test]
async fn replicas_sharing_postgres_learn_the_same_model() {
    let (db, store) = crate::postgres::PgDatabase::create().await;
    let f = help_center();
    let a = TestApp::with_store(&f, config(), store.clone());
    let b = TestApp::with_store(
        &f,
        config(),
        Store::connect(&db.url()).await.expect("connect"),
    );
    let (first, second) = runner_up(&a).await;
    // Traffic reaches both replicas, as behind a load balancer.
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        visit(
            app,
            QUESTION,
            &second,
            &format!("r{i}"),
            &format!("10.3.0.{i}"),
        )
        .await;
    }
    let (sa, sb) = (retrain_with(&a, 6).await, retrain_with(&b, 6).await);
    assert_eq!(sa["examples"], sb["examples"], "{sa} {sb}");
    assert_eq!(sa["articles"], sb["articles"]);
    let (_, on_a) = search(&a, QUESTION, "", "10.200.1.1").await;
    let (_, on_b) = search(&b, QUESTION, "", "10.200.1.2").await;
    assert_eq!(on_a, on_b, "replicas answer alike");
    assert_eq!(on_a[0], second);
    assert_ne!(first, second);
    db.drop_now(store).await;
}

// ----------------------------------------------------------------------------------------
// A real browser: the KB manager sees what was learned, tries a search, rejects a wording.

#[tokio::test]
async fn the_learning_page_in_a_real_browser() {
    let Some(chromium) = crate::browser::chromium_for("the learning page test") else {
        return;
    };
    let f = help_center();
    let app = TestApp::with_sqlite(&f, config()).await;
    let (_, second) = runner_up(&app).await;
    for i in 0..4 {
        visit(
            &app,
            QUESTION,
            &second,
            &format!("b{i}"),
            &format!("10.4.0.{i}"),
        )
        .await;
    }
    retrain_with(&app, 4).await;
    let server = app.serve().await;
    let base = server.base();
    let journey =
        tokio::task::spawn_blocking(move || learning_journey(&chromium, &base, &second)).await;
    server.stop().await.expect("the server stops");
    match journey {
        Ok(result) => result.expect("the learning page journey"),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("browser task: {e}"),
    }
    // The rejection reached the store.
    let rejected = app.store().rejections().await.expect("rejections");
    assert!(
        rejected.iter().any(|r| r.phrase == QUESTION),
        "{rejected:?}"
    );
}

fn learning_journey(chromium: &std::path::Path, base: &str, slug: &str) -> anyhow::Result<()> {
    use anyhow::bail;
    let browser = crate::browser::Browser::launch(chromium)?;
    let mut page = browser.page().inspect_err(|_| browser.print_stderr())?;
    page.open(&format!("{base}/admin/learning"))?;
    page.wait_for(
        "the login form",
        "location.pathname === '/admin/login' && document.querySelector('input#token') !== null",
    )?;
    page.evaluate(&format!(
        "document.querySelector('input#token').value = '{TOKEN}'; \
         document.querySelector('form.login').submit(); true"
    ))?;
    page.wait_for(
        "logged in, back on the learning page",
        "location.pathname === '/admin/learning' && document.readyState === 'complete'",
    )?;
    page.call(
        "Page.navigate",
        json!({"url": format!("{base}/admin/learning?q={}", enc(QUESTION))}),
    )?;
    let learned = page.wait_for(
        "the learning page with its phrasings and the tried search",
        &format!(
            "location.pathname === '/admin/learning' && document.readyState === 'complete' \
             && document.querySelector('section.phrasings[data-slug=\"{slug}\"] tr.leading') !== null \
             && document.querySelector('table.tried td.learned') !== null \
             && document.querySelector('table.tried td.learned').innerText"
        ),
    )?;
    let contribution: f64 = learned
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('+')
        .parse()
        .unwrap_or(0.0);
    if contribution <= 0.0 {
        bail!("the first result shows no learned contribution: {learned}");
    }
    let state = page.evaluate("document.querySelector('#learning-state').innerText")?;
    if !state.as_str().unwrap_or_default().contains("articles") {
        bail!("the model's state is not shown: {state}");
    }
    let shots = crate::browser::screenshot_dir();
    std::fs::create_dir_all(&shots)?;
    page.screenshot(&shots.join("admin-learning.png"), true)?;
    // Reject the wording for that article.
    page.evaluate(&format!(
        "document.querySelector('section.phrasings[data-slug=\"{slug}\"] tr.leading form').submit(); true"
    ))?;
    page.wait_for(
        "the page again, saying the wording was rejected",
        "location.search.includes('done=rejected') && document.readyState === 'complete' \
         && document.querySelector('p.notice') !== null",
    )?;
    let problems = page.console_problems();
    if !problems.is_empty() {
        bail!(
            "the learning page logged errors:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(())
}
