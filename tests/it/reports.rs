//! The KB manager's reports: events with known counts seeded through the Store API (tickets
//! by plain INSERT), then every report's numbers asserted exactly, on SQLite and on a real
//! PostgreSQL; the reports over HTTP (token, CSV, pages, escaping) and the home page's
//! popular articles.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use deflect::config::{Config, Secret};
use deflect::reports::{Inputs, MetricStatus, Period, Report, ReportName};
use deflect::search::SearchEngine;
use deflect::store::{ArticleView, Click, Event, SearchEvent, Store, Vote, VoteReason};
use serde_json::Value;

use crate::app::TestApp;
use crate::fixture::{ArticleSrc, Fixture, date, today};

const XSS: &str = "<script>alert(1)</script>";

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival", "change_pin", "lost_card"]);
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived")
            .summary("Delivery takes 3-5 working days.")
            .ticket_types(&["card_arrival"])
            .steps("Wait five working days, then order a replacement card."),
    );
    f.article(
        "cards/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .set("last_reviewed", &date(-400))
            .ticket_types(&["change_pin"])
            .steps("Use any cash machine that offers PIN services."),
    );
    f
}

/// Day two days ago at 10:00 UTC: every seeded event falls on this UTC day.
fn day0() -> DateTime<Utc> {
    (Utc::now().date_naive() - Duration::days(2))
        .and_time(NaiveTime::from_hms_opt(10, 0, 0).expect("time"))
        .and_utc()
}

fn period() -> Period {
    Period {
        since: day0() - Duration::days(1),
        until: day0() + Duration::days(6),
    }
}

fn search(id: &str, session: &str, q: &str, results: i64, at: DateTime<Utc>) -> Event {
    Event::Search(SearchEvent {
        id: id.into(),
        session_id: session.into(),
        query: q.into(),
        normalized: q.to_lowercase(),
        result_count: results,
        top_slugs: Vec::new(),
        corrected_query: (q == "cripto wallet").then(|| "crypto wallet".to_string()),
        at,
        client: None,
        learned: None,
    })
}

fn vote(session: &str, slug: &str, helpful: bool, at: DateTime<Utc>) -> Vote {
    Vote {
        session_id: session.into(),
        slug: slug.into(),
        helpful,
        reason: (!helpful).then_some(VoteReason::Outdated),
        comment: None,
        search_id: None,
        at,
    }
}

/// Inserts a plausibly triaged ticket; only what the reports read matters.
pub(crate) async fn ticket(
    store: &Store,
    id: &str,
    session: Option<&str>,
    category: &str,
    at: DateTime<Utc>,
) {
    // Only what the reports read matters; the rest is a plausible triaged ticket.
    const SQL: &str =
        "INSERT INTO tickets (id, session_id, email, email_domain, subject, description,
            customer_tier, category, category_confidence, priority, priority_reason, routing_tier,
            status, at_risk, source, sla_started_at, first_response_minutes, resolution_minutes,
            first_response_due, resolution_due, paused_secs, created_at, updated_at)
        VALUES ($1, $2, 'c@example.com', 'example.com', 'Help', 'It does not work', 'business',
            $3, 0.9, 'P4', 'default', 'L1', 'new', $5, 'api', $4, 480, 4320, $4, $4, 0, $4, $4)";
    match store {
        Store::Sqlite(pool) => sqlx::query(SQL)
            .bind(id)
            .bind(session)
            .bind(category)
            .bind(at)
            .bind(false)
            .execute(pool)
            .await
            .map(drop),
        Store::Postgres(pool) => sqlx::query(SQL)
            .bind(id)
            .bind(session)
            .bind(category)
            .bind(at)
            .bind(false)
            .execute(pool)
            .await
            .map(drop),
    }
    .expect("insert ticket");
}

