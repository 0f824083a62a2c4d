//! Searching through `SearchEngine::build` + `search`: ranking order, typo guardrails,
//! synonyms, prefixes, snippets, "did you mean", category filters and hostile input.

use std::panic::{AssertUnwindSafe, catch_unwind};

use deflect::search::{DEFAULT_LIMIT, SearchEngine, SearchRequest};

use crate::fixture::{ArticleSrc, Fixture, slugs, slugs_in};

/// Articles identical but for their first paragraph, so only that paragraph decides ranking.
fn engine_with_intros(intros: &[(&str, &str)], synonyms: Option<&str>) -> (Fixture, SearchEngine) {
    let f = Fixture::new();
    f.ticket_types(&[]);
    if let Some(s) = synonyms {
        f.synonyms(s);
    }
    for (slug, intro) in intros {
        f.article(
            &format!("{slug}.md"),
            &ArticleSrc::new("Account note").intro(intro),
        );
    }
    let engine = f.engine();
    (f, engine)
}

/// `(slug, score)` of each result, best first.
fn ranked(engine: &SearchEngine, query: &str) -> Vec<(String, f32)> {
    let results = engine.search(&SearchRequest::new(query));
    results
        .hits
        .iter()
        .map(|h| (h.article.slug.clone(), h.score))
        .collect()
}

fn snippet_of(engine: &SearchEngine, query: &str, slug: &str) -> String {
    let results = engine.search(&SearchRequest::new(query));
    let hit = results.hits.iter().find(|h| h.article.slug == slug);
    hit.unwrap_or_else(|| panic!("`{query}` did not find {slug}"))
        .snippet
        .clone()
}

#[test]
fn exact_beats_stemmed_beats_typo() {
    // Query words: `transfr` (a typo of `transfer`) and `charged`. The stem `charg` and the
    // typo target `transfer` each occur in two articles, so their weights are equal and only
    // the kind of match separates them.
    let (_f, engine) = engine_with_intros(
        &[
            ("exact", "The bank charged me twice last week."),
            ("stemmed", "The bank charges me twice last week."),
            ("typo-a", "The bank transfer went through last week."),
            ("typo-b", "The bank transfers went through last week."),
        ],
        None,
    );
    // The `?` ends the question, so no word is also read as the prefix of a longer one.
    let found = ranked(&engine, "transfr charged?");
    let score = |slug: &str| {
        found
            .iter()
            .find(|(s, _)| s == slug)
            .map(|(_, score)| *score)
    };
    let (exact, stemmed) = (score("exact"), score("stemmed"));
    let (typo_a, typo_b) = (score("typo-a"), score("typo-b"));
    assert!(exact > stemmed, "exact > stemmed: {found:?}");
    assert!(
        stemmed > typo_a && stemmed > typo_b,
        "stemmed > typo: {found:?}"
    );
    assert!(
        typo_a.is_some() && typo_a == typo_b,
        "both typo matches count alike: {found:?}"
    );
}

