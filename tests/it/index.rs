//! The search index on disk: reused at start when the content is unchanged, updated one
//! article at a time, rebuilt when damaged; and the two-stage ranking that large help centers
//! use, held to the exhaustive ranking's results on the sample content.

use std::path::Path;

use deflect::content::KnowledgeBase;
use deflect::search::{SearchEngine, SearchError, SearchRequest, Stages};
use deflect::site::{IndexAt, Site};

use crate::fixture::{ArticleSrc, Fixture, slugs, today};

/// The help center, and a fresh data directory (kept while the test runs) for its index.
fn help_center_with_index_dir() -> (Fixture, tempfile::TempDir, std::path::PathBuf) {
    let data = tempfile::tempdir().expect("temp dir");
    let index = data.path().join("index");
    (help_center(), data, index)
}

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.article(
        "cards/card-not-arrived.md",
        &ArticleSrc::new("My card hasn't arrived").intro("Delivery takes five working days."),
    )
    .article(
        "cards/freeze-card.md",
        &ArticleSrc::new("Freeze a lost card").intro("Freezing stops every payment at once."),
    )
    .article(
        "transfers/transfer-limits.md",
        &ArticleSrc::new("Transfer limits").intro("Limits reset every morning."),
    );
    f
}

/// `freeze-card` edited (it now mentions "contactless") and `replace-card` added.
fn edit_one_add_one(f: &Fixture) {
    f.article(
        "cards/freeze-card.md",
        &ArticleSrc::new("Freeze a lost card").intro("Freezing blocks contactless payments."),
    )
    .article(
        "cards/replace-card.md",
        &ArticleSrc::new("Replace a damaged card").intro("Order a replacement in the app."),
    );
}

fn open(f: &Fixture, index: &Path) -> (SearchEngine, deflect::search::SyncReport) {
    let loaded = KnowledgeBase::load(f.root(), today()).expect("loads");
    SearchEngine::open(&loaded.kb, index).expect("the index opens")
}

/// Opens the index again and holds it to reusing each of its `n` articles as it is.
fn reopened_unchanged(f: &Fixture, index: &Path, n: usize) -> SearchEngine {
    let (engine, again) = open(f, index);
    assert!(!again.rebuilt, "{again:?}");
    assert_eq!((again.changed(), again.unchanged), (0, n), "{again:?}");
    engine
}

/// The help center as `deflect serve` loads it, its index on disk in `index`.
fn served(f: &Fixture, index: &Path) -> (Site, deflect::site::ReloadReport) {
    Site::load_at(f.root(), today(), None, IndexAt::Disk(index)).expect("the site loads")
}

#[test]
fn an_unchanged_help_center_reuses_its_index_and_a_changed_one_reindexes_only_the_change() {
    let (f, _data, index) = help_center_with_index_dir();

    let (engine, first) = open(&f, &index);
    assert!(first.rebuilt, "{first:?}");
    assert_eq!((first.added, first.unchanged), (3, 0), "{first:?}");
    assert_eq!(slugs(&engine, "freeze")[0], "freeze-card");
    drop(engine);

    let engine = reopened_unchanged(&f, &index, 3);
    assert_eq!(slugs(&engine, "freeze")[0], "freeze-card");
    assert_eq!(slugs(&engine, "delivery")[0], "card-not-arrived");
    drop(engine);

    // Edited, added and deleted while the server was down: exactly those change.
    edit_one_add_one(&f);
    std::fs::remove_file(f.root().join("transfers/transfer-limits.md")).expect("delete");
    let (engine, after) = open(&f, &index);
    assert!(!after.rebuilt, "{after:?}");
    assert_eq!(
        (after.added, after.updated, after.removed, after.unchanged),
        (1, 1, 1, 1),
        "{after:?}"
    );
    assert_eq!(slugs(&engine, "contactless")[0], "freeze-card");
    assert!(slugs(&engine, "once").is_empty(), "the old text is gone");
    assert_eq!(slugs(&engine, "replacement")[0], "replace-card");
    assert!(
        slugs(&engine, "limits reset").is_empty(),
        "the deleted article is gone"
    );
}

