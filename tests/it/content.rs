//! Loading a content directory: every problem reported with its file and line, warnings that
//! do not block, broken files isolated, and only published articles searchable.

use crate::fixture::{ArticleSrc, Fixture, assert_reported, date, line_of, slugs};

/// The file line where the body starts: the one after the closing `---`.
fn body_first_line(src: &str) -> usize {
    let closing = src
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "---")
        .nth(1)
        .expect("front matter closes")
        .0;
    closing + 2
}

#[test]
fn load_reports_every_problem_with_its_file_and_line() {
    let f = Fixture::new();
    f.ticket_types(&[
        "card_arrival",
        "lost_or_stolen_card",
        "exchange_rate",
        "card_linking",
    ]);
    f.synonyms("atm, cash machine\nlonely\nfoo =>\na,,b\nsend money, transfer\n");
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived").ticket_types(&["card_arrival"]),
    );
    f.article("cards/dup.md", &ArticleSrc::new("First of two"));
    f.article("payments/dup.md", &ArticleSrc::new("Second of two"));

    let mut expected: Vec<String> = vec![
        "payments/dup.md:0: error: duplicate slug `dup`, also used by cards/dup.md".into(),
        "synonyms.txt:2: error: a synonym group needs at least two terms".into(),
        "synonyms.txt:3: error: malformed synonym line: one side of `=>` is empty".into(),
        "synonyms.txt:4: error: malformed synonym line: an empty term between commas".into(),
    ];
    // (file, source, the text on the line the error must point at, the error after `line: `)
    let cases: Vec<(&str, ArticleSrc, &str, String)> = vec![
        (
            "account/missing-title.md",
            ArticleSrc::new("unused").unset("title"),
            "summary:",
            "error: missing required field `title`".into(),
        ),
        (
            "account/empty-summary.md",
            ArticleSrc::new("Empty summary").summary("\"\""),
            "summary:",
            "error: `summary` is empty".into(),
        ),
        (
            "account/bad-date.md",
            ArticleSrc::new("Bad date").set("last_reviewed", "2026-02-30"),
            "last_reviewed:",
            "error: `last_reviewed` `2026-02-30` is not a date".into(),
        ),
        (
            "account/future-date.md",
            ArticleSrc::new("Future date").set("last_reviewed", &date(1)),
            "last_reviewed:",
            format!("error: `last_reviewed` {} is in the future", date(1)),
        ),
        (
            "cards/broken-link.md",
            ArticleSrc::new("Broken link").steps("1. Open the app.\n2. Read [where is my card](/articles/card-arival#steps)."),
            "/articles/card-arival",
            "error: link to article `card-arival` does not exist — did you mean `card-arrival`?".into(),
        ),
        (
            "cards/broken-related.md",
            ArticleSrc::new("Broken related").set("related", "[card-arrival, card-arival]"),
            "related:",
            "error: related article `card-arival` does not exist — did you mean `card-arrival`?".into(),
        ),
        (
            "cards/unknown-type.md",
            ArticleSrc::new("Unknown type").ticket_types(&["card_arival"]),
            "ticket_types:",
            "error: ticket type `card_arival` is not in ticket-types.toml — did you mean `card_arrival`?".into(),
        ),
        (
            "cards/too-many-types.md",
            ArticleSrc::new("Too many types").ticket_types(&[
                "card_arrival",
                "lost_or_stolen_card",
                "exchange_rate",
                "card_linking",
            ]),
            "ticket_types:",
            "error: 4 ticket types listed, at most 3 allowed".into(),
        ),
        (
            "cards/bad-status.md",
            ArticleSrc::new("Bad status").set("status", "live"),
            "status:",
            "error: unknown status `live` — use draft, published or archived".into(),
        ),
    ];
    for (rel, article, on_line, message) in &cases {
        let src = article.render();
        f.file(rel, &src);
        expected.push(format!("{rel}:{}: {message}", line_of(&src, on_line)));
    }
    // Conventions authors bring from elsewhere are warnings, and the article is still served.
    let unknown_key = ArticleSrc::new("Unknown key")
        .set("keywrods", "[card late]")
        .render();
    f.file("account/unknown-key.md", &unknown_key);
    let no_quick_answer = ArticleSrc::new("No quick answer")
        .without_quick_answer()
        .render();
    f.file("cards/no-quick-answer.md", &no_quick_answer);
    let warnings = [
        format!(
            "account/unknown-key.md:{}: warning: unknown front-matter key `keywrods`, ignored — did you mean `keywords`?",
            line_of(&unknown_key, "keywrods:")
        ),
        format!(
            "cards/no-quick-answer.md:{}: warning: missing `## Quick answer` section",
            body_first_line(&no_quick_answer)
        ),
    ];

    let loaded = f.load();
    let report = f.report(&loaded);
    for e in expected.iter().chain(&warnings) {
        assert_reported(&report, e);
    }
    for slug in ["unknown-key", "no-quick-answer"] {
        assert!(
            loaded.kb.articles.iter().any(|a| a.slug == slug),
            "{slug} is served despite its warning"
        );
    }
    let errors: Vec<&String> = report.iter().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(
        errors.len(),
        expected.len(),
        "exactly the expected errors, no others:\n{}",
        report.join("\n")
    );
    assert_eq!(loaded.errors(), expected.len());
    // The two good synonym lines survive the bad ones.
    assert_eq!(loaded.kb.synonyms.len(), 2);
}

