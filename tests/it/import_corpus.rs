//! A real-sized Zendesk export (`tests/fixtures/import/zendesk_export.rs`, from the sample
//! help center and the benchmarks' generated one): it imports with no `deflect check` errors,
//! every old URL redirects to the article with the same title, and search on the imported
//! sample is as good as on the hand-written one (within 2 points on BANKING77 questions).

#[path = "../../benches/corpus/mod.rs"]
mod corpus;
#[path = "../fixtures/import/zendesk_export.rs"]
mod zendesk_export;

use std::collections::HashMap;
use std::path::Path;

use axum::http::{StatusCode, header};
use deflect::content::redirects::Target;
use deflect::content::{KnowledgeBase, SYNONYMS_FILE, TICKET_TYPES_FILE};
use deflect::eval::{Scores, evaluate, read_questions};
use deflect::import::{Options, System};
use deflect::search::{SearchEngine, SearchRequest};

use crate::app::TestApp;
use crate::fixture::{Fixture, today};

/// Exports `kb` (loaded from `content`) as Zendesk would and imports it into `f` (with the
/// taxonomy and synonyms copied from `content` first, as an adopter would).
fn export_and_import(kb: &KnowledgeBase, content: &Path, f: &Fixture) -> zendesk_export::Written {
    let export = tempfile::tempdir().expect("tempdir");
    let written = zendesk_export::write(kb, content, export.path(), 100).expect("export written");
    for name in [TICKET_TYPES_FILE, SYNONYMS_FILE] {
        std::fs::copy(content.join(name), f.root().join(name)).expect("copy");
    }
    let notes = tempfile::tempdir().expect("tempdir");
    let options = Options {
        out: f.root().to_path_buf(),
        force: false,
        today: today(),
        checklist: Some(notes.path().join("checklist.md")),
    };
    let summary = deflect::import::run(System::Zendesk, export.path(), &options, &mut |_, _| {})
        .expect("imports");
    assert_eq!(summary.articles, written.articles);
    assert_eq!(summary.check_errors(), 0, "{}", summary.checklist());
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    written
}

#[tokio::test]
async fn a_320_article_export_imports_without_errors_and_every_old_url_redirects() {
    let native = tempfile::tempdir().expect("tempdir");
    corpus::generate(&corpus::sample_dir(), 320, 7)
        .write_to(native.path())
        .expect("corpus written");
    let kb = corpus::load(native.path());
    let f = Fixture::new();
    let written = export_and_import(&kb, native.path(), &f);
    assert!(written.articles >= 300 && written.pages >= 4);

    let loaded = f.load();
    assert_eq!(
        loaded.errors(),
        0,
        "{:#?}",
        f.report(&loaded).iter().take(10).collect::<Vec<_>>()
    );
    let native_titles: HashMap<&str, &str> = kb
        .articles
        .iter()
        .map(|a| (a.slug.as_str(), a.front.title.as_str()))
        .collect();
    let imported_titles: HashMap<&str, &str> = loaded
        .kb
        .articles
        .iter()
        .map(|a| (a.slug.as_str(), a.front.title.as_str()))
        .collect();
    for (old, native_slug) in &written.old_urls {
        let path = old.strip_prefix(zendesk_export::BASE).expect("absolute");
        let Some(Target::Moved { to }) = loaded.kb.redirects.lookup(path) else {
            panic!("{old} does not redirect");
        };
        let slug = to.strip_prefix("/articles/").expect("to an article");
        assert_eq!(
            imported_titles.get(slug),
            native_titles.get(native_slug.as_str()),
            "{old} → {to}"
        );
    }
    let published = kb.published().count();
    assert_eq!(loaded.kb.published().count(), published);

    let app = TestApp::new(&f);
    for (old, _) in written.old_urls.iter().step_by(40) {
        let path = old.strip_prefix(zendesk_export::BASE).expect("absolute");
        let res = app.get(path).await;
        assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY, "{path}");
        let to = res.headers[header::LOCATION]
            .to_str()
            .expect("ascii")
            .to_string();
        let page = app.get(&to).await;
        assert!(
            matches!(page.status, StatusCode::OK | StatusCode::NOT_FOUND),
            "{to}"
        );
        if page.status == StatusCode::OK {
            assert!(
                !page.body.contains("zE('webWidget'"),
                "the tracking script is gone"
            );
        }
    }
}

/// Top-1 and top-3 of the engine over `kb` on `questions`.
fn scores(kb: &KnowledgeBase, questions: &[deflect::eval::Question]) -> Scores {
    let engine = SearchEngine::build(kb).expect("index");
    evaluate(questions, |q| {
        engine
            .search(&SearchRequest {
                query: q,
                limit: 10,
                category: None,
            })
            .hits
            .iter()
            .map(|h| h.article.front.ticket_types.clone())
            .collect()
    })
}

#[test]
fn search_on_the_imported_sample_is_within_two_points_of_the_native_one() {
    let sample = corpus::sample_dir();
    let native = KnowledgeBase::load(&sample, today()).expect("sample loads");
    let f = Fixture::new();
    export_and_import(&native.kb, &sample, &f);
    let imported = f.load();
    assert_eq!(imported.errors(), 0);

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/banking77_train.csv");
    // Every 10th question: 1,000 of them, all 77 ticket types.
    let questions: Vec<_> = read_questions(&data)
        .expect("questions")
        .into_iter()
        .step_by(10)
        .collect();
    let (a, b) = (
        scores(&native.kb, &questions),
        scores(&imported.kb, &questions),
    );
    let points = |x: f64, y: f64| (100.0 * (x - y)).abs();
    assert!(
        points(a.top1_rate(), b.top1_rate()) <= 2.0 && points(a.top3_rate(), b.top3_rate()) <= 2.0,
        "native top-1 {:.1} % top-3 {:.1} %, imported top-1 {:.1} % top-3 {:.1} %",
        100.0 * a.top1_rate(),
        100.0 * a.top3_rate(),
        100.0 * b.top1_rate(),
        100.0 * b.top3_rate()
    );
}