#[test]
fn a_damaged_index_is_rebuilt_from_the_content() {
    let (f, _data, index) = help_center_with_index_dir();
    drop(open(&f, &index));

    // A manifest that is not JSON.
    std::fs::write(index.join("deflect-index.json"), "{ not json").expect("write");
    let (engine, report) = open(&f, &index);
    assert!(report.rebuilt, "{report:?}");
    assert_eq!(slugs(&engine, "freeze")[0], "freeze-card");
    drop(engine);

    // The index's own files damaged: every segment file truncated.
    for entry in std::fs::read_dir(&index).expect("list") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "meta.json" {
            std::fs::write(&path, "garbage").expect("damage");
        }
    }
    let (engine, report) = open(&f, &index);
    assert!(report.rebuilt, "{report:?}");
    assert_eq!(report.added, 3, "{report:?}");
    assert_eq!(slugs(&engine, "delivery")[0], "card-not-arrived");
    drop(engine);

    // A manifest that disagrees with the index (an article it does not hold).
    let manifest = std::fs::read_to_string(index.join("deflect-index.json")).expect("read");
    let value: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    let mut value = value;
    value["articles"]["ghost"] = serde_json::json!("0000000000000001");
    std::fs::write(index.join("deflect-index.json"), value.to_string()).expect("write");
    let (engine, report) = open(&f, &index);
    assert!(report.rebuilt, "{report:?}");
    assert_eq!(slugs(&engine, "freeze")[0], "freeze-card");
}

#[test]
fn an_index_in_use_by_another_process_is_not_touched_and_the_site_indexes_in_memory() {
    let (f, _data, index) = help_center_with_index_dir();
    let (holder, _) = open(&f, &index);
    let loaded = KnowledgeBase::load(f.root(), today()).expect("loads");
    assert!(matches!(
        SearchEngine::open(&loaded.kb, &index),
        Err(SearchError::Locked(_))
    ));
    let (site, report) = served(&f, &index);
    assert_eq!(report.articles, 3);
    assert!(site.engine.index_dir().is_none(), "in memory");
    assert_eq!(slugs(&site.engine, "freeze")[0], "freeze-card");
    // The holder's index is intact.
    assert_eq!(slugs(&holder, "delivery")[0], "card-not-arrived");
}

#[test]
fn a_reload_reindexes_one_edited_article_and_old_searches_keep_their_version() {
    let (f, _data, index) = help_center_with_index_dir();
    let (before, _) = served(&f, &index);
    f.article(
        "transfers/transfer-limits.md",
        &ArticleSrc::new("Transfer limits").intro("Limits reset at midnight."),
    );
    let (after, report) = Site::load(f.root(), today(), Some(&before)).expect("reloads");
    assert_eq!(
        (
            report.index.updated,
            report.index.added,
            report.index.removed
        ),
        (1, 0, 0),
        "{:?}",
        report.index
    );
    assert_eq!(report.index.unchanged, 2);
    assert_eq!(slugs(&after.engine, "midnight")[0], "transfer-limits");
    assert!(slugs(&after.engine, "morning").is_empty());
    // A search holding the previous version still sees it, whole.
    assert_eq!(slugs(&before.engine, "morning")[0], "transfer-limits");
    assert!(slugs(&before.engine, "midnight").is_empty());
    // Unchanged files were not parsed again: the same articles, shared.
    let same = |slug: &str| {
        let a = before.kb.articles.iter().find(|a| a.slug == slug);
        let b = after.kb.articles.iter().find(|a| a.slug == slug);
        matches!((a, b), (Some(a), Some(b)) if std::sync::Arc::ptr_eq(a, b))
    };
    assert!(same("freeze-card") && same("card-not-arrived"));
    assert!(!same("transfer-limits"));
}