#[test]
fn reviews_older_than_180_days_warn_and_the_article_stays_searchable() {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival"]);
    for (slug, days_ago) in [
        ("reviewed-180-days-ago", 180),
        ("reviewed-181-days-ago", 181),
    ] {
        let a = ArticleSrc::new("Parcel tracking")
            .set("last_reviewed", &date(-days_ago))
            .ticket_types(&["card_arrival"])
            .intro("Track the parcel with the courier.");
        f.article(&format!("cards/{slug}.md"), &a);
    }
    let loaded = f.load();
    let report = f.report(&loaded);
    assert_eq!(loaded.errors(), 0, "{report:#?}");
    let src = ArticleSrc::new("x")
        .set("last_reviewed", &date(-181))
        .render();
    assert_reported(
        &report,
        &format!(
            "cards/reviewed-181-days-ago.md:{}: warning: `last_reviewed` {} is 181 days ago (stale after 180)",
            line_of(&src, "last_reviewed:"),
            date(-181)
        ),
    );
    assert!(
        !report
            .iter()
            .any(|l| l.starts_with("cards/reviewed-180-days-ago.md")),
        "{report:#?}"
    );
    let engine = f.engine();
    let mut found = slugs(&engine, "parcel");
    found.sort();
    assert_eq!(found, ["reviewed-180-days-ago", "reviewed-181-days-ago"]);
}

#[test]
fn ticket_types_without_a_published_article_warn_on_their_entry_line() {
    let f = Fixture::new();
    // Entries start on lines 1, 7 and 13.
    f.ticket_types(&["card_arrival", "lost_or_stolen_card", "exchange_rate"]);
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("Card late").ticket_types(&["card_arrival"]),
    );
    let draft = ArticleSrc::new("Lost card")
        .ticket_types(&["lost_or_stolen_card"])
        .set("status", "draft");
    f.article("cards/lost-card.md", &draft);
    let archived = ArticleSrc::new("Rates")
        .ticket_types(&["exchange_rate"])
        .set("status", "archived");
    f.article("currencies/rates.md", &archived);

    let loaded = f.load();
    let report = f.report(&loaded);
    assert_eq!(loaded.errors(), 0, "{report:#?}");
    assert_reported(
        &report,
        "ticket-types.toml:7: warning: ticket type `lost_or_stolen_card` has no published article",
    );
    assert_reported(
        &report,
        "ticket-types.toml:13: warning: ticket type `exchange_rate` has no published article",
    );
    assert!(
        !report.iter().any(|l| l.contains("`card_arrival`")),
        "card_arrival is covered:\n{report:#?}"
    );
}

