//! The OpenAPI document is generated from the API's route table, so no route can be left out:
//! every `/api/v1` route is declared where the document is made (none by hand elsewhere), and
//! every path and method the document lists is a route the server really answers.

use axum::body::Body;
use axum::http::Request;
use deflect::config::Config;
use serde_json::Value;

use crate::app::TestApp;
use crate::fixture::{ArticleSrc, Fixture};

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_api_route_is_declared_outside_the_documented_table() {
    let mut files = Vec::new();
    rust_files(std::path::Path::new("src/http"), &mut files);
    let mut hand_made = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("read");
        for (i, line) in src.lines().enumerate() {
            let l = line.trim();
            if l.starts_with(".route(\"/api/")
                || l.starts_with(".route(\"/healthz")
                || l.starts_with(".route(\"/readyz")
            {
                hand_made.push(format!("{}:{}: {l}", f.display(), i + 1));
            }
        }
    }
    assert!(
        hand_made.is_empty(),
        "API routes added with .route() are missing from the OpenAPI document; add them with \
         .routes(routes!(handler)) in api_routes():\n{}",
        hand_made.join("\n")
    );
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let f = Fixture::new();
    f.article("a.md", &ArticleSrc::new("How do I change my PIN?"));
    let config = Config {
        admin_token: Some(deflect::secret::Secret::new("tok")),
        ..Config::default()
    };
    let app = TestApp::with_sqlite(&f, config).await;
    let doc: Value = serde_json::from_str(&app.get("/api/v1/openapi.json").await.body)
        .expect("the document is JSON");
    let paths = doc["paths"].as_object().expect("paths");
    for must in [
        "/api/v1/search",
        "/api/v1/autocomplete",
        "/api/v1/articles/{slug}",
        "/api/v1/articles/{slug}/votes",
        "/api/v1/search/{search_id}/clicks",
        "/api/v1/suggest",
        "/api/v1/tickets",
        "/api/v1/admin/tickets/{id}",
        "/api/v1/admin/learning/retrain",
        "/api/v1/admin/reports/{name}",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(must), "{must} is not in the document");
    }
    let mut checked = 0;
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let uri = path
                .replace("{slug}", "a")
                .replace("{name}", "gaps")
                .replace("{search_id}", "s1")
                .replace("{id}", "T-0");
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("authorization", "Bearer tok")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let r = app.send(req).await;
            // A route the router lacks falls to the HTML not-found page or answers 405; a
            // served route answers with its own JSON (errors in the envelope included).
            let html = r
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            assert!(
                r.status != 405 && !(r.status == 404 && html),
                "{} {uri} is documented but not served: {} {}",
                method.to_uppercase(),
                r.status,
                r.body
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} operations documented");
}