/// The scenario, session by session:
/// - s1 searches "card arrived", clicks after 30 s, votes helpful: answered;
/// - s2 finds nothing for "cash machine", 40 s later searches "atm" and clicks (50 s), then
///   files a ticket 2 h later;
/// - s3 finds nothing for "crypto wallet" nor "cripto wallet" and files a ticket;
/// - s4 reads card-arrival without searching and votes "No" with a comment;
/// - c0..c9 each search "crypto wallet" once and find nothing;
/// - 11 more card_arrival tickets without a session; earlier votes for the previous period.
async fn seed(store: &Store) {
    let t = day0();
    let s = |n: i64| t + Duration::seconds(n);
    let mut events = vec![
        search("a1", "s1", "card arrived", 1, t),
        search("b1", "s2", "cash machine", 0, t),
        search("b2", "s2", "atm", 1, s(40)),
        search("c1", "s3", "crypto wallet", 0, t),
        search("c2", "s3", "cripto wallet", 0, s(30)),
        Event::View(ArticleView {
            session_id: "s4".into(),
            slug: "card-arrival".into(),
            search_id: None,
            at: t,
        }),
    ];
    for i in 0..10 {
        events.push(search(
            &format!("z{i}"),
            &format!("c{i}"),
            "crypto wallet",
            0,
            s(600 + i),
        ));
    }
    store.record_events(&events).await.expect("events");
    for (search_id, session, slug, at) in [
        ("a1", "s1", "card-arrival", s(30)),
        ("b2", "s2", "change-pin", s(50)),
    ] {
        store
            .record_click(&Click {
                search_id: search_id.into(),
                slug: slug.into(),
                position: Some(1),
                session_id: session.into(),
                at,
            })
            .await
            .expect("click");
    }
    store
        .record_vote(&vote("s1", "card-arrival", true, s(60)))
        .await
        .expect("vote");
    let mut no = vote("s4", "card-arrival", false, s(300));
    no.comment = Some(XSS.into());
    store.record_vote(&no).await.expect("vote");
    // The period before: card-arrival was always helpful.
    store
        .record_vote(&vote("old", "card-arrival", true, t - Duration::days(4)))
        .await
        .expect("vote");
    // change-pin: 1 yes, 4 no: flagged.
    for (i, helpful) in [true, false, false, false, false].into_iter().enumerate() {
        store
            .record_vote(&vote(&format!("v{i}"), "change-pin", helpful, s(900)))
            .await
            .expect("vote");
    }
    ticket(store, "t-s2", Some("s2"), "change_pin", s(7200)).await;
    ticket(store, "t-s3", Some("s3"), "lost_card", s(3600)).await;
    for i in 0..11 {
        ticket(store, &format!("t{i}"), None, "card_arrival", s(4000 + i)).await;
    }
}

async fn report(store: &Store, f: &Fixture, name: ReportName) -> Report {
    report_over(store, f, name, period()).await
}

async fn report_over(store: &Store, f: &Fixture, name: ReportName, period: Period) -> Report {
    let loaded = f.load();
    let engine = SearchEngine::build(&loaded.kb).expect("index");
    let inputs = Inputs {
        store,
        kb: &loaded.kb,
        engine: &engine,
        today: today(),
    };
    Report::build(name, inputs, period)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", name.as_str()))
}

