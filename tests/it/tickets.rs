//! Fallback tickets: the store on both backends, the API and pages through the router, stored
//! XSS in the admin queue, and the webhook outbox across a killed server.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use deflect::config::{Config, Secret};
use deflect::store::Store;
use deflect::store::tickets::{AuditEntry, Delivery, Ticket, TicketFilter};
use deflect::triage::TicketStatus;
use serde_json::{Value, json};

use crate::app::{ServeProcess, TestApp, json, raw_request, status_and_body};
use crate::fixture::{ArticleSrc, Fixture};

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.file(
        "ticket-types.toml",
        "[[ticket_type]]\nid = \"card_arrival\"\nname = \"Card hasn't arrived\"\ntier = \"L1\"\npriority = \"P4\"\n\n\
         [[ticket_type]]\nid = \"compromised_card\"\nname = \"Card stolen\"\ntier = \"L2\"\npriority = \"P2\"\n",
    );
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived")
            .summary("Delivery takes 3-5 working days.")
            .ticket_types(&["card_arrival"])
            .steps("Wait five working days, then order a replacement card."),
    );
    f.article(
        "cards/stolen-card.md",
        &ArticleSrc::new("My card was stolen")
            .summary("Freeze the card in the app right away.")
            .ticket_types(&["compromised_card"])
            .steps("Freeze the stolen card, then order a new one."),
    );
    f
}

fn config() -> Config {
    Config {
        admin_token: Some(Secret::new("tok")),
        ..Config::default()
    }
}

fn ticket(id: &str, session: &str, ticket_type: &str, at: chrono::DateTime<Utc>) -> Ticket {
    Ticket {
        id: id.into(),
        session_id: Some(session.into()),
        email: "a@example.com".into(),
        email_domain: "example.com".into(),
        subject: "s".into(),
        description: "d".into(),
        customer_tier: "business".into(),
        ticket_type: Some(ticket_type.into()),
        ticket_type_confidence: 0.75,
        priority: "P2".into(),
        priority_reason: "test".into(),
        routing_tier: "L1".into(),
        status: TicketStatus::New,
        assignee: None,
        at_risk: false,
        source: "api".into(),
        sla_started_at: at,
        first_response_minutes: 60,
        resolution_minutes: 480,
        first_response_due: at,
        resolution_due: at,
        first_responded_at: None,
        paused_at: None,
        paused_secs: 0,
        resolved_at: None,
        created_at: at,
        updated_at: at,
    }
}