#[test]
fn watcher_reloads_in_a_row_add_delete_and_keep_a_broken_article_and_the_manifest_follows() {
    let (f, _data, index) = help_center_with_index_dir();
    let root = f.root().to_path_buf();
    let (mut site, _) = served(&f, &index);
    let mut reload = |changed: &str| {
        let (next, report) =
            Site::load_changed(&root, today(), &site, &[root.join(changed)]).expect("reloads");
        let i = &report.index;
        let counts = (i.added, i.updated, i.removed, i.unchanged);
        let kept = report.kept_last_good.clone();
        site = next;
        let kangaroo = slugs(&site.engine, "kangaroo").len();
        (counts, kept, site.engine.articles().len(), kangaroo)
    };

    // Deleted: gone from the index although every other article is the same as before.
    std::fs::remove_file(root.join("cards/freeze-card.md")).expect("delete");
    assert_eq!(reload("cards/freeze-card.md"), ((0, 0, 1, 2), vec![], 2, 0));
    // Added.
    f.article(
        "cards/replace-card.md",
        &ArticleSrc::new("Replace a damaged card").intro("Tap the kangaroo button."),
    );
    assert_eq!(
        reload("cards/replace-card.md"),
        ((1, 0, 0, 2), vec![], 3, 1)
    );
    // Broken: its last good version stays, indexed and found as it was.
    f.file("cards/replace-card.md", "---\ntitle: [broken\n---\n");
    assert_eq!(
        reload("cards/replace-card.md"),
        ((0, 0, 0, 3), vec!["replace-card".to_string()], 3, 1)
    );
    // Mended with new text, which replaces the old.
    f.article(
        "cards/replace-card.md",
        &ArticleSrc::new("Replace a damaged card").intro("A courier brings the new one."),
    );
    assert_eq!(
        reload("cards/replace-card.md"),
        ((0, 1, 0, 2), vec![], 3, 0)
    );
    // Nothing changed: nothing written.
    assert_eq!(
        reload("cards/replace-card.md"),
        ((0, 0, 0, 3), vec![], 3, 0)
    );
    assert_eq!(slugs(&site.engine, "courier")[0], "replace-card");
    assert!(slugs(&site.engine, "freezing").is_empty());
    drop(site);

    // The manifest written by the last reload names exactly what the index holds.
    let (engine, again) = open(&f, &index);
    assert_eq!((again.changed(), again.unchanged), (0, 3), "{again:?}");
    assert_eq!(slugs(&engine, "courier")[0], "replace-card");
}

#[test]
fn a_reload_whose_index_cannot_be_written_keeps_the_previous_version_and_the_next_one_completes() {
    let (f, _data, index) = help_center_with_index_dir();
    let (before, _) = served(&f, &index);
    // The manifest cannot be written (as on a full disk): a folder where its temporary file
    // goes.
    let blocker = index.join("deflect-index.json.tmp");
    std::fs::create_dir(&blocker).expect("blocker");
    f.article(
        "transfers/transfer-limits.md",
        &ArticleSrc::new("Transfer limits").intro("Limits reset at midnight."),
    );
    let err = Site::load(f.root(), today(), Some(&before))
        .expect_err("the index could not be written")
        .to_string();
    assert!(err.contains("search index"), "{err}");
    assert_eq!(slugs(&before.engine, "morning")[0], "transfer-limits");

    // Once it can be written, the next reload completes what the failed one began.
    std::fs::remove_dir(&blocker).expect("unblock");
    let (after, report) = Site::load(f.root(), today(), Some(&before)).expect("reloads");
    assert!(!report.index.rebuilt, "{:?}", report.index);
    assert_eq!(slugs(&after.engine, "midnight")[0], "transfer-limits");
    assert!(slugs(&after.engine, "morning").is_empty());
    assert_eq!(after.engine.articles().len(), 3);
    drop((before, after));

    // The index and its manifest agree: a restart reuses all of it.
    let engine = reopened_unchanged(&f, &index, 3);
    assert_eq!(slugs(&engine, "midnight")[0], "transfer-limits");
    assert_eq!(
        slugs(&engine, "limits").len(),
        1,
        "one document per article"
    );
}