fn metric(r: &Report, key: &str) -> (Option<f64>, MetricStatus) {
    let m = r
        .metrics()
        .iter()
        .find(|m| m.key == key)
        .unwrap_or_else(|| panic!("no metric {key}"));
    (m.value, m.status)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Every report's numbers, whatever the backend.
async fn reports_are_exact(store: &Store) {
    let f = help_center();
    seed(store).await;
    let day = day0().format("%Y-%m-%d").to_string();

    // gaps
    let Report::Gaps(g) = report(store, &f, ReportName::Gaps).await else {
        panic!("gaps")
    };
    let clusters: Vec<_> = g
        .clusters
        .iter()
        .map(|c| {
            (
                c.query.as_str(),
                c.variants.clone(),
                c.zero_results,
                c.no_click,
                c.sessions,
                c.new_article_signal,
            )
        })
        .collect();
    assert_eq!(
        clusters,
        [
            (
                "crypto wallet",
                vec!["crypto wallet".to_string(), "cripto wallet".to_string()],
                12,
                0,
                11, // distinct: s3 retried the typo, counted once
                true
            ),
            (
                "cash machine",
                vec!["cash machine".to_string()],
                1,
                0,
                1,
                false
            ),
        ]
    );
    assert_eq!(
        g.clusters[0].last_seen,
        Some(day0() + Duration::seconds(609))
    );
    let busy: Vec<_> = g
        .busy_ticket_types
        .iter()
        .map(|t| (t.ticket_type.as_str(), t.name.as_deref(), t.tickets))
        .collect();
    assert_eq!(busy, [("card_arrival", Some("card_arrival"), 11)]);
    let before: Vec<_> = g
        .zero_result_queries_before_tickets
        .iter()
        .map(|q| (q.query.as_str(), q.tickets))
        .collect();
    assert_eq!(
        before,
        [
            ("cash machine", 1),
            ("cripto wallet", 1),
            ("crypto wallet", 1)
        ]
    );
    let zero = metric(&Report::Gaps(g.clone()), "zero_result_rate");
    assert!(
        close(zero.0, 13.0 / 15.0) && zero.1 == MetricStatus::Warning,
        "{zero:?}"
    );

    // searches
    let r = report(store, &f, ReportName::Searches).await;
    assert!(close(metric(&r, "search_success").0, 2.0 / 15.0));
    assert_eq!(metric(&r, "search_success").1, MetricStatus::Warning);
    assert!(close(metric(&r, "refinement_rate").0, 2.0 / 15.0));
    let Report::Searches(s) = r else {
        panic!("searches")
    };
    assert_eq!(
        (s.searches, s.zero_results, s.clicked, s.refinements),
        (15, 13, 2, 2)
    );
    assert_eq!(s.top_queries[0].query, "crypto wallet");
    assert_eq!(s.top_queries[0].searches, 11);
    let daily: Vec<_> = s
        .daily
        .iter()
        .map(|d| (d.day.as_str(), d.searches, d.zero_results, d.clicked))
        .collect();
    assert_eq!(daily, [(day.as_str(), 15, 13, 2)]);
    let refinements: Vec<_> = s
        .top_refinements
        .iter()
        .map(|p| (p.from.as_str(), p.to.as_str(), p.count, p.ended_in_click))
        .collect();
    assert_eq!(
        refinements,
        [
            ("cash machine", "atm", 1, 1),
            ("crypto wallet", "cripto wallet", 1, 0)
        ]
    );
    let lines: Vec<_> = s
        .synonym_proposals
        .iter()
        .map(|p| p.line.as_str())
        .collect();
    assert_eq!(lines, ["cash machine => atm"]);

    // deflection: 14 sessions (s1-s4, c0-c9); s2 and s3 filed tickets within 24 h.
    let r = report(store, &f, ReportName::Deflection).await;
    assert!(close(metric(&r, "deflection_rate").0, 12.0 / 14.0));
    assert_eq!(metric(&r, "deflection_rate").1, MetricStatus::Ok);
    // Answers after 30 s (s1) and 50 s (s2): the median is the 30-35 s bucket.
    assert!(close(metric(&r, "time_to_answer").0, 32.5));
    assert!(close(metric(&r, "deflection_failure").0, 2.0 / 13.0));
    let Report::Deflection(d) = r else {
        panic!("deflection")
    };
    let funnel = |f: &deflect::reports::DeflectionFunnel| {
        (
            f.period.clone(),
            f.sessions,
            f.clicked,
            f.voted_helpful,
            f.filed_ticket,
        )
    };
    assert_eq!(funnel(&d.total), ("all".to_string(), 14, 2, 1, 2));
    assert_eq!(
        d.daily.iter().map(funnel).collect::<Vec<_>>(),
        [(day.clone(), 14, 2, 1, 2)]
    );
    assert_eq!(d.weekly.len(), 1);
    assert_eq!((d.tickets, d.tickets_after_search), (13, 2));

    // helpfulness
    let r = report(store, &f, ReportName::Helpfulness).await;
    assert!(close(metric(&r, "helpfulness").0, 2.0 / 7.0));
    let Report::Helpfulness(h) = r else {
        panic!("helpfulness")
    };
    let rows: Vec<_> = h
        .articles
        .iter()
        .map(|a| (a.slug.as_str(), a.yes, a.no, a.flagged, a.change_points))
        .collect();
    assert_eq!(
        rows,
        [
            ("change-pin", 1, 4, true, None),
            ("card-arrival", 1, 1, false, Some(-50.0)),
        ]
    );
    assert_eq!(h.articles[0].reasons, [("outdated".to_string(), 4)]);
    assert_eq!(h.comments.len(), 1);
    assert_eq!(h.comments[0].comment, XSS);

    // freshness: change-pin is stale, with its one click as traffic.
    let r = report(store, &f, ReportName::Freshness).await;
    assert_eq!(metric(&r, "freshness"), (Some(0.5), MetricStatus::Warning));
    let Report::Freshness(fr) = r else {
        panic!("freshness")
    };
    let stale: Vec<_> = fr
        .stale
        .iter()
        .map(|a| (a.slug.as_str(), a.traffic))
        .collect();
    assert_eq!(stale, [("change-pin", 1)]);

    // coverage: lost_card has no article.
    let r = report(store, &f, ReportName::Coverage).await;
    assert!(close(metric(&r, "coverage").0, 2.0 / 3.0));
    assert_eq!(metric(&r, "coverage").1, MetricStatus::OffTarget);
    let Report::Coverage(c) = r else {
        panic!("coverage")
    };
    let types: Vec<_> = c
        .ticket_types
        .iter()
        .map(|t| (t.id.as_str(), t.covered, t.tickets))
        .collect();
    assert_eq!(
        types,
        [
            ("lost_card", false, 1),
            ("card_arrival", true, 11),
            ("change_pin", true, 1)
        ]
    );
    let filed: Vec<_> = c
        .most_filed
        .iter()
        .map(|t| (t.ticket_type.as_str(), t.tickets))
        .collect();
    assert_eq!(
        filed,
        [("card_arrival", 11), ("change_pin", 1), ("lost_card", 1)]
    );

    // Popular articles: views + clicks.
    let popular = store
        .popular_articles(day0() - Duration::days(30), 5)
        .await
        .expect("popular");
    assert_eq!(
        popular,
        [
            ("card-arrival".to_string(), 2),
            ("change-pin".to_string(), 1)
        ]
    );

    // An empty period is not an error: no data, no status.
    let empty = Period {
        since: day0() - Duration::days(60),
        until: day0() - Duration::days(50),
    };
    let loaded = f.load();
    let engine = SearchEngine::build(&loaded.kb).expect("index");
    let inputs = Inputs {
        store,
        kb: &loaded.kb,
        engine: &engine,
        today: today(),
    };
    for name in ReportName::ALL {
        let r = Report::build(name, inputs, empty)
            .await
            .expect("empty period");
        for m in r.metrics() {
            if !matches!(m.key, "freshness" | "coverage") {
                assert_eq!(m.value, None, "{}: {}", name.as_str(), m.key);
            }
        }
    }
}

/// Closed hours and days are aggregated once and kept: a session and a refinement that
/// cross an hour's end count once, whether the hours are computed live or read back.
async fn hour_chunks_count_once(store: &Store) {
    let f = help_center();
    let t = day0() + Duration::minutes(59) + Duration::seconds(30); // 10:59:30
    let s = |n: i64| t + Duration::seconds(n);
    store
        .record_events(&[
            search("h1", "x", "lost card", 0, t),
            search("h2", "x", "stolen card", 1, s(40)), // 11:00:10
            search("h3", "y", "stolen card", 1, s(3600)), // 11:59:30, another visitor
        ])
        .await
        .expect("events");
    store
        .record_click(&Click {
            search_id: "h2".into(),
            slug: "card-arrival".into(),
            position: Some(1),
            session_id: "x".into(),
            at: s(50),
        })
        .await
        .expect("click");
    for since in [day0(), day0() + Duration::minutes(30)] {
        let period = Period {
            since,
            until: day0() + Duration::hours(3),
        };
        // Twice: computed (and kept), then read back.
        for round in 0..2 {
            let Report::Deflection(d) =
                report_over(store, &f, ReportName::Deflection, period).await
            else {
                panic!("deflection")
            };
            assert_eq!(
                (d.total.sessions, d.total.clicked),
                (2, 1),
                "since {since}, round {round}"
            );
            let Report::Searches(r) = report_over(store, &f, ReportName::Searches, period).await
            else {
                panic!("searches")
            };
            assert_eq!((r.searches, r.zero_results, r.clicked), (3, 1, 1));
            assert_eq!(r.refinements, 1, "since {since}, round {round}");
            let pairs: Vec<_> = r
                .top_refinements
                .iter()
                .map(|p| (p.from.as_str(), p.to.as_str(), p.count, p.ended_in_click))
                .collect();
            assert_eq!(pairs, [("lost card", "stolen card", 1, 1)]);
        }
    }
}

on_both_backends!(
    hour_chunks_count_once: hour_chunks_count_once_on_sqlite,
    hour_chunks_count_once_on_postgres
);
on_both_backends!(reports_are_exact: reports_on_sqlite, reports_on_postgres);

#[tokio::test]
async fn freshness_reads_the_last_change_from_git() {
    let f = help_center();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(f.root())
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !git(&["init", "-q"]) {
        eprintln!("git is not installed; skipping");
        return;
    }
    assert!(git(&["add", "."]));
    assert!(git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-qm",
        "content",
    ]));
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    let Report::Freshness(fr) = report(&store, &f, ReportName::Freshness).await else {
        panic!("freshness")
    };
    assert!(fr.git);
    let changed = fr.stale[0].last_changed.as_deref().expect("a commit time");
    assert!(
        DateTime::parse_from_rfc3339(changed).is_ok(),
        "{changed} is not an ISO time"
    );
}