async fn store_behaves(store: &Store) {
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let created = AuditEntry {
        actor: "triage".into(),
        field: "created".into(),
        old_value: None,
        new_value: Some("new".into()),
        note: None,
        created_at: now,
    };
    let d = Delivery {
        id: "d1".into(),
        ticket_id: "T-1".into(),
        event: "ticket.created".into(),
        attempts: 0,
        next_attempt_at: now,
    };
    let t = ticket("T-1", "sess1", "card_arrival", now);
    store
        .create_ticket(&t, &created, Some(&d))
        .await
        .expect("create");
    assert_eq!(
        store.ticket("T-1").await.expect("read"),
        Some(t.clone()),
        "round trip"
    );
    assert_eq!(
        store
            .urgent_tickets_from("example.com", now - chrono::Duration::days(30))
            .await
            .expect("count"),
        1
    );
    // The outbox row was written with the ticket; a claim takes it once.
    let due = store.due_deliveries(now, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    assert!(
        store
            .claim_delivery(&due[0], now + chrono::Duration::seconds(30))
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_delivery(&due[0], now + chrono::Duration::seconds(30))
            .await
            .expect("claim"),
        "second claim loses"
    );
    assert!(
        store.due_deliveries(now, 10).await.expect("due").is_empty(),
        "leased"
    );
    store.mark_delivered("d1", now).await.expect("delivered");
    assert_eq!(store.pending_deliveries().await.expect("pending"), 0);
    // An update is audited and guarded against concurrent changes.
    let mut changed = t.clone();
    changed.status = TicketStatus::Assigned;
    changed.assignee = Some("ana".into());
    changed.updated_at = now + chrono::Duration::seconds(1);
    let entry = AuditEntry {
        field: "status".into(),
        old_value: Some("new".into()),
        new_value: Some("assigned".into()),
        actor: "ana".into(),
        ..created.clone()
    };
    assert!(
        store
            .update_ticket(&changed, t.updated_at, std::slice::from_ref(&entry))
            .await
            .expect("update")
    );
    assert!(
        !store
            .update_ticket(&changed, t.updated_at, &[])
            .await
            .expect("stale update"),
        "stale write refused"
    );
    let log = store.audit_log("T-1").await.expect("audit");
    assert_eq!(
        log.iter().map(|a| a.field.as_str()).collect::<Vec<_>>(),
        ["created", "status"]
    );
    let listed = store
        .tickets(&TicketFilter {
            status: Some("assigned".into()),
            ..TicketFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert!(
        store
            .tickets(&TicketFilter {
                priority: Some("P1".into()),
                ..TicketFilter::default()
            })
            .await
            .expect("list")
            .is_empty()
    );
    // The trail: what session sess1 did, oldest first.
    let s = |id: &str, q: &str, n: i64, mins: i64| {
        deflect::store::Event::Search(deflect::store::SearchEvent {
            id: id.into(),
            session_id: "sess1".into(),
            query: q.into(),
            normalized: q.into(),
            result_count: n,
            top_slugs: vec![],
            corrected_query: None,
            at: now - chrono::Duration::minutes(mins),
            client: None,
            learned: None,
        })
    };
    store
        .record_events(&[s("s1", "card lost", 0, 10), s("s2", "card late", 3, 5)])
        .await
        .expect("events");
    store
        .record_vote(&deflect::store::Vote {
            session_id: "sess1".into(),
            slug: "card-arrival".into(),
            helpful: false,
            reason: Some(deflect::store::VoteReason::Outdated),
            comment: None,
            search_id: None,
            at: now - chrono::Duration::minutes(4),
        })
        .await
        .expect("vote");
    let trail = store.trail("sess1").await.expect("trail");
    let kinds: Vec<&str> = trail.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["search", "search", "vote"]);
    assert_eq!(trail[0].detail, "0 results");
    assert!(trail[2].detail.contains("outdated"), "{:?}", trail[2]);
    // New-article signals.
    for i in 0..10 {
        let t = ticket(&format!("T-b{i}"), "other", "card_arrival", now);
        store
            .create_ticket(&t, &created, None)
            .await
            .expect("create");
    }
    // The gaps report's new-article signals, from the same store.
    let busy: Vec<(Option<String>, i64)> = store
        .tickets_by_category(
            now - chrono::Duration::days(7),
            now + chrono::Duration::seconds(5),
        )
        .await
        .expect("busy")
        .into_iter()
        .filter(|(_, n)| *n >= 10)
        .collect();
    assert_eq!(busy, [(Some("card_arrival".to_string()), 11)]);
    let after = store
        .zero_result_queries_before_tickets(
            now - chrono::Duration::days(1),
            now + chrono::Duration::seconds(5),
            10,
        )
        .await
        .expect("after");
    assert_eq!(after, [("card lost".to_string(), 1)]);
}

on_both_backends!(store_behaves: ticket_store_on_sqlite, ticket_store_on_postgres);

#[tokio::test]
async fn filing_a_ticket_triages_it_and_the_queue_shows_it_escaped() {
    let f = help_center();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("store");
    let app = TestApp::with_store(&f, config(), store.clone());
    let (status, body) = app.post_json("/api/v1/tickets", &json!({
        "email": "kim@acme.test", "subject": "My card was stolen",
        "description": "<script>alert(1)</script> someone stole my card and was charged twice",
        "customer_tier": "enterprise", "session_id": "sessA"
    })).await.status_body();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let t = json(&body);
    let id = t["id"].as_str().expect("id").to_string();
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "P2");
    assert_eq!(t["category"], "compromised_card");
    assert_eq!(t["tier"], "L2");
    let fr =
        chrono::DateTime::parse_from_rfc3339(t["sla"]["first_response_due"].as_str().expect("due"))
            .expect("time");
    let res =
        chrono::DateTime::parse_from_rfc3339(t["sla"]["resolution_due"].as_str().expect("due"))
            .expect("time");
    assert!(fr < res, "first response before resolution");
    // Committed before the 201.
    assert!(store.ticket(&id).await.expect("read").is_some());

    // Validation names the field; the honeypot catches bots.
    for (body, field) in [
        (
            json!({"email": "nope", "subject": "s", "description": "d"}),
            "email",
        ),
        (
            json!({"email": "a@b.co", "subject": " ", "description": "d"}),
            "subject",
        ),
        (
            json!({"email": "a@b.co", "subject": "s", "description": "x".repeat(5001)}),
            "description",
        ),
        (
            json!({"email": "a@b.co", "subject": "s", "description": "d", "customer_tier": "gold"}),
            "customer_tier",
        ),
        (
            json!({"email": "a@b.co", "subject": "s", "description": "d", "website": "http://spam"}),
            "website",
        ),
    ] {
        let (status, b) = app.post_json("/api/v1/tickets", &body).await.status_body();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(json(&b)["error"]["field"], field, "{b}");
    }
    let (status, b) = app
        .post_json("/api/v1/tickets", &json!({"email": "a@b.co"}))
        .await
        .status_body();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");

    // The admin queue and detail escape the customer's text.
    let (status, _) = app.get("/api/v1/admin/tickets").await.status_body();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let login = app.login().await;
    let cookie = |uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, &login)
            .body(Body::empty())
            .expect("req")
    };
    let (status, page) = app.send(cookie("/admin/tickets")).await.status_body();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&id) && page.contains("P2"), "{page}");
    let (_, page) = app
        .send(cookie(&format!("/admin/tickets/{id}")))
        .await
        .status_body();
    assert!(
        !page.contains("<script>alert(1)</script>"),
        "stored XSS in the detail page"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;"), "{page}");
    let (_, page) = app.send(cookie("/admin/tickets")).await.status_body();
    let (_, b) = app
        .admin("GET", &format!("/api/v1/admin/tickets/{id}"), None)
        .await
        .status_body();
    assert!(
        b.contains("<script>alert(1)</script>"),
        "JSON keeps the text as typed"
    );
    assert!(!page.contains("<script>"), "no script in the queue either");
    let (_, page) = app
        .send(cookie("/admin/tickets?priority=P2"))
        .await
        .status_body();
    assert!(page.contains(&id));
    let (_, page) = app
        .send(cookie("/admin/tickets?priority=P5"))
        .await
        .status_body();
    assert!(!page.contains(&id), "filtered out");

    // Lifecycle: pending customer pauses the clock, a reopen starts a new SLA period; audited.
    let ticket_uri = format!("/api/v1/admin/tickets/{id}");
    let (status, b) = app
        .admin(
            "PATCH",
            &ticket_uri,
            Some(&json!({"status": "pending_customer", "actor": "ana"})),
        )
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(json(&b)["sla"]["paused"], true);
    let (status, b) = app
        .admin("PATCH", &ticket_uri, Some(&json!({"status": "new"})))
        .await
        .status_body();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (_, b) = app
        .admin(
            "PATCH",
            &ticket_uri,
            Some(&json!({"status": "resolved", "actor": "ana"})),
        )
        .await
        .status_body();
    assert_eq!(json(&b)["sla"]["level"], Value::Null, "{b}");
    let (_, b) = app.admin("PATCH", &ticket_uri, Some(&json!({"status": "in_progress", "priority": "P1", "assignee": "bo", "actor": "ana"}))).await.status_body();
    let v = json(&b);
    assert_eq!(
        (
            v["status"].as_str(),
            v["priority"].as_str(),
            v["assignee"].as_str()
        ),
        (Some("in_progress"), Some("P1"), Some("bo")),
        "{b}"
    );
    let (_, b) = app
        .admin("GET", &format!("/api/v1/admin/tickets/{id}"), None)
        .await
        .status_body();
    let d = json(&b);
    let fields: Vec<&str> = d["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|a| a["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "created", "status", "status", "priority", "assignee", "status"
        ],
        "{b}"
    );
    assert!(b.contains("reopened"), "{b}");
    // Export, with customer text a spreadsheet would run as a formula made text.
    let (status, b) = app
        .post_json(
            "/api/v1/tickets",
            &json!({"email": "=HYPERLINK(\"http://evil.test\")@x.com",
                    "subject": "@SUM(1+1)", "description": "+cmd|' /C calc'!A0"}),
        )
        .await
        .status_body();
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let (status, csv) = app
        .admin("GET", "/api/v1/admin/tickets/export?format=csv", None)
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("id,status,priority") && csv.contains(&id),
        "{csv}"
    );
    assert!(
        csv.contains("\"'=HYPERLINK(") && csv.contains(",'@SUM(1+1),"),
        "{csv}"
    );
    assert!(csv.contains("'+cmd|"), "{csv}");
    for cell in csv.lines().flat_map(|l| l.split(',')) {
        assert!(
            !cell.trim_start_matches('"').starts_with(['=', '@', '+']),
            "{cell} in {csv}"
        );
    }
    let (status, _) = app
        .admin("GET", "/api/v1/admin/tickets/export?format=xml", None)
        .await
        .status_body();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn no_database_means_a_clear_503_and_sessions_are_rate_limited() {
    let f = help_center();
    let app = TestApp::with_config(&f, config());
    let body = json!({"email": "a@b.co", "subject": "card", "description": "where is my card"});
    let (status, b) = app.post_json("/api/v1/tickets", &body).await.status_body();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert!(
        json(&b)["error"]["message"]
            .as_str()
            .expect("message")
            .contains("nothing was stored")
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("store");
    let app = state_with(&f, store, 2);
    let body = json!({"email": "a@b.co", "subject": "card", "description": "where is my card", "session_id": "spammy"});
    for want in [
        StatusCode::CREATED,
        StatusCode::CREATED,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (status, b) = app.post_json("/api/v1/tickets", &body).await.status_body();
        assert_eq!(status, want, "{b}");
    }
}

fn state_with(f: &Fixture, store: Store, per_session: u32) -> TestApp {
    let mut c = config();
    c.triage.tickets_per_session = per_session;
    TestApp::with_store(f, c, store)
}

#[tokio::test]
async fn the_contact_page_prefills_suggests_and_files() {
    let f = help_center();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("store");
    let app = TestApp::with_store(&f, config(), store.clone());
    let (status, page) = app
        .get("/contact?q=%3Cb%3Ecard%20late&article=card-arrival&reason=outdated")
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("value=\"My card hasn&#x27;t arrived\"") || page.contains("My card hasn"),
        "{page}"
    );
    assert!(page.contains("(outdated)"), "{page}");
    assert!(
        page.contains("/assets/contact.js") && !page.contains("<script>"),
        "no inline script"
    );
    let form = |body: &str| {
        Request::post("/contact")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, "deflect_session=visitor1")
            .body(Body::from(body.to_string()))
            .expect("req")
    };
    // A bad email comes back with the customer's (escaped) text and a message.
    let (status, page) = app
        .send(form(
            "email=nope&subject=%3Ci%3Ehi&description=card%20stolen",
        ))
        .await
        .status_body();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("email must be an address") && page.contains("&lt;i&gt;hi"),
        "{page}"
    );
    // First submit: matching articles first (no script), then the ticket.
    let (status, page) = app
        .send(form(
            "email=kim%40acme.test&subject=card%20stolen&description=my%20card%20was%20stolen",
        ))
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("This answered my question") && page.contains("My card was stolen"),
        "{page}"
    );
    let (status, page) = app.send(form("email=kim%40acme.test&subject=card%20stolen&description=my%20card%20was%20stolen&checked=1")).await.status_body();
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(
        page.contains("T-") && page.contains("We will answer within"),
        "{page}"
    );
    let tickets = store.tickets(&TicketFilter::default()).await.expect("list");
    assert_eq!(tickets.len(), 1);
    assert_eq!(
        tickets[0].session_id.as_deref(),
        Some("visitor1"),
        "the visitor's session links the trail"
    );
    // "This answered my question" ends the flow without a ticket.
    let (status, page) = app
        .send(
            Request::post("/contact/answered")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, "deflect_session=visitor2")
                .body(Body::from("slug=card-arrival&subject=late"))
                .expect("req"),
        )
        .await
        .status_body();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Glad that helped"), "{page}");
    let trail = store.trail("visitor2").await.expect("trail");
    assert!(trail.iter().any(|e| e.kind == "deflected"), "{trail:?}");
}