#[test]
fn a_start_with_too_many_articles_to_index_leaves_the_index_to_a_build_of_its_own() {
    let (f, _data, index) = help_center_with_index_dir();
    drop(served(&f, &index));
    edit_one_add_one(&f);
    // Two of four published articles to index: the caller is told so and nothing is written.
    let told = Site::load_unless(f.root(), today(), IndexAt::Disk(&index), |n, all| {
        assert_eq!((n, all), (2, 4));
        true
    })
    .expect("loads");
    assert_eq!(told.err(), Some(2));
    // The index was released, and still holds what it held: the next start, on disk,
    // indexes exactly those two.
    let (site, report) =
        Site::load_unless(f.root(), today(), IndexAt::DiskOnly(&index), |_, _| false)
            .expect("loads")
            .expect("indexed here");
    assert_eq!(
        (
            report.index.added,
            report.index.updated,
            report.index.unchanged
        ),
        (1, 1, 2),
        "{:?}",
        report.index
    );
    assert_eq!(slugs(&site.engine, "contactless")[0], "freeze-card");
    // In memory there is no build of its own to leave it to.
    let (in_memory, _) = Site::load_unless(f.root(), today(), IndexAt::Memory, |_, _| true)
        .expect("loads")
        .expect("indexed here");
    assert_eq!(in_memory.engine.articles().len(), 4);
}

/// The sample content's engine as it ranks on a small help center (exhaustively), and one
/// ranking in two stages with `stages`.
fn sample_ranked_both_ways(stages: Stages) -> (SearchEngine, SearchEngine) {
    let loaded = KnowledgeBase::load(Path::new("content"), today()).expect("sample loads");
    let exhaustive = SearchEngine::build(&loaded.kb).expect("index");
    let staged = SearchEngine::build(&loaded.kb)
        .expect("index")
        .with_stages(stages);
    (exhaustive, staged)
}