#[test]
fn typo_budget_depends_on_word_length_and_first_letter() {
    let (_f, engine) = engine_with_intros(
        &[
            ("card", "Your card is on its way."),
            ("refund", "Ask for a refund in the app."),
            ("transfer", "Send a transfer to a friend."),
            ("verification", "Identity verification takes a day."),
            ("receive", "When will I receive my money?"),
            ("reference", "Quote reference 48213907 in the chat."),
        ],
        None,
    );
    // Queries end with a space: a finished word, not one being typed (which is also a prefix).
    let cases: &[(&str, &[&str], &str)] = &[
        ("card ", &["card"], "exact"),
        ("crad ", &[], "no typos under 5 letters"),
        ("rfnd ", &[], "no typos under 5 letters"),
        ("refnd ", &["refund"], "one typo at 5 letters"),
        ("transfr ", &["transfer"], "one typo at 7 letters"),
        ("trnsfr ", &[], "two typos at 6 letters"),
        ("tarnsfer ", &["transfer"], "a transposition is one typo"),
        ("recieve ", &["receive"], "a transposition is one typo"),
        ("trasnfre ", &[], "two transpositions at 8 letters"),
        ("verifcaton ", &["verification"], "two typos from 9 letters"),
        ("verifcatn ", &[], "three typos at 9 letters"),
        (
            "erification ",
            &["verification"],
            "a wrong first letter costs two, allowed from 9 letters",
        ),
        (
            "ransfer ",
            &[],
            "a wrong first letter costs two, too many at 7 letters",
        ),
        (
            "pransfer ",
            &[],
            "a wrong first letter costs two, too many at 8 letters",
        ),
        ("48213907", &["reference"], "numbers match exactly"),
        ("48213908", &[], "no typos on numbers"),
        ("48213970", &[], "no transpositions on numbers"),
    ];
    let mut failures = Vec::new();
    for (query, want, why) in cases {
        let got = slugs(&engine, query);
        if got != *want {
            failures.push(format!("{query:?}: want {want:?}, got {got:?} ({why})"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn synonyms_expand_both_ways_one_way_and_as_phrases_below_the_customers_words() {
    let (_f, engine) = engine_with_intros(
        &[
            ("atm", "The atm kept my card overnight."),
            ("cash-machine", "The cash machine kept my card overnight."),
            ("scattered", "Machine rental costs extra cash overnight."),
            ("lost", "Report a lost card in the app."),
            ("misplaced", "Misplaced receipts are not a problem."),
        ],
        Some("atm, cash machine\nmisplaced => lost\n"),
    );
    // Multi-way, multi-word: `atm` also searches the phrase `cash machine`, not the two words apart.
    let atm = ranked(&engine, "atm");
    let order: Vec<&str> = atm.iter().map(|(slug, _)| slug.as_str()).collect();
    assert_eq!(order, ["atm", "cash-machine"]);
    assert!(
        atm[0].1 > atm[1].1,
        "the customer's own word ranks strictly higher: {atm:?}"
    );
    let cash_machine = slugs(&engine, "cash machine");
    assert_eq!(
        cash_machine.first().map(String::as_str),
        Some("cash-machine"),
        "{cash_machine:?}"
    );
    assert!(
        cash_machine.contains(&"atm".to_string()),
        "the other way too: {cash_machine:?}"
    );
    // One-way: `misplaced` also searches `lost`, but `lost` does not search `misplaced`.
    assert_eq!(slugs(&engine, "misplaced"), ["misplaced", "lost"]);
    assert_eq!(slugs(&engine, "lost"), ["lost"]);
}

#[test]
fn the_last_word_is_also_a_prefix_with_typos_forgiven() {
    let (_f, engine) = engine_with_intros(
        &[
            ("password", "Reset your password from the login screen."),
            ("visitor-pass", "Get a visitor pass at the branch desk."),
            ("withdrawal", "Each withdrawal at an atm is free."),
        ],
        None,
    );
    assert_eq!(
        slugs(&engine, "pass"),
        ["visitor-pass", "password"],
        "the word itself ranks above completions"
    );
    assert_eq!(slugs(&engine, "withdr"), ["withdrawal"]);
    assert_eq!(
        slugs(&engine, "wihtdr"),
        ["withdrawal"],
        "a typo in a 6-letter prefix"
    );
    assert_eq!(slugs(&engine, "forgot my password"), ["password"]);
    // `passw` is one deletion from `pass`, but it is typed as the start of `password`: the
    // completion of what was typed must outrank the typo reading of it.
    let passw = slugs(&engine, "passw");
    assert_eq!(
        passw.first().map(String::as_str),
        Some("password"),
        "{passw:?}"
    );
}

#[test]
fn snippets_mark_typo_and_synonym_matches_and_escape_html() {
    let (_f, engine) = engine_with_intros(
        &[
            ("fees", "You withdraw & pay <fees> at any cash machine."),
            ("other", "Nothing to see here."),
        ],
        Some("atm, cash machine\n"),
    );
    let typo = snippet_of(&engine, "withdarw ", "fees");
    assert!(typo.contains("<mark>withdraw</mark>"), "{typo}");
    assert!(
        typo.contains("<mark>withdraw</mark> &amp; pay &lt;fees&gt; at"),
        "{typo}"
    );
    assert!(!typo.contains("<fees>"), "{typo}");

    let synonym = snippet_of(&engine, "atm", "fees");
    assert!(
        synonym.contains("<mark>cash</mark> <mark>machine</mark>"),
        "{synonym}"
    );
    // Nothing but the marks is markup.
    let unmarked = synonym.replace("<mark>", "").replace("</mark>", "");
    assert!(!unmarked.contains(['<', '>']), "{synonym}");
}

#[test]
fn a_misspelled_query_gets_a_did_you_mean() {
    let (_f, engine) = engine_with_intros(
        &[
            (
                "international-transfer",
                "Send an international transfer in euros.",
            ),
            ("card", "Your card is on its way."),
        ],
        None,
    );
    let results = engine.search(&SearchRequest::new("internatonal transfr"));
    assert_eq!(
        results.corrected_query.as_deref(),
        Some("international transfer")
    );
    assert_eq!(
        results.hits.first().map(|h| h.article.slug.as_str()),
        Some("international-transfer")
    );
    let results = engine.search(&SearchRequest::new("international transfer"));
    assert_eq!(results.corrected_query, None);
}

#[test]
fn the_category_filter_includes_nested_categories() {
    let f = Fixture::new();
    f.ticket_types(&[]);
    for rel in [
        "cards/card-arrival.md",
        "cards/virtual/virtual-card.md",
        "payments/card-payment.md",
        "card-faq.md",
    ] {
        f.article(rel, &ArticleSrc::new("About your card"));
    }
    let engine = f.engine();
    let sorted = |category: Option<&str>| {
        let mut s = slugs_in(&engine, "card", category);
        s.sort();
        s
    };
    let cases: &[(Option<&str>, &[&str])] = &[
        (
            None,
            &["card-arrival", "card-faq", "card-payment", "virtual-card"],
        ),
        (
            Some(""),
            &["card-arrival", "card-faq", "card-payment", "virtual-card"],
        ),
        (Some("cards"), &["card-arrival", "virtual-card"]),
        (Some("cards/virtual"), &["virtual-card"]),
        (Some("payments"), &["card-payment"]),
        (Some("virtual"), &[]),
        (Some("no-such-category"), &[]),
    ];
    for (category, want) in cases {
        assert_eq!(sorted(*category), *want, "category {category:?}");
    }
}

#[test]
fn hostile_queries_never_panic_and_never_leak_markup() {
    let (_f, engine) = engine_with_intros(
        &[
            ("password", "Reset your password from the login screen."),
            (
                "alerts",
                "Never paste <script>alert(1)</script> into the chat: we alert you by email.",
            ),
            (
                "tables",
                "Download a table of your articles and statements.",
            ),
        ],
        None,
    );
    let ten_kb = "how do I reset my password ".repeat(400);
    let long_word = "a".repeat(5_000);
    let queries: Vec<(&str, &str)> = vec![
        ("empty", ""),
        ("blank", "   \t \n "),
        ("10 KB of text", ten_kb.as_str()),
        ("punctuation", "?!.,;:-_()[]{}<>/\\|@#$%^&*~`'\""),
        ("emoji", "💳🏧 😡😡 👍🏽"),
        ("query syntax", "AND OR NOT ( \" *"),
        ("SQL injection", "'; DROP TABLE articles; --"),
        ("HTML", "<script>alert(1)</script>"),
        ("long word", long_word.as_str()),
        (
            "combining characters",
            "pa\u{0301}ssword Z\u{0351}\u{0357}a\u{0334}\u{0327}l\u{0337}g\u{0335}o\u{0336}",
        ),
        (
            "right-to-left and zero-width",
            "\u{202e}drowssap\u{200b}\u{feff}",
        ),
    ];
    let mut failures = Vec::new();
    for (name, query) in &queries {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            engine.search(&SearchRequest::new(query))
        }));
        let Ok(results) = outcome else {
            failures.push(format!("{name}: panicked"));
            continue;
        };
        if results.hits.len() > DEFAULT_LIMIT || results.total < results.hits.len() {
            failures.push(format!(
                "{name}: {} hits, total {}",
                results.hits.len(),
                results.total
            ));
        }
        for h in &results.hits {
            let unmarked = h.snippet.replace("<mark>", "").replace("</mark>", "");
            if unmarked.contains(['<', '>']) {
                failures.push(format!("{name}: raw markup in snippet {:?}", h.snippet));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    for blank in ["", "   ", "?!.,;", "💳🏧", long_word.as_str()] {
        let results = engine.search(&SearchRequest::new(blank));
        assert!(
            results.hits.is_empty() && results.total == 0,
            "{blank:?} matched {:?}",
            results.total
        );
    }
    // A long question is clipped, not rejected.
    assert_eq!(
        slugs(&engine, &ten_kb).first().map(String::as_str),
        Some("password")
    );
    let html = snippet_of(&engine, "<script>alert(1)</script>", "alerts");
    assert!(html.contains("<mark>alert</mark>"), "{html}");
    let unmarked = html.replace("<mark>", "").replace("</mark>", "");
    assert!(
        unmarked.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!unmarked.contains('<'), "{html}");
}

#[test]
fn a_synonym_key_absent_from_the_articles_still_expands() {
    // "closest" is not in any article but is one typo from "closes": the synonym must win over
    // the typo correction.
    let (_f, engine) = engine_with_intros(
        &[
            ("nearest-atm", "Find the nearest cash point in the map."),
            ("branch-hours", "The branch closes at five."),
        ],
        Some("closest => nearest\n"),
    );
    let found = slugs(&engine, "closest");
    assert_eq!(
        found.first().map(String::as_str),
        Some("nearest-atm"),
        "{found:?}"
    );
}

/// Contractions typed without the apostrophe are the apostrophe form's words — in queries and
/// in articles — and walking the text by their ranges (corrections, snippets) never panics.
#[test]
fn contractions_without_apostrophes_find_and_highlight() {
    let f = Fixture::new();
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived")
            .steps("If you don't have it after a week, whats next? Im sure we cant wait."),
    );
    f.article(
        "transfers/transfer.md",
        &ArticleSrc::new("Transfer arrived late").steps("Transfers usually arrive within a day."),
    );
    let engine = f.engine();
    assert_eq!(slugs(&engine, "my card hasnt arrived")[0], "card-arrival");
    for q in [
        "I cant pove who I am",
        "whats this song",
        "dont cant wont im",
        "hasnt",
    ] {
        let r = catch_unwind(AssertUnwindSafe(|| engine.search(&SearchRequest::new(q))));
        assert!(r.is_ok(), "searching {q:?} panicked");
    }
    // "dont" finds what authors wrote as "don't".
    let s = snippet_of(&engine, "dont have it after a week", "card-arrival");
    assert!(s.contains("<mark>don</mark>"), "{s}");
    // An article's own "whats", "Im" and "cant" snippet without losing text.
    let s = snippet_of(&engine, "week wait", "card-arrival");
    assert!(s.contains("whats next? Im sure we cant"), "{s}");
}