// ---- The webhook outbox across a killed server ----

fn start(
    content: &std::path::Path,
    data: &std::path::Path,
    config: &std::path::Path,
) -> (ServeProcess, String) {
    let server = ServeProcess::start(|cmd| {
        cmd.arg("--content")
            .arg(content)
            .arg("--data-dir")
            .arg(data)
            .arg("--config")
            .arg(config)
            .env_remove("DEFLECT_CONTENT")
            .env_remove("DEFLECT_WEBHOOK_URL")
            .stderr(Stdio::null())
    });
    let addr = server.addr.clone();
    (server, addr)
}

/// What the test receiver saw: (idempotency key, ticket id, signature valid).
type Seen = Arc<Mutex<Vec<(String, String, bool)>>>;

async fn receiver(seen: Seen, slow_first: usize) -> String {
    use axum::routing::post;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = Arc::clone(&seen);
                let calls = Arc::clone(&calls);
                async move {
                    let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if n < slow_first {
                        // Slow: longer than the sender's timeout, so the server dies mid-delivery.
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return StatusCode::OK;
                    }
                    if n == slow_first {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let h = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    let sig_ok = h("x-deflect-signature")
                        == deflect::webhook::signature(&Secret::new("hooksecret"), &body);
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let id = v["ticket"]["id"].as_str().unwrap_or("").to_string();
                    assert_eq!(id, h("x-deflect-ticket"));
                    seen.lock()
                        .expect("lock")
                        .push((h("idempotency-key"), id, sig_ok));
                    StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_outbox_survives_a_killed_server() {
    let f = help_center();
    let data = tempfile::tempdir().expect("tempdir");
    let seen: Seen = Arc::default();
    let url = receiver(Arc::clone(&seen), 1).await;
    let cfg = data.path().join("deflect.toml");
    std::fs::write(&cfg, format!(
        "[triage]\ntickets_per_ip = 0\ntickets_per_session = 0\n[webhook]\nurl = \"{url}\"\nsecret = \"hooksecret\"\ntimeout_secs = 60\nretry_base_secs = 1\nretry_max_secs = 2\n"
    )).expect("config");
    let db = data.path().join("db");
    let (server, addr) = start(f.root(), &db, &cfg);
    let mut ids = Vec::new();
    for i in 0..5 {
        let a = addr.clone();
        let body = json!({"email": format!("c{i}@acme.test"), "subject": "card", "description": format!("where is my card {i}")}).to_string();
        let (status, b) = tokio::task::spawn_blocking(move || {
            status_and_body(&raw_request(&a, "POST", "/api/v1/tickets", Some(&body)))
        })
        .await
        .expect("post");
        assert_eq!(status, 201, "{b}");
        ids.push(json(&b)["id"].as_str().expect("id").to_string());
    }
    // The first delivery hangs at the receiver: kill the server mid-delivery.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);
    let before = seen.lock().expect("lock").len();
    assert!(
        before < ids.len(),
        "the kill came before everything was delivered ({before})"
    );
    // Restart on the same database with a short timeout: everything left arrives.
    std::fs::write(&cfg, format!(
        "[webhook]\nurl = \"{url}\"\nsecret = \"hooksecret\"\ntimeout_secs = 2\nretry_base_secs = 1\nretry_max_secs = 2\n"
    )).expect("config");
    let (_server, _) = start(f.root(), &db, &cfg);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got: HashSet<String> = seen
            .lock()
            .expect("lock")
            .iter()
            .map(|s| s.1.clone())
            .collect();
        if ids.iter().all(|id| got.contains(id)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "tickets missing at the receiver: got {got:?}, want {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = seen.lock().expect("lock").clone();
    assert!(seen.iter().all(|s| s.2), "every delivery is signed");
    // Exactly once after deduplication by idempotency key: one key per ticket.
    let mut by_key: HashMap<&str, &str> = HashMap::new();
    for (key, id, _) in &seen {
        assert_eq!(
            *by_key.entry(key.as_str()).or_insert(id.as_str()),
            id.as_str(),
            "a key names one ticket"
        );
    }
    assert_eq!(
        by_key.len(),
        ids.len(),
        "one idempotency key per ticket: {seen:?}"
    );
    eprintln!(
        "webhook restart: {} tickets, {} deliveries received ({} duplicates)",
        ids.len(),
        seen.len(),
        seen.len() - by_key.len()
    );
}

#[test]
fn eval_triage_reports_category_accuracy() {
    let f = help_center();
    let csv = f.root().join("questions.csv");
    std::fs::write(
        &csv,
        "text,category\nmy card never arrived in the post,card_arrival\nsomeone stole my card,compromised_card\nmy card was stolen last night,card_arrival\n",
    )
    .expect("csv");
    let out = Command::new(env!("CARGO_BIN_EXE_deflect"))
        .args(["eval", "--triage", "--json", "--content"])
        .arg(f.root())
        .arg(&csv)
        .env_remove("DEFLECT_CONTENT")
        .output()
        .expect("run deflect eval");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["questions"], 3);
    // The third label is wrong on purpose: 2 of 3.
    assert_eq!(v["correct"], 2, "{v}");
    assert!((v["accuracy"].as_f64().expect("accuracy") - 2.0 / 3.0).abs() < 1e-9);
}

#[tokio::test]
async fn the_ticket_endpoint_is_in_the_openapi_document() {
    let f = help_center();
    let app = TestApp::with_config(&f, config());
    let (_, b) = app.get("/api/v1/openapi.json").await.status_body();
    let v = json(&b);
    assert!(v["paths"]["/api/v1/tickets"]["post"].is_object(), "{b}");
    assert!(
        v["components"]["schemas"]["TicketResponse"]["properties"]["sla"].is_object(),
        "{b}"
    );
}