/// A question's stop words count towards the postings that make a search rank in two
/// stages: the full query reads their postings on every match, and on a large help center a
/// word such as "the" is in nearly every article.
#[test]
fn stop_words_count_towards_ranking_in_two_stages() {
    let loaded = KnowledgeBase::load(Path::new("content"), today()).expect("sample loads");
    let mut engine = SearchEngine::build(&loaded.kb).expect("index");
    let at = |engine: SearchEngine, from_postings: u64| {
        engine.with_stages(Stages {
            from_postings,
            ..Stages::default()
        })
    };
    // The lowest bar at which "refund" alone ranks exhaustively: its own postings.
    let (mut low, mut high) = (0u64, 1_000_000u64);
    while low < high {
        let mid = (low + high) / 2;
        engine = at(engine, mid);
        if engine.ranks_in_two_stages("refund") {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    assert!(low > 0, "'refund' is in the sample");
    engine = at(engine, low);
    assert!(!engine.ranks_in_two_stages("refund"));
    assert!(
        engine.ranks_in_two_stages("is the refund"),
        "the stop words' postings did not count"
    );
    let first = |engine: &SearchEngine| {
        let found = engine.search(&SearchRequest::new("is the refund"));
        assert!(found.total > 0, "nothing found");
        found.hits[0].article.slug.clone()
    };
    let staged = first(&engine);
    assert_eq!(
        staged,
        first(&at(engine, u64::MAX)),
        "two stages rank first what the full query ranks first"
    );
}

/// Top results of the sample's labelled training questions, ranked exhaustively and in two
/// stages (forced on, with 40 candidates of the 108 articles, as on a large help center).
#[test]
fn two_stage_ranking_keeps_the_sample_contents_relevance() {
    let (exhaustive, staged) = sample_ranked_both_ways(Stages {
        from_postings: 0,
        candidates: 40,
        ..Stages::default()
    });
    let questions = deflect::eval::read_questions(Path::new("tests/data/banking77_train.csv"))
        .expect("questions");
    let right = |engine: &SearchEngine, text: &str, label: &str| {
        let found = engine.search(&SearchRequest::new(text));
        let first = found.hits.first().map(|h| h.article.slug.clone());
        let ok = found
            .hits
            .first()
            .is_some_and(|h| h.article.front.ticket_types.iter().any(|t| t == label));
        (first, ok, found.total == 0)
    };
    let (mut n, mut agree, mut right_a, mut right_b) = (0u32, 0u32, 0u32, 0u32);
    for q in questions.iter().step_by(5) {
        let (first_a, ok_a, none_a) = right(&exhaustive, &q.text, &q.category);
        let (first_b, ok_b, none_b) = right(&staged, &q.text, &q.category);
        n += 1;
        agree += u32::from(first_a == first_b);
        right_a += u32::from(ok_a);
        right_b += u32::from(ok_b);
        assert_eq!(
            none_a, none_b,
            "zero results are exact either way: {}",
            q.text
        );
    }
    assert!(n > 1500, "{n} questions");
    let pct = |x: u32| 100.0 * f64::from(x) / f64::from(n);
    eprintln!(
        "two stages vs exhaustive on {n} questions: same first result {:.1} %, top-1 {:.1} % vs {:.1} %",
        pct(agree),
        pct(right_b),
        pct(right_a)
    );
    assert!(
        pct(agree) >= 95.0,
        "first results agree on {:.1} %",
        pct(agree)
    );
    assert!(
        pct(right_b) >= pct(right_a) - 0.5,
        "two stages lose relevance: top-1 {:.1} % vs {:.1} %",
        pct(right_b),
        pct(right_a)
    );
}

/// With every article a candidate, the second stage, which scores the query's tree itself,
/// gives each result the score tantivy's query gives it: the same terms, weights, phrases and
/// sums, for typed, misspelled, cut-off and synonym questions alike.
#[test]
fn the_second_stage_scores_every_result_as_the_full_query_does() {
    let (exhaustive, staged) = sample_ranked_both_ways(Stages {
        from_postings: 0,
        candidates: 1_000,
        common_share: 1.0,
        first_stage_terms: 1_000,
        champions: 0,
        stop_words_in_body: Stages::default().stop_words_in_body,
    });
    let questions = deflect::eval::read_questions(Path::new("tests/data/banking77_train.csv"))
        .expect("questions");
    let mut texts: Vec<String> = questions
        .iter()
        .step_by(40)
        .map(|q| q.text.clone())
        .collect();
    texts.extend([
        "how do i chnage my pin".to_string(),
        "cash withdr".to_string(),
        "my atm card was swallowed by the machine".to_string(),
        "top up with apple pay".to_string(),
        // Words sharing stems, and a typo that is another word: terms in several leaves.
        "cards card transfer transfers transferred".to_string(),
        "pin pins payment payments pay paying".to_string(),
        // Synonyms of three words, in some articles' summaries and keywords ("take out
        // cash", "put money in", "rate of exchange"): phrases of three counted there.
        "withdraw cash abroad".to_string(),
        "how do i top up".to_string(),
        "what exchange rate do you use".to_string(),
    ]);
    let mut compared = 0;
    for text in &texts {
        let req = SearchRequest {
            limit: 20,
            ..SearchRequest::new(text)
        };
        let a = exhaustive.search(&req);
        let b = staged.search(&req);
        assert_eq!(a.hits.len(), b.hits.len(), "{text}");
        for (x, y) in a.hits.iter().zip(&b.hits) {
            let close = (x.score - y.score).abs() <= 1e-4 * x.score.abs().max(1.0);
            assert!(
                close,
                "{text}: {} scored {} by the query, {} ({}) by the second stage",
                x.article.slug, x.score, y.article.slug, y.score
            );
            compared += 1;
        }
        let sorted = |r: &deflect::search::SearchResults<'_>| {
            let mut s: Vec<String> = r.hits.iter().map(|h| h.article.slug.clone()).collect();
            s.sort();
            s
        };
        // Equal scores may come in either order; the articles are the same.
        if a.hits.len() < 20 {
            assert_eq!(sorted(&a), sorted(&b), "{text}");
        }
    }
    assert!(compared > 1_000, "{compared} results compared");
}

/// A long question's first stage keeps only its heaviest terms: the rare word that names the
/// article survives the cap, the everyday words around it are what is left to the second stage.
#[test]
fn the_first_stage_keeps_a_long_questions_heaviest_terms() {
    let loaded = KnowledgeBase::load(Path::new("content"), today()).expect("sample loads");
    let question = "hello there I have been wondering for a while now whether my partner and \
                    my friends can get one of those disposable numbers for shopping online";
    let first = |terms: usize| {
        let engine = SearchEngine::build(&loaded.kb)
            .expect("index")
            .with_stages(Stages {
                from_postings: 0,
                candidates: 2,
                first_stage_terms: terms,
                ..Stages::default()
            });
        let found = engine.search(&SearchRequest::new(question));
        found.hits.first().map(|h| h.article.slug.clone())
    };
    for terms in [4, 32] {
        let slug = first(terms).expect("a result");
        assert!(
            slug.contains("disposable"),
            "first stage capped at {terms} terms: first result {slug}"
        );
    }
}

/// The watcher's reload: only the reported files are looked at again (no walk), and the
/// result is what a full load gives; a new folder falls back to the walk.
#[test]
fn a_watcher_reload_reads_only_the_changed_files_and_matches_a_full_load() {
    let f = Fixture::new();
    let root = f.root().to_path_buf();
    f.article(
        "cards/a.md",
        &ArticleSrc::new("Card arrival").steps("Wait for the post."),
    );
    f.article(
        "cards/b.md",
        &ArticleSrc::new("Change your PIN").steps("Use a cash machine."),
    );
    let first = KnowledgeBase::load(&root, today()).expect("loads");
    f.article(
        "cards/a.md",
        &ArticleSrc::new("Card arrival times").steps("Wait five working days for the post."),
    );
    std::fs::remove_file(root.join("cards/b.md")).expect("delete");
    f.article(
        "cards/c.md",
        &ArticleSrc::new("Freeze a card").steps("Tap freeze in the app."),
    );
    // Added between two known files: it takes its place in the walk's order.
    f.article(
        "cards/ab.md",
        &ArticleSrc::new("Activate a card").steps("Tap activate in the app."),
    );
    let changed = [
        root.join("cards/c.md"),
        root.join("cards/a.md"),
        root.join("cards/b.md"),
        root.join("cards/ab.md"),
        root.join("cards/.a.md.swp"),
    ];
    let quick = KnowledgeBase::load_changed(&root, today(), &first.parsed, &changed, &|_| true)
        .expect("loads")
        .expect("files only: no walk needed");
    let full = KnowledgeBase::load(&root, today()).expect("loads");
    let titles = |l: &deflect::content::Loaded| {
        l.kb.articles
            .iter()
            .map(|a| (a.slug.clone(), a.front.title.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&quick), titles(&full));
    assert_eq!(
        titles(&quick),
        vec![
            ("a".to_string(), "Card arrival times".to_string()),
            ("ab".to_string(), "Activate a card".to_string()),
            ("c".to_string(), "Freeze a card".to_string())
        ]
    );
    // A file the watcher did not report is not seen: there was no walk.
    f.article("cards/d.md", &ArticleSrc::new("Unreported").steps("x"));
    let again = KnowledgeBase::load_changed(&root, today(), &quick.parsed, &[], &|_| true)
        .expect("loads")
        .expect("nothing to walk");
    assert_eq!(again.kb.articles.len(), 3);
    // A new folder needs the walk.
    f.article("faq/e.md", &ArticleSrc::new("A new folder").steps("x"));
    assert!(
        KnowledgeBase::load_changed(&root, today(), &quick.parsed, &[root.join("faq")], &|_| {
            true
        })
        .expect("loads")
        .is_none()
    );
}

/// The first result's snippet for a query.
fn snippet(engine: &SearchEngine, query: &str) -> String {
    let found = engine.search(&SearchRequest::new(query));
    found
        .hits
        .first()
        .map(|h| h.snippet.clone())
        .unwrap_or_default()
}

/// Whether no published article of the site holds its body text in memory.
fn texts_released(site: &Site) -> bool {
    site.kb
        .articles
        .iter()
        .chain(site.engine.articles())
        .all(|a| a.text.is_none())
}

#[test]
fn a_served_site_keeps_article_texts_in_its_index_only_and_still_snippets_and_reindexes_them() {
    let (f, _data, index) = help_center_with_index_dir();
    let (first, _) = served(&f, &index);
    assert!(texts_released(&first));
    let delivery = "Delivery takes five <mark>working</mark> <mark>days</mark>.";
    assert!(snippet(&first.engine, "working days").starts_with(delivery));
    let text = first.engine.text("freeze-card").expect("published");
    assert!(
        text.starts_with("Freezing stops every payment at once."),
        "{text}"
    );
    // The suggestion endpoint's evidence still sees the body's words.
    let words = first
        .engine
        .article_words("freeze-card")
        .expect("published");
    assert!(words.all.exact.contains("payment"), "{:?}", words.all.exact);
    assert!(!words.strong.exact.contains("payment"));
    drop(first);

    // Restarted on its index: nothing reindexed, no text kept, snippets as before.
    let (again, report) = served(&f, &index);
    assert_eq!((report.index.unchanged, report.index.changed()), (3, 0));
    assert!(texts_released(&again));
    assert!(snippet(&again.engine, "working days").starts_with(delivery));

    // An edit is parsed with its text, indexed, and then kept without it too.
    f.article(
        "cards/freeze-card.md",
        &ArticleSrc::new("Freeze a lost card")
            .intro("Freezing blocks card payments until you unfreeze."),
    );
    let (edited, report) = Site::load(f.root(), today(), Some(&again)).expect("reloads");
    assert_eq!((report.index.updated, report.index.unchanged), (1, 2));
    assert!(texts_released(&edited));
    assert!(
        snippet(&edited.engine, "unfreeze").contains("payments until you <mark>unfreeze</mark>."),
        "{}",
        snippet(&edited.engine, "unfreeze")
    );
    // The version before the edit still finds and shows the old text.
    assert!(
        snippet(&again.engine, "stops").contains("<mark>stops</mark> every payment"),
        "{}",
        snippet(&again.engine, "stops")
    );
}

#[test]
fn an_article_to_reindex_without_its_text_is_refused_and_the_index_stays_whole() {
    let (f, _data, index) = help_center_with_index_dir();
    let (site, _) = served(&f, &index);
    // A changed title on an article whose text is no longer in memory: indexing it would
    // lose its body.
    let mut kb = site.kb.clone();
    let a = kb
        .articles
        .iter_mut()
        .find(|a| a.slug == "transfer-limits")
        .expect("present");
    let mut changed = (**a).clone();
    changed.front.title = "Daily transfer limits".into();
    *a = std::sync::Arc::new(changed);
    assert!(matches!(
        site.engine.updated(&kb),
        Err(SearchError::TextGone(slug)) if slug == "transfer-limits"
    ));
    // Nothing of it was written: the index and its manifest still agree with the content.
    assert_eq!(slugs(&site.engine, "morning")[0], "transfer-limits");
    let (same, report) = site.engine.updated(&site.kb).expect("in step");
    assert_eq!((report.unchanged, report.changed()), (3, 0));
    assert_eq!(slugs(&same, "morning")[0], "transfer-limits");
    // An index that never had the article cannot take it without its text either.
    assert!(matches!(
        SearchEngine::in_memory(&site.kb),
        Err(SearchError::TextGone(_))
    ));
}

/// Past `stop_words_in_body` articles, a question's stop words add their bonus in the title
/// and summary only: an article whose body alone has the stop word gains from it on a small
/// help center, and nothing on a large one.
#[test]
fn past_a_size_stop_words_add_nothing_in_the_body() {
    let f = Fixture::new();
    f.article(
        "refunds/plain.md",
        &ArticleSrc::new("Refund policy").intro("Refunds arrive within five days."),
    )
    .article(
        "refunds/worded.md",
        &ArticleSrc::new("Refund rules").intro("Refunds arrive within our days."),
    );
    let scores = |engine: &SearchEngine| -> (f32, f32) {
        let found = engine.search(&SearchRequest::new("our refund"));
        let of = |slug: &str| {
            found
                .hits
                .iter()
                .find(|h| h.article.slug.ends_with(slug))
                .unwrap_or_else(|| panic!("{slug} found"))
                .score
        };
        (of("plain"), of("worded"))
    };
    let (plain, worded) = scores(&f.engine());
    assert!(worded > plain, "small: {worded} > {plain}");
    let large = f.engine().with_stages(Stages {
        stop_words_in_body: 0,
        ..Stages::default()
    });
    let (plain, worded) = scores(&large);
    assert!((worded - plain).abs() < 1e-6, "large: {worded} = {plain}");
}