// ----------------------------------------------------------------------------------------
// HTTP

/// The reports need the admin token.
fn admin_config() -> Config {
    Config {
        admin_token: Some(Secret::new("s3cret-token")),
        ..Config::default()
    }
}

#[tokio::test]
async fn report_api_needs_the_token_and_exports_csv() {
    let f = help_center();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    seed(&store).await;
    let app = TestApp::with_store(&f, admin_config(), store);

    let (status, _, body) = app.get("/api/v1/admin/reports/gaps").await.parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (status, _, _) = app
        .get_with(
            "/api/v1/admin/reports/gaps",
            &[("authorization", "Bearer wrong")],
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _, body) = app
        .admin("GET", "/api/v1/admin/reports/gaps?since=30d", None)
        .await
        .parts();
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["report"], "gaps");
    assert_eq!(v["clusters"][0]["query"], "crypto wallet");
    assert_eq!(v["clusters"][0]["zero_results"], 12);
    assert_eq!(v["metrics"][0]["status"], "warning");

    let (status, headers, body) = app
        .admin(
            "GET",
            "/api/v1/admin/reports/gaps?since=30d&format=csv",
            None,
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "query,variants,zero_results,no_click,sessions,last_seen,closest_article,zero_results_last_7_days,new_article_signal"
        )
    );
    assert!(
        lines
            .next()
            .expect("a row")
            .starts_with("crypto wallet,crypto wallet | cripto wallet,12,0,11,")
    );
    let (_, _, body) = app
        .admin(
            "GET",
            "/api/v1/admin/reports/searches?since=30d&format=csv&table=synonyms",
            None,
        )
        .await
        .parts();
    assert_eq!(body, "line,evidence\ncash machine => atm,1\n");

    for (uri, status, code) in [
        (
            "/api/v1/admin/reports/nope",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/admin/reports/gaps?since=yesterday",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/admin/reports/gaps?since=2999-01-01",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/admin/reports/gaps?format=xml",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/admin/reports/gaps?format=csv&table=x",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let (s, _, body) = app.admin("GET", uri, None).await.parts();
        assert_eq!(s, status, "{uri}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}: {body}"));
        assert_eq!(v["error"]["code"], code, "{uri}");
    }

    // Every report answers in JSON and CSV.
    for name in [
        "gaps",
        "searches",
        "deflection",
        "helpfulness",
        "freshness",
        "coverage",
    ] {
        for format in ["json", "csv"] {
            let uri = format!("/api/v1/admin/reports/{name}?since=30d&format={format}");
            let (s, _, body) = app.admin("GET", &uri, None).await.parts();
            assert_eq!(s, StatusCode::OK, "{uri}: {body}");
        }
    }

    // Described in the OpenAPI document.
    let (_, _, body) = app.get("/api/v1/openapi.json").await.parts();
    assert!(body.contains("/api/v1/admin/reports/{name}"));
}