#[test]
fn a_broken_file_does_not_stop_the_others_loading_or_being_found() {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival"]);
    f.file(
        "cards/aaa-no-front-matter.md",
        "# Where is my parcel?\n\nJust text.\n",
    );
    f.file(
        "cards/bbb-unclosed.md",
        "---\ntitle: Parcel\nsummary: never closed\n",
    );
    f.file(
        "cards/ccc-bad-yaml.md",
        "---\ntitle: [unclosed parcel\nsummary: s\n---\n\n## Quick answer\n\nParcel.\n",
    );
    f.file(
        "cards/ddd-not-utf8.md",
        b"---\ntitle: \xff\xfe parcel\n---\n".as_slice(),
    );
    f.article(
        "cards/eee-good.md",
        &ArticleSrc::new("Parcel delivery").ticket_types(&["card_arrival"]),
    );
    f.article(
        "payments/good-too.md",
        &ArticleSrc::new("Paying for a parcel"),
    );

    let loaded = f.load();
    let report = f.report(&loaded);
    assert_reported(
        &report,
        "cards/aaa-no-front-matter.md:1: error: the file does not start with `---` front matter",
    );
    assert_reported(
        &report,
        "cards/bbb-unclosed.md:1: error: the front matter is not closed by a `---` line",
    );
    assert!(
        report
            .iter()
            .any(|l| l.starts_with("cards/ccc-bad-yaml.md:")
                && l.contains("error: front matter is not valid YAML")),
        "{report:#?}"
    );
    assert_reported(
        &report,
        "cards/ddd-not-utf8.md:0: error: cannot read the file",
    );
    assert_eq!(loaded.errors(), 4, "{report:#?}");
    assert_eq!(loaded.files, 6, "broken files are counted as seen");

    let loaded_slugs: Vec<&str> = loaded.kb.articles.iter().map(|a| a.slug.as_str()).collect();
    assert_eq!(loaded_slugs, ["eee-good", "good-too"]);
    let engine = deflect::search::SearchEngine::build(&loaded.kb).expect("index builds");
    let mut found = slugs(&engine, "parcel");
    found.sort();
    assert_eq!(found, ["eee-good", "good-too"]);
}

#[test]
fn drafts_and_archived_articles_load_but_are_not_searchable() {
    let f = Fixture::new();
    f.ticket_types(&["request_refund"]);
    let published = ArticleSrc::new("Get a refund")
        .ticket_types(&["request_refund"])
        .steps("1. See the [old policy](/articles/refund-policy-old) and the [new one](/articles/refund-policy-draft).");
    f.article("payments/refund.md", &published);
    f.article(
        "payments/refund-policy-draft.md",
        &ArticleSrc::new("Refund policy (new)").set("status", "draft"),
    );
    f.article(
        "payments/refund-policy-old.md",
        &ArticleSrc::new("Refund policy (old)").set("status", "archived"),
    );

    let loaded = f.load();
    let report = f.report(&loaded);
    assert_eq!(loaded.errors(), 0, "{report:#?}");
    assert_eq!(loaded.kb.articles.len(), 3);
    // A published article linking to an unpublished one is a broken page for readers.
    let src = published.render();
    let line = line_of(&src, "/articles/refund-policy-old");
    assert_reported(
        &report,
        &format!(
            "payments/refund.md:{line}: warning: link to article `refund-policy-old` is archived"
        ),
    );
    assert_reported(
        &report,
        &format!(
            "payments/refund.md:{line}: warning: link to article `refund-policy-draft` is draft"
        ),
    );

    let engine = f.engine();
    assert_eq!(engine.articles().len(), 1);
    assert_eq!(slugs(&engine, "refund policy"), ["refund"]);
    assert_eq!(slugs(&engine, "refund"), ["refund"]);
}
