//! `deflect import` on small exports in each source system's real response shapes
//! (`tests/fixtures/import/`): the content written, what `deflect check` says of it, the old
//! URLs answering 301 through the router, determinism, never overwriting, and clear errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::{StatusCode, header};
use deflect::import::{Options, Summary, System};

use crate::app::TestApp;
use crate::fixture::{Fixture, today};

fn fixtures(system: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(system)
}

/// Imports into the fixture's directory; the checklist goes to `notes`.
fn import(system: System, from: &Path, f: &Fixture, notes: &Path) -> anyhow::Result<Summary> {
    let options = Options {
        out: f.root().to_path_buf(),
        force: false,
        today: today(),
        checklist: Some(notes.join("checklist.md")),
    };
    deflect::import::run(system, from, &options, &mut |_, _| {})
}

fn read(f: &Fixture, rel: &str) -> String {
    std::fs::read_to_string(f.root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("inside")
                .display()
                .to_string();
            (rel, std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

#[tokio::test]
async fn zendesk_export_becomes_checked_content_and_old_urls_redirect() {
    let f = Fixture::new();
    // Labels naming a ticket type of the output's taxonomy become the article's ticket types.
    f.ticket_types(&["card_arrival"]);
    let notes = tempfile::tempdir().expect("tempdir");
    let summary = import(System::Zendesk, &fixtures("zendesk"), &f, notes.path()).expect("imports");
    assert_eq!((summary.articles, summary.drafts), (3, 1));
    assert_eq!(summary.categories, 4, "2 categories, 2 sections");
    assert_eq!(
        summary.redirects, 7,
        "3 articles + 4 category and section pages"
    );
    assert_eq!(summary.links_rewritten, 2);
    assert_eq!(summary.check_errors(), 0);

    let card = read(&f, "cards/card-delivery/where-is-my-card.md");
    for expected in [
        "title: \"Where is my card?\"",
        "last_reviewed: 2024-05-14",
        "ticket_types: [\"card_arrival\"]",
        "keywords: [\"card delivery\", \"card not arrived\"]",
        "featured: true",
        "aliases: [\"/hc/en-us/articles/360012345-Where-is-my-card\"]",
        "locale en-us, 10 of 12 votes helpful",
        "## Track your card",
        "1. Open the app.",
        "   - Express: 1–2 days",
        "| UK      | 3–5 days      |",
        "![The tracking screen](https://acme.zendesk.com/hc/article_attachments/360099/track.png)",
        "[Reset your PIN](/articles/reset-your-pin)",
        "[▶ How delivery works](https://www.youtube.com/embed/abc123)",
    ] {
        assert!(card.contains(expected), "missing {expected:?} in\n{card}");
    }
    for gone in ["<script", "alert(", "javascript:", "<iframe"] {
        assert!(
            !card.to_lowercase().contains(gone),
            "{gone} survived:\n{card}"
        );
    }
    let pin = read(&f, "account-security/passwords-and-pins/reset-your-pin.md");
    assert!(
        pin.contains("status: draft") && pin.contains("```\nSettings > Security > PIN\n```"),
        "{pin}"
    );
    assert!(
        !pin.contains("## Reset your PIN"),
        "the heading repeating the title is dropped:\n{pin}"
    );
    assert!(!pin.contains("color: red"), "{pin}");

    let checklist = std::fs::read_to_string(notes.path().join("checklist.md")).expect("checklist");
    for expected in [
        "- [ ] `cards/card-delivery/where-is-my-card.md` — Where is my card? (source article 360012345)",
        "links to old articles that were not exported, left as they were: </hc/en-us/articles/360099999-Old-article>",
        "removed `<script>`",
        "1 embedded video(s)",
        "add `## Quick answer`",
    ] {
        assert!(
            checklist.contains(expected),
            "missing {expected:?} in\n{checklist}"
        );
    }
    assert!(
        !f.root().join("checklist.md").exists(),
        "the checklist is never inside the content"
    );

    let loaded = f.load();
    assert_eq!(loaded.errors(), 0, "{:#?}", f.report(&loaded));
    let app = TestApp::new(&f);
    for (old, new) in [
        (
            "/hc/en-us/articles/360012345-Where-is-my-card",
            "/articles/where-is-my-card",
        ),
        ("/hc/fr/articles/360012347", "/articles/freeze-a-lost-card"),
        (
            "/hc/en-us/sections/360001001-Card-delivery",
            "/categories/cards/card-delivery",
        ),
        ("/hc/en-us/categories/360000111-Cards", "/categories/cards"),
    ] {
        let res = app.get(old).await;
        assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY, "{old}");
        assert_eq!(res.headers[header::LOCATION], new, "{old}");
        let page = app.get(new).await;
        assert_eq!(page.status, StatusCode::OK, "{new}");
    }
    let page = app.get("/articles/where-is-my-card").await.body;
    assert!(
        page.contains("<table>") && page.contains("<li>Express: 1–2 days</li>"),
        "{page}"
    );
}

#[test]
fn imports_are_deterministic_and_never_overwrite_unless_forced() {
    let notes = tempfile::tempdir().expect("tempdir");
    let (a, b) = (Fixture::new(), Fixture::new());
    import(System::Zendesk, &fixtures("zendesk"), &a, notes.path()).expect("first");
    import(System::Zendesk, &fixtures("zendesk"), &b, notes.path()).expect("second");
    assert_eq!(tree(a.root()), tree(b.root()), "same export, same files");

    let path = a.root().join("cards/card-delivery/where-is-my-card.md");
    std::fs::write(&path, "edited by an author").expect("edit");
    let err = import(System::Zendesk, &fixtures("zendesk"), &a, notes.path())
        .expect_err("refuses to overwrite")
        .to_string();
    assert!(
        err.contains("exist already")
            && err.contains("--force")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "edited by an author"
    );

    let forced = Options {
        out: a.root().to_path_buf(),
        force: true,
        today: today(),
        checklist: Some(notes.path().join("c.md")),
    };
    deflect::import::run(
        System::Zendesk,
        &fixtures("zendesk"),
        &forced,
        &mut |_, _| {},
    )
    .expect("forced");
    assert_eq!(tree(a.root()), tree(b.root()));
}

#[test]
fn helpscout_and_intercom_exports() {
    let notes = tempfile::tempdir().expect("tempdir");
    let f = Fixture::new();
    let s =
        import(System::Helpscout, &fixtures("helpscout"), &f, notes.path()).expect("help scout");
    assert_eq!((s.articles, s.drafts), (2, 1));
    assert_eq!(s.skipped.len(), 1, "{:?}", s.skipped);
    let skipped = s.skipped[0].to_string();
    assert!(
        skipped.contains("articles-5214c77c45667acd25394b51.json: article 521509f145667acd25394b5f: listed without its text"),
        "{skipped}"
    );
    let card = read(&f, "help/billing/update-your-card.md");
    assert!(
        card.contains("[Download your invoices](/articles/download-invoices)"),
        "{card}"
    );
    assert!(
        card.contains("aliases: [\"/article/121-update-your-card\"]"),
        "{card}"
    );
    assert!(
        card.contains("keywords: [\"credit card\", \"payment method\"]"),
        "{card}"
    );
    for gone in ["onclick", "onerror", "steal()"] {
        assert!(!card.contains(gone), "{gone} survived:\n{card}");
    }
    assert!(read(&f, "help/billing/download-invoices.md").contains("status: draft"));
    assert_eq!(f.load().errors(), 0);

    let f = Fixture::new();
    let s = import(System::Intercom, &fixtures("intercom"), &f, notes.path()).expect("intercom");
    assert_eq!((s.articles, s.drafts, s.links_rewritten), (2, 1, 1));
    let team = read(&f, "getting-started/invite-your-team.md");
    assert!(
        team.contains("summary: \"Add teammates so they can answer customers.\""),
        "{team}"
    );
    assert!(team.contains("last_reviewed: 2024-05-01"), "{team}");
    assert!(
        team.contains("[Set up two-factor sign-in](/articles/set-up-two-factor-sign-in)"),
        "{team}"
    );
    assert!(
        team.contains("[▶ Video](https://www.loom.com/embed/xyz)"),
        "{team}"
    );
    assert_eq!(f.load().errors(), 0);
}

#[test]
fn markdown_docs_site_front_matter_is_mapped_and_odd_lines_reported() {
    let notes = tempfile::tempdir().expect("tempdir");
    let f = Fixture::new();
    let s = import(System::Markdown, &fixtures("markdown"), &f, notes.path()).expect("docs");
    assert_eq!((s.articles, s.drafts, s.redirects), (4, 1, 2));
    let install = read(&f, "getting-started/install.md");
    for expected in [
        "summary: \"Download the app and sign in for the first time.\"",
        "last_reviewed: 2024-04-10",
        "order: 1",
        "[billing basics](/articles/basics#plans)",
    ] {
        assert!(
            install.contains(expected),
            "missing {expected:?} in\n{install}"
        );
    }
    let basics = read(&f, "billing/basics.md");
    assert!(
        basics.contains("aliases: [\"/billing/old-basics\"]") && basics.contains("order: 10"),
        "{basics}"
    );
    let refunds = read(&f, "billing/refunds.md");
    assert!(
        refunds.contains("status: draft") && refunds.contains("aliases: [\"/faq/refunds.html\"]"),
        "{refunds}"
    );
    let sign_in = read(&f, "getting-started/sign-in.md");
    assert!(
        sign_in.contains("summary: \"Sign in with your email and the code we send you.\""),
        "{sign_in}"
    );
    assert!(
        sign_in.contains("import Tabs from '@theme/Tabs';"),
        "kept as text:\n{sign_in}"
    );
    let checklist = std::fs::read_to_string(notes.path().join("checklist.md")).expect("checklist");
    assert!(
        checklist.contains("line 7 `import Tabs from '@theme/Tabs';`"),
        "{checklist}"
    );
    assert!(checklist.contains("line 15 `:::tip`"), "{checklist}");
    let loaded = f.load();
    assert_eq!(loaded.errors(), 0, "{:#?}", f.report(&loaded));
    assert!(loaded.kb.redirects.lookup("/faq/refunds.html").is_some());
}

#[test]
fn broken_exports_name_the_file_and_the_article() {
    let notes = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("articles.json"),
        "{\"articles\": [{\"id\": 1,",
    )
    .expect("write");
    let f = Fixture::new();
    let err = import(System::Zendesk, dir.path(), &f, notes.path())
        .expect_err("bad JSON")
        .to_string();
    assert!(
        err.contains("articles.json:1:") && err.contains("not valid JSON"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(f.root()).expect("dir").next().is_none(),
        "nothing written"
    );

    std::fs::write(
        dir.path().join("articles.json"),
        r#"{"articles": [{"id": 7, "title": "  ", "body": "<p>x</p>"}, {"title": "No id"}, {"id": 8, "title": "Fine", "body": 42}, {"id": 9, "title": "Good", "body": null}], "next_page": null}"#,
    )
    .expect("write");
    let s = import(System::Zendesk, dir.path(), &f, notes.path()).expect("imports the rest");
    assert_eq!(s.articles, 1);
    let skipped: Vec<String> = s.skipped.iter().map(ToString::to_string).collect();
    assert!(skipped[0].ends_with("articles.json: article 7: no `title`: give the article a title in Zendesk and export it again"), "{skipped:?}");
    assert!(
        skipped[1].ends_with("articles.json: article at position 2: no `id`"),
        "{skipped:?}"
    );
    assert!(
        skipped[2].ends_with("articles.json: article 8: `body` is not text"),
        "{skipped:?}"
    );
    let missing =
        import(System::Zendesk, &dir.path().join("nope"), &f, notes.path()).expect_err("missing");
    assert!(missing.to_string().contains("not found"), "{missing}");
}

#[test]
fn the_command_prints_a_summary_and_writes_the_checklist_beside_the_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("help");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_deflect"))
        .args(["import", "zendesk"])
        .arg(fixtures("zendesk"))
        .arg("--out")
        .arg(&out)
        .env_remove("RUST_LOG")
        .output()
        .expect("run deflect import");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("imported 3 articles (1 drafts) from Zendesk Guide into ")
            && first.contains(
                ": 4 categories, 7 redirects, 2 internal links rewritten, 4 files written in "
            ),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("needs attention: no summary 3, no Quick answer 3, broken internal links 1"),
        "{stdout}"
    );
    let checklist = dir.path().join("help-import-checklist.md");
    assert!(
        stdout.contains(&format!("checklist: {}", checklist.display())),
        "{stdout}"
    );
    assert!(
        std::fs::read_to_string(&checklist)
            .expect("checklist")
            .starts_with("# Import from Zendesk Guide — checklist")
    );

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_deflect"))
        .args(["import", "zendesk"])
        .arg(fixtures("zendesk"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run deflect import again");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exist already"));
}