/// A SQLite store in `dir` with the scenario and a query typed as markup, which the pages
/// must show as text.
async fn seeded_with_xss(dir: &std::path::Path) -> Store {
    let store = Store::open_dir(dir).await.expect("open");
    seed(&store).await;
    store
        .record_events(&[Event::Search(SearchEvent {
            id: "x1".into(),
            session_id: "evil".into(),
            query: XSS.into(),
            normalized: XSS.into(),
            result_count: 0,
            top_slugs: Vec::new(),
            corrected_query: None,
            at: Utc::now() - Duration::minutes(5),
            client: None,
            learned: None,
        })])
        .await
        .expect("event");
    store
}

#[tokio::test]
async fn admin_pages_render_after_login_and_escape_user_text() {
    let f = help_center();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seeded_with_xss(dir.path()).await;
    let app = TestApp::with_store(&f, admin_config(), store);

    // Without the cookie: to the login page.
    let (status, headers, _) = app.get("/admin/reports/gaps").await.parts();
    assert!(status.is_redirection(), "{status}");
    assert!(
        headers[header::LOCATION]
            .to_str()
            .expect("ascii")
            .starts_with("/admin/login")
    );

    // Log in: the cookie opens the pages.
    let (status, headers, _) = app
        .post_form("/admin/login", "token=s3cret-token&next=%2Fadmin")
        .await
        .parts();
    assert!(status.is_redirection(), "{status}");
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("cookie")
        .to_string();
    let page = |uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .expect("request")
    };

    let (status, _, body) = app.send(page("/admin")).await.parts();
    assert_eq!(status, StatusCode::OK, "{body}");
    for needle in [
        "Zero-result rate",
        "Deflection rate",
        "Time to answer",
        "Content freshness",
        "Article coverage",
        "<svg",
        "<polyline class=\"series\"",
        "crypto wallet",
    ] {
        assert!(body.contains(needle), "dashboard lacks {needle}");
    }
    assert!(!body.contains(XSS), "dashboard shows raw user text");

    let (status, _, body) = app.send(page("/admin/reports/gaps")).await.parts();
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    assert!(!body.contains(XSS));
    assert!(body.contains("/api/v1/admin/reports/gaps?format=csv&amp;table=clusters"));

    let (_, _, body) = app
        .send(page("/admin/reports/helpfulness?since=30d"))
        .await
        .parts();
    assert!(
        body.contains("&lt;script&gt;"),
        "the comment is shown, escaped"
    );
    assert!(!body.contains(XSS));

    for name in ["searches", "deflection", "freshness", "coverage"] {
        let (status, _, body) = app
            .send(page(&format!("/admin/reports/{name}")))
            .await
            .parts();
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
    }
    let (status, _, _) = app.send(page("/admin/reports/nope")).await.parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .send(page("/admin/reports/gaps?since=soon"))
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn home_shows_the_most_read_articles() {
    let f = help_center();
    // No store: the featured articles (none here), so no list at all.
    let bare = TestApp::new(&f);
    let (_, _, body) = bare.get("/").await.parts();
    assert!(!body.contains("Popular articles"));

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_dir(dir.path()).await.expect("open");
    seed(&store).await;
    let app = TestApp::with_store(&f, admin_config(), store);
    let (_, _, body) = app.get("/").await.parts();
    let first = body
        .find("My card hasn&#x27;t arrived")
        .or_else(|| body.find("My card hasn't arrived"));
    let second = body.find("How do I change my PIN?");
    assert!(body.contains("Popular articles"), "{body}");
    assert!(
        first.is_some() && second.is_some() && first < second,
        "most read first: {body}"
    );
}

// ----------------------------------------------------------------------------------------
// A real browser: log in, read the dashboard's charts, and see user text as text.

#[tokio::test]
async fn the_dashboard_in_a_real_browser() {
    let Some(chromium) = crate::browser::chromium_for("the dashboard test") else {
        return;
    };
    let f = help_center();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seeded_with_xss(dir.path()).await;
    let app = TestApp::with_store(&f, admin_config(), store);
    let server = app.serve().await;
    let base = server.base();
    let journey = tokio::task::spawn_blocking(move || dashboard_journey(&chromium, &base)).await;
    let _ = server.stop().await;
    match journey {
        Ok(result) => result.expect("the dashboard journey"),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("browser task: {e}"),
    }
}

fn dashboard_journey(chromium: &std::path::Path, base: &str) -> anyhow::Result<()> {
    use anyhow::{Context, bail};
    use serde_json::json;
    let browser = crate::browser::Browser::launch(chromium)?;
    let mut page = browser.page().inspect_err(|_| browser.print_stderr())?;
    page.open(&format!("{base}/admin"))?;
    page.wait_for(
        "the login form",
        "location.pathname === '/admin/login' && document.querySelector('input#token') !== null",
    )?;
    page.evaluate(
        "document.querySelector('input#token').value = 's3cret-token'; \
         document.querySelector('form.login').submit(); true",
    )?;
    let cards = page.wait_for(
        "the dashboard with its charts",
        "location.pathname === '/admin' && document.readyState === 'complete' \
         && document.querySelectorAll('svg polyline.series').length === 2 \
         && document.querySelectorAll('li.metric').length",
    )?;
    if cards.as_u64().unwrap_or(0) < 8 {
        bail!("expected every metric on the dashboard, found {cards}");
    }
    // The chart is drawn: the line has a size on screen.
    let width = page
        .evaluate("document.querySelector('svg polyline.series').getBoundingClientRect().width")?;
    if width.as_f64().unwrap_or(0.0) <= 0.0 {
        bail!("the chart's line is not drawn (width {width})");
    }
    let shots = crate::browser::screenshot_dir();
    std::fs::create_dir_all(&shots).context("screenshot folder")?;
    let path = page.screenshot(&shots.join("admin-dashboard.png"), true)?;
    eprintln!("screenshot: {}", path.display());

    page.call(
        "Page.navigate",
        json!({"url": format!("{base}/admin/reports/gaps")}),
    )?;
    let shown = page.wait_for(
        "the gaps report",
        "location.pathname === '/admin/reports/gaps' && document.readyState === 'complete' \
         && document.querySelector('table.report') !== null && document.body.innerText",
    )?;
    let text = shown.as_str().context("page text")?;
    if !text.contains(XSS) {
        bail!("the recorded query is not shown as text:\n{text}");
    }
    let scripts = page.evaluate("document.querySelectorAll('script').length")?;
    if scripts != json!(0) {
        bail!("the report page has {scripts} script elements: user text became markup");
    }
    let problems = page.console_problems();
    if !problems.is_empty() {
        bail!(
            "the admin pages logged errors:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(())
}
