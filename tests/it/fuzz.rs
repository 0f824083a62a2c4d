//! Every parser of untrusted input, fuzzed: property tests (proptest) of front matter, Markdown
//! rendering, `synonyms.txt`, `ticket-types.toml`, `deflect.toml`, query analysis, typo
//! expansion, search, snippets and the HTTP API's JSON bodies and query strings; ~1 MB
//! pathological inputs that must finish within the hang bound; and the checked-in corpus of
//! hostile inputs (`tests/fixtures/hostile/`) through every parser. The importers have their
//! own properties in `import_hostile.rs`.
//!
//! Each property runs [`DEFAULT_CASES`] cases (fewer for the HTTP ones); `PROPTEST_CASES=N`
//! runs N cases of every property instead, as `scripts/fuzz-long` does.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use deflect::config::{Config, Layer};
use deflect::content::markdown::{self, Rendered};
use deflect::content::{
    Article, Diagnostic, KnowledgeBase, SynonymRule, front_matter, synonyms, ticket_types,
};
use deflect::search::snippet::{self, Highlights, Lexicon};
use deflect::search::synonyms::SynonymMap;
use deflect::search::vocabulary::{typo_budget, typo_distance};
use deflect::search::{QueryPlan, SearchEngine, SearchRequest, analysis};
use proptest::prelude::*;

use crate::fixture::{ArticleSrc, Fixture, today};

/// Cases per property in a plain `cargo test`.
const DEFAULT_CASES: u32 = 256;

/// `PROPTEST_CASES` when set (the long run), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        ..ProptestConfig::default()
    }
}

/// The hang bound: 1 s per parser call on inputs up to 1 MB in a release build. A debug build
/// of this crate (dependencies are optimized, see `[profile.dev.package."*"]`) is up to ~10×
/// slower, so it is allowed 10 s: still far below what a quadratic parser takes on 1 MB.
fn hang_bound() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(1)
    }
}

/// Runs `f`, failing when it takes longer than the hang bound.
#[track_caller]
fn within_bound<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(
        took < hang_bound(),
        "{what} took {took:?}, the bound is {:?}",
        hang_bound()
    );
    out
}

/// [`within_bound`], printing the time taken when `DEFLECT_FUZZ_TIMINGS` is set (the hang
/// inputs in `scripts/fuzz-long`).
#[track_caller]
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = within_bound(what, f);
    if std::env::var_os("DEFLECT_FUZZ_TIMINGS").is_some() {
        eprintln!("fuzz timing: {what}: {:?}", started.elapsed());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Safety checks shared by the properties and the corpus.

/// Decodes the character references an HTML attribute value may hold.
fn decode_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "Tab" => Some('\t'),
            "NewLine" => Some('\n'),
            "colon" => Some(':'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether an attribute value, as a browser reads it, names a script-running scheme. Written
/// independently of `markdown::is_unsafe_url`, so a mistake there is not repeated here.
fn runs_script(attr_value: &str) -> bool {
    let squeezed: String = decode_entities(attr_value)
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|s| squeezed.starts_with(s))
}

/// The elements the renderer may emit, and the attributes each may carry.
fn allowed_attributes(tag: &str) -> Option<&'static [&'static str]> {
    Some(match tag {
        "a" => &["href", "title"],
        "img" => &["src", "alt", "title"],
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &["id", "class"],
        "ol" => &["start"],
        "th" | "td" => &["style"],
        "code" => &["class"],
        "p" | "em" | "strong" | "del" | "pre" | "ul" | "li" | "blockquote" | "table" | "thead"
        | "tbody" | "tr" | "hr" | "br" => &[],
        _ => return None,
    })
}

/// Checks rendered article HTML: every `<` opens an element the renderer may emit (raw HTML
/// is escaped), with only that element's attributes (no `on…=` handler, no `style` beyond
/// table alignment), and no link or image URL runs script.
fn check_html(html: &str) -> Result<(), String> {
    let lower = html.to_ascii_lowercase();
    if lower.contains("<script") {
        return Err(format!("<script survived: {html}"));
    }
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest
            .find('>')
            .ok_or_else(|| format!("unclosed tag in {html}"))?;
        let inner = rest[..end].trim_end_matches('/').trim_end();
        rest = &rest[end + 1..];
        if let Some(closing) = inner.strip_prefix('/') {
            if allowed_attributes(closing).is_none() {
                return Err(format!("unexpected </{closing}> in {html}"));
            }
            continue;
        }
        let name_end = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let tag = &inner[..name_end];
        let allowed =
            allowed_attributes(tag).ok_or_else(|| format!("unexpected <{tag}> in {html}"))?;
        let mut attrs = &inner[name_end..];
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let name_len = attrs
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(attrs.len());
            let name = &attrs[..name_len];
            attrs = &attrs[name_len..];
            let value = if let Some(v) = attrs.strip_prefix("=\"") {
                let close = v
                    .find('"')
                    .ok_or_else(|| format!("unterminated attribute in {html}"))?;
                attrs = &v[close + 1..];
                &v[..close]
            } else {
                ""
            };
            if !allowed.contains(&name) {
                return Err(format!("attribute `{name}` on <{tag}> in {html}"));
            }
            if name == "style" && !value.starts_with("text-align: ") {
                return Err(format!("style `{value}` in {html}"));
            }
            if matches!(name, "href" | "src") && runs_script(value) {
                return Err(format!("{name}=\"{value}\" runs script in {html}"));
            }
        }
    }
    Ok(())
}

/// Checks everything a render produced, for a body starting on file line `first_line`.
fn check_rendered(r: &Rendered, body: &str, first_line: usize) -> Result<(), String> {
    check_html(&r.html)?;
    let last_line = first_line + body.lines().count();
    for link in r.links.iter().chain(&r.unsafe_urls) {
        if link.line < first_line || link.line > last_line {
            return Err(format!(
                "link {:?} on line {}, outside {first_line}..={last_line}",
                link.url, link.line
            ));
        }
    }
    let ids: HashSet<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
    if ids.len() != r.headings.len() {
        return Err(format!("duplicate heading ids: {:?}", r.headings));
    }
    for h in &r.headings {
        if h.id.is_empty() || !h.id.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(format!("heading id {:?} is not URL-safe", h.id));
        }
    }
    Ok(())
}

/// Checks diagnostics name `path` and a line of the file (0 only for whole-file problems).
fn check_diagnostics(diags: &[Diagnostic], path: &Path, src: &str) -> Result<(), String> {
    let lines = src.lines().count().max(1);
    for d in diags {
        if d.path != path {
            return Err(format!(
                "{d} names {} not {}",
                d.path.display(),
                path.display()
            ));
        }
        if d.line > lines + 1 {
            return Err(format!("{d}: line past the end ({lines} lines)"));
        }
        if d.message.trim().is_empty() {
            return Err(format!("{d}: empty message"));
        }
        if d.is_error() && d.fix.trim().is_empty() {
            return Err(format!("{d}: an error without a fix"));
        }
    }
    Ok(())
}

/// Parses `src` as the article `faq/hostile-article.md` and checks diagnostics and HTML.
fn check_article(src: &str) -> Result<Option<Article>, String> {
    let path = Path::new("faq/hostile-article.md");
    let mut diags = Vec::new();
    let article = Article::parse(path, path, src, today(), &mut diags);
    check_diagnostics(&diags, path, src)?;
    for d in diags.iter().filter(|d| d.is_error()) {
        // The file name is a valid slug and shallow: every error is about a line of the file.
        if d.line == 0 {
            return Err(format!("{d}: an error without a line"));
        }
    }
    if let Some(a) = &article {
        let html =
            deflect::content::article::body_html(src).ok_or("no HTML for a parsed article")?;
        check_html(&html)?;
        if !front_matter::is_slug(&a.slug) {
            return Err(format!("slug {:?} is not a slug", a.slug));
        }
        if a.front.title.trim().is_empty() || a.front.title != a.front.title.trim() {
            return Err(format!("title {:?}", a.front.title));
        }
        if diags.iter().any(Diagnostic::is_error) {
            return Err("an article was returned despite errors".into());
        }
    } else if !diags.iter().any(Diagnostic::is_error) {
        return Err("no article and no error saying why".into());
    }
    Ok(article)
}

/// Checks the synonym rules of `src`: every content line is one rule or one error on it.
fn check_synonyms(src: &str) -> Result<Vec<SynonymRule>, String> {
    let path = Path::new("synonyms.txt");
    let mut diags = Vec::new();
    let rules = synonyms::parse(path, src, &mut diags);
    check_diagnostics(&diags, path, src)?;
    let mut lines_seen = HashSet::new();
    for rule in &rules {
        let (line, sides): (usize, Vec<&Vec<String>>) = match rule {
            SynonymRule::Equivalent { terms, line } => (*line, vec![terms]),
            SynonymRule::OneWay { from, to, line } => (*line, vec![from, to]),
        };
        lines_seen.insert(line);
        for term in sides.into_iter().flatten() {
            if term.trim().is_empty()
                || term != term.trim()
                || term.contains(',')
                || term.contains('#')
                || term.contains("=>")
                || !term.chars().any(char::is_alphanumeric)
                || term.to_lowercase() != *term
            {
                return Err(format!("bad term {term:?} in {rule:?}"));
            }
        }
    }
    // Errors and rules take one line each; a warning (a term with too many synonyms) may
    // stand beside a rule.
    for d in diags.iter().filter(|d| d.is_error() || d.line == 0) {
        if d.line == 0 || !lines_seen.insert(d.line) {
            return Err(format!("{d}: no line, or a second report of one line"));
        }
    }
    let content_lines = src
        .lines()
        .filter(|l| !l.split('#').next().unwrap_or_default().trim().is_empty())
        .count();
    if lines_seen.len() != content_lines {
        return Err(format!(
            "{} rules and errors for {content_lines} content lines",
            lines_seen.len()
        ));
    }
    Ok(rules)
}

/// Checks the ticket types of `src`: valid entries are complete, problems name a line.
fn check_ticket_types(src: &str) -> Result<(), String> {
    let path = Path::new("ticket-types.toml");
    let mut diags = Vec::new();
    let types = ticket_types::parse(path, src, &mut diags);
    check_diagnostics(&diags, path, src)?;
    let lines = src.lines().count().max(1);
    for t in &types {
        if t.id.is_empty() || t.id != t.id.trim() || t.name.is_empty() || t.name != t.name.trim() {
            return Err(format!("incomplete {t:?}"));
        }
        if t.line == 0 || t.line > lines {
            return Err(format!("{t:?} on a line outside 1..={lines}"));
        }
    }
    if diags.iter().any(|d| d.line == 0) {
        return Err(format!("a problem without a line: {diags:?}"));
    }
    Ok(())
}

/// Parses `src` as `deflect.toml`: an error names the file and a line; a layer resolves.
fn check_config(src: &str) -> Result<(), String> {
    match Layer::from_toml(Path::new("deflect.toml"), src) {
        Ok(layer) => {
            let _ = Config::resolve(Some(layer), Layer::default(), Layer::default());
            Ok(())
        }
        Err(e) => {
            let text = e.to_string();
            let rest = text
                .strip_prefix("deflect.toml:")
                .ok_or_else(|| format!("error does not name the file: {text}"))?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let line: usize = digits
                .parse()
                .map_err(|_| format!("error does not name a line: {text}"))?;
            let lines = src.lines().count().max(1);
            if line == 0 || line > lines + 1 {
                return Err(format!("line {line} outside 1..={lines}: {text}"));
            }
            if rest[digits.len()..]
                .trim_start_matches(": ")
                .trim()
                .is_empty()
            {
                return Err(format!("no message: {text}"));
            }
            Ok(())
        }
    }
}

/// Checks the analysis of `text`: words cover increasing byte ranges of it, lowercased.
fn check_words(text: &str) -> Result<(), String> {
    let words = analysis::words(text);
    let mut last_start = 0;
    for w in &words {
        if w.start > w.end
            || w.end > text.len()
            || !text.is_char_boundary(w.start)
            || !text.is_char_boundary(w.end)
            || w.start < last_start
        {
            return Err(format!("bad range {w:?} in {text:?}"));
        }
        last_start = w.start;
        if w.text.is_empty() || w.text.chars().count() > 40 || w.text.to_lowercase() != w.text {
            return Err(format!("bad word {w:?}"));
        }
    }
    let normalized = analysis::normalize(text);
    if normalized.split(' ').filter(|w| !w.is_empty()).count() != words.len() {
        return Err(format!("normalize {normalized:?} differs from words"));
    }
    Ok(())
}

/// Checks a snippet: HTML-escaped text with only `<mark>` elements.
fn check_snippet(snippet: &str) -> Result<(), String> {
    let stripped = snippet.replace("<mark>", "").replace("</mark>", "");
    if stripped.contains(['<', '>', '"']) {
        return Err(format!("unescaped markup in snippet {snippet:?}"));
    }
    if snippet.matches("<mark>").count() != snippet.matches("</mark>").count() {
        return Err(format!("unbalanced marks in {snippet:?}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The knowledge base searched: small, with markup-like text so snippets must escape.

fn kb_articles() -> Vec<(&'static str, ArticleSrc)> {
    vec![
        (
            "cards/card-arrival.md",
            ArticleSrc::new("My card hasn't arrived")
                .quick_answer("Cards arrive within 5 working days of the order.")
                .steps("Check the delivery address & track the envelope."),
        ),
        (
            "cards/freeze-card.md",
            ArticleSrc::new("How do I freeze my card?")
                .quick_answer("Freeze it in the app under Card settings.")
                .steps("Tap Freeze; unfreeze the same way. Lost cards: order a replacement."),
        ),
        (
            "account/reset-password.md",
            ArticleSrc::new("Reset your password")
                .quick_answer("Use Forgot password on the login screen.")
                .steps("We email a link valid for 30 minutes. Check spam."),
        ),
        (
            "payments/charged-twice.md",
            ArticleSrc::new("\"Why was I charged twice <b>and</b> how do I get a refund?\"")
                .quick_answer("A pending charge & a settled one can look like two payments.")
                .steps(
                    "If `<script>alert(1)</script>` or <img src=x onerror=alert(2)> shows in a statement, \
                     the merchant's name has markup: report it. Refunds take 5 days & show as \"credit\".",
                ),
        ),
        (
            "payments/atm-withdrawal.md",
            ArticleSrc::new("Cash withdrawal at an ATM failed")
                .quick_answer("Declined withdrawals are never charged.")
                .steps("Try another cash machine; the daily limit is 500."),
        ),
    ]
}

const KB_SYNONYMS: &str = "atm, cash machine, cashpoint\niphone => ios\nrefund, money back\n";

struct Kb {
    engine: SearchEngine,
    slugs: HashSet<String>,
    synonyms: SynonymMap,
}

/// The engine of [`kb_articles`], built once per test process (no disk).
fn kb() -> &'static Kb {
    static KB: OnceLock<Kb> = OnceLock::new();
    KB.get_or_init(|| {
        let sources: Vec<(PathBuf, String)> = kb_articles()
            .into_iter()
            .map(|(p, a)| (PathBuf::from(p), a.render()))
            .collect();
        let loaded = KnowledgeBase::from_sources(
            Path::new("kb"),
            &sources,
            Some(KB_SYNONYMS),
            None,
            today(),
        );
        assert_eq!(loaded.errors(), 0, "{:?}", loaded.diagnostics);
        let engine = SearchEngine::build(&loaded.kb).expect("index builds");
        Kb {
            slugs: loaded.kb.articles.iter().map(|a| a.slug.clone()).collect(),
            synonyms: SynonymMap::new(&loaded.kb.synonyms),
            engine,
        }
    })
}

/// Searches `query` and checks the results: known slugs, once each, `total` at least the hits,
/// escaped snippets.
fn check_search(query: &str, limit: usize, category: Option<&str>) -> Result<(), String> {
    let kb = kb();
    let req = SearchRequest {
        query,
        limit,
        category,
    };
    let results = kb.engine.search(&req);
    if results.query != query {
        return Err("the results are for another query".into());
    }
    if results.total < results.hits.len() || results.hits.len() > limit.clamp(1, 100) {
        return Err(format!(
            "total {} with {} hits (limit {limit})",
            results.total,
            results.hits.len()
        ));
    }
    let mut seen = HashSet::new();
    for hit in &results.hits {
        if !kb.slugs.contains(&hit.article.slug) || !seen.insert(&hit.article.slug) {
            return Err(format!("unknown or repeated slug {}", hit.article.slug));
        }
        if !hit.score.is_finite() {
            return Err(format!("score {} for {}", hit.score, hit.article.slug));
        }
        if let Some(c) = category
            && !hit.article.category.starts_with(c)
        {
            return Err(format!("{} is not in {c}", hit.article.slug));
        }
        check_snippet(&hit.snippet)?;
    }
    if results
        .corrected_query
        .as_deref()
        .is_some_and(str::is_empty)
    {
        return Err("an empty correction".into());
    }
    let plan = kb.engine.plan(query);
    let _ = plan.correction();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies: hostile fragments joined at random.

fn joined(fragment: impl Strategy<Value = String>, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(fragment, 0..max).prop_map(|parts| parts.concat())
}

fn markdown_fragment() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "[a](javascript:alert(1))",
        "[a]( JaVaScRiPt:alert(1))",
        "[a](<javascript:alert(1)>)",
        "[a](java&#x09;script:alert(1))",
        "[a](&#106;avascript:alert(1))",
        "[a](&#x6A;avascript:alert(1))",
        "[a](java&Tab;script:alert(1))",
        "[a](jav\u{0}ascript:alert(1))",
        "[a](vbscript:msgbox(1))",
        "[a](DATA:text/html;base64,PHNjcmlwdD4=)",
        "![i](data:image/svg+xml,<svg onload=alert(1)>)",
        "![i](javascript:alert(1) \"t\")",
        "<javascript:alert(1)>",
        "<data:text/html,x>",
        "[r]: javascript:alert(1)\n",
        "[r]: <vbscript:x> 'title'\n",
        "[a][r]",
        "[r][]",
        "[r]",
        "[a](/articles/freeze-card)",
        "[a](https://example.com/\"onmouseover=\"alert(1))",
        "[a](https://example.com \"t\\\" onclick=\\\"x\")",
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg/onload=alert(1)>",
        "<!-- <script>x</script> -->",
        "<iframe srcdoc=\"<script>x</script>\"></iframe>",
        "## H {onclick=alert(1)}\n",
        "# H {#id .c data-x=y onmouseover=\"alert(1)\" style=\"x\"}\n",
        "### {#x}\n",
        "##\n",
        "Title\n===\n",
        "```js\n<script>alert(1)</script>\n```\n",
        "`<script>`",
        "~~~\n",
        "| a | b |\n|---|:-:|\n| <b> | x |\n",
        "> ",
        "- ",
        "1. ",
        "- **Q?** A\n",
        "***",
        "\\",
        "&",
        "&amp;",
        "&#0;",
        "&#x110000;",
        "\n",
        "\n\n",
        "    ",
        "\t",
        "\u{0}",
        "\u{feff}",
        "\u{202e}",
        "[",
        "]",
        "(",
        ")",
        "*",
        "_",
        "`",
        "!",
        "{",
        "}",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        6 => fixed,
        2 => "[a-zA-Z0-9 <>&\"'=/\\\\\\[\\]()*_#`!{}.:;-]{0,20}",
        1 => "\\PC{0,10}",
        1 => ".{0,6}",
    ]
}

fn markdown_body() -> impl Strategy<Value = String> {
    joined(markdown_fragment(), 32)
}

fn yaml_value() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "\"<script>alert(1)</script>\"",
        "<img src=x onerror=alert(1)>",
        "&a [1, 2]",
        "*a",
        "*missing",
        "!!binary aGVsbG8=",
        "!!python/object/apply:os.system [\"id\"]",
        "{",
        "[",
        "'",
        "\"",
        "|\n  multi\n  line",
        ">-\n  folded",
        "2026-01-01",
        "2999-12-31",
        "1999-02-30",
        "true",
        "~",
        "null",
        "[a, b, c, d, e]",
        "[[[[[[]]]]]]",
        "{a: {b: {c: d}}}",
        "- x",
        "-1",
        "99999999999999999999999",
        ".nan",
        "\t",
        "\"\\u0000\"",
        "\u{0}",
        "? complex",
        "draft",
        "published",
        "card-arrival",
        "/hc/en-us/articles/1-a",
        "javascript:alert(1)",
        "",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        4 => fixed,
        1 => "[a-zA-Z0-9 :#\\[\\]{}&*!|>'\"-]{0,24}",
        1 => "\\PC{0,16}",
    ]
}

fn front_matter_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(front_matter::KNOWN_KEYS.to_vec()).prop_map(str::to_string),
        1 => prop::sample::select(vec!["titel", "<<", "? x", "- title", "", " title", "Title", "on\u{0}load"])
            .prop_map(str::to_string),
        1 => "[a-z_]{1,10}",
    ]
}

/// An article file: maybe-valid front matter from hostile keys and values, a hostile body.
fn article_source() -> impl Strategy<Value = String> {
    let line = (front_matter_key(), yaml_value()).prop_map(|(k, v)| format!("{k}: {v}\n"));
    let valid_head = Just(format!(
        "title: A question\nsummary: An answer.\nlast_reviewed: {}\n",
        crate::fixture::date(-3)
    ));
    (
        prop_oneof![3 => Just("---\n"), 1 => Just("\u{feff}---\r\n"), 1 => Just("--- \n"), 1 => Just("")],
        prop_oneof![2 => valid_head, 1 => Just(String::new())],
        prop::collection::vec(line, 0..8),
        prop_oneof![4 => Just("---\n"), 1 => Just(""), 1 => Just("---")],
        markdown_body(),
    )
        .prop_map(|(open, head, lines, close, body)| {
            format!("{open}{head}{}{close}{body}", lines.concat())
        })
}

fn synonyms_source() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        4 => prop::sample::select(vec![
            "atm", "cash machine", "Sign  In", "iphone", "ios", "<script>", "ünïcödé", "x",
            ",", ", ", ",,", "=>", " => ", "=", ">", "#", "# comment", "\n", "\r\n", "\t", " ",
            "!!", "\u{0}", "\u{feff}", "\u{202e}", "ſ", "İ", "ß",
        ])
        .prop_map(str::to_string),
        1 => "[a-z ,=>#!-]{0,12}",
        1 => "\\PC{0,8}",
    ];
    joined(fragment, 40)
}

fn ticket_types_source() -> impl Strategy<Value = String> {
    let value = prop::sample::select(vec![
        "\"card_arrival\"",
        "\"Card hasn't arrived\"",
        "\"L1\"",
        "\"L4\"",
        "\"P1\"",
        "\"P9\"",
        "\"\"",
        "\"  \"",
        "1",
        "[]",
        "{}",
        "\"<script>alert(1)</script>\"",
        "\"\\u0000\"",
        "'literal'",
        "\"\"\"multi\nline\"\"\"",
        "\"unterminated",
        "1979-05-27T07:32:00Z",
        "inf",
    ]);
    let key = prop::sample::select(vec![
        "id", "name", "tier", "priority", "idd", "\"id\"", "a.b",
    ]);
    let line = prop_oneof![
        6 => (key, value).prop_map(|(k, v)| format!("{k} = {v}\n")),
        2 => Just("[[ticket_type]]\n".to_string()),
        1 => prop::sample::select(vec![
            "[ticket_type]\n", "[[ticket_type.x]]\n", "ticket_type = 1\n", "[[other]]\n",
            "# comment\n", "\n", "= x\n", "[[\n", "\u{0}\n",
        ]).prop_map(str::to_string),
        1 => "\\PC{0,16}\n",
    ];
    joined(line, 24)
}

/// `deflect.toml` lines: the example's own lines, its keys with hostile values, sections.
fn config_source() -> impl Strategy<Value = String> {
    let example_lines: Vec<String> = deflect::config::EXAMPLE
        .lines()
        .map(str::to_string)
        .collect();
    let keys: Vec<String> = example_lines
        .iter()
        .filter_map(|l| {
            let l = l.trim_start_matches("# ");
            let (k, _) = l.split_once(" = ")?;
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| k.to_string())
        })
        .collect();
    let sections: Vec<String> = example_lines
        .iter()
        .filter(|l| l.starts_with('['))
        .cloned()
        .collect();
    let value = prop::sample::select(vec![
        "\"x\"",
        "0",
        "-1",
        "18446744073709551616",
        "1e400",
        "nan",
        "inf",
        "true",
        "[1, \"a\"]",
        "{a = 1}",
        "\"127.0.0.1:99999\"",
        "\"[::1]:8080\"",
        "\"\\u0000\"",
        "'''",
        "\"\"\"",
        "\"Europe/Nowhere\"",
        "\"25:00\"",
        "\"http://\\u0000\"",
        "[]",
        "\"\"",
    ]);
    let line = prop_oneof![
        3 => prop::sample::select(example_lines),
        4 => (prop::sample::select(keys), value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => prop::sample::select(sections),
        1 => prop::sample::select(vec!["[[a]]", "[a.b.c]", "[widget", "x =", "= 1", "\u{0}"])
            .prop_map(str::to_string),
        1 => "\\PC{0,16}",
    ];
    prop::collection::vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

/// Queries: the fixture's words, misspellings, operators, markup and odd characters.
fn query() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        4 => prop::sample::select(vec![
            "card", "cards", "arrived", "arive", "freez", "frezee", "password", "pasword",
            "passw", "refund", "refnud", "charged", "twice", "cash", "machine", "atm",
            "cashpoint", "iphone", "money back", "hasnt", "how", "do", "i", "the", "my",
            "<script>alert(1)</script>", "<b>", "</mark>", "<mark>", "\"", "&", "&lt;", "'",
            "AND", "OR", "NOT", "+", "-", "~", "^2", "title:", "*", "?", "(", ")", "[", "]",
            "{", "}", "\\", "/", ":", " ", "  ", "\t", "\n", "\u{0}", "ünïcödé", "ﬁ", "İ",
            "ß", "🙂", "\u{202e}", "\u{feff}", "1e9", "2026-01-01",
        ])
        .prop_map(str::to_string),
        1 => "[a-z]{1,45}",
        1 => "\\PC{0,12}",
    ];
    joined(fragment, 12)
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        query().prop_map(Value::String),
        prop::sample::select(vec![
            "card-arrival",
            "nope",
            "../etc/passwd",
            "a@b.example",
            "=HYPERLINK(\"x\")@x.com",
            "not_helpful",
            "wrong_answer",
            "card_arrival",
            "L1",
            "P1",
            "open",
            "closed",
            "\u{0}",
            "x\u{0}y",
            "<script>alert(1)</script>",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        (1usize..3000).prop_map(|n| Value::String("x".repeat(n))),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "message",
                    "session_id",
                    "context",
                    "learned",
                    "helpful",
                    "reason",
                    "comment",
                    "search_id",
                    "slug",
                    "position",
                    "email",
                    "name",
                    "subject",
                    "body",
                    "ticket_type",
                    "type",
                    "wording",
                    "status",
                    "priority",
                    "note",
                    "assignee",
                    "article",
                    "query",
                    "description",
                    "customer_tier",
                    "website",
                    "x",
                ])
                .prop_map(str::to_string),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text a visitor may send: queries, control characters, formulas, very long.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => query(),
        1 => prop::sample::select(vec![
            "a@b.example", "=HYPERLINK(\"http://x\")@x.com", "+1@x.com", "x\u{0}@y.example",
            "enterprise", "free", "gold", "not_helpful", "wrong_answer", "",
        ]).prop_map(str::to_string),
        1 => (1usize..20_000).prop_map(|n| "é".repeat(n)),
    ]
}

/// Objects with the fields of the real requests (suggest, ticket, vote, click, rejection,
/// ticket update), every value hostile.
fn shaped_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let text = || hostile_text().prop_map(Value::String);
    prop_oneof![
        (text(), prop::option::of(text()), any::<bool>())
            .prop_map(|(m, s, l)| json!({"message": m, "session_id": s, "learned": l})),
        (text(), text(), text(), prop::option::of(text()), prop::option::of(text()))
            .prop_map(|(e, s, d, t, w)| json!({"email": e, "subject": s, "description": d, "customer_tier": t, "website": w})),
        (any::<bool>(), prop::option::of(text()), prop::option::of(text()), prop::option::of(text()))
            .prop_map(|(h, r, c, s)| json!({"helpful": h, "reason": r, "comment": c, "search_id": s})),
        (text(), any::<i64>(), prop::option::of(text()))
            .prop_map(|(slug, p, s)| json!({"slug": slug, "position": p, "session_id": s})),
        (text(), text()).prop_map(|(slug, w)| json!({"slug": slug, "wording": w})),
        (text(), text(), text()).prop_map(|(s, p, n)| json!({"status": s, "priority": p, "note": n})),
    ]
}

/// A request body: arbitrary bytes, arbitrary JSON, or an object shaped like a real request.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => ".{0,40}".prop_map(String::into_bytes),
        2 => any_json().prop_map(|v| v.to_string().into_bytes()),
        3 => shaped_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::sample::select(vec![
            "{\"message\": \"card\"", "{\"helpful\": tru}", "[]", "null", "{}", "\"x\"",
            "{\"message\": \"\\ud800\"}", "{\"a\":1,\"a\":2}", "1e999", "{\"message\": 1e999}",
        ]).prop_map(|s| s.as_bytes().to_vec()),
    ]
}

// ---------------------------------------------------------------------------------------------
// The HTTP API through the real router, with a SQLite store and no rate limits.

const ADMIN_TOKEN: &str = "fuzz-admin-token";

struct Http {
    rt: tokio::runtime::Runtime,
    app: crate::app::TestApp,
    _fixture: Fixture,
}

fn http() -> &'static Http {
    static HTTP: OnceLock<Http> = OnceLock::new();
    HTTP.get_or_init(|| {
        let fixture = Fixture::new();
        for (path, article) in kb_articles() {
            fixture.article(path, &article);
        }
        fixture.synonyms(KB_SYNONYMS);
        fixture.ticket_types(&["card_arrival", "refund_request"]);
        let mut config = Config {
            admin_token: Some(deflect::secret::Secret::new(ADMIN_TOKEN)),
            ..Config::default()
        };
        config.widget.session_per_minute = 0;
        config.widget.ip_per_minute = 0;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let app = rt.block_on(crate::app::TestApp::with_sqlite(&fixture, config));
        Http {
            rt,
            app,
            _fixture: fixture,
        }
    })
}

/// Sends a request; checks it is never a 5xx and that an API error is the JSON envelope.
fn check_http(
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
    admin: bool,
) -> Result<(), String> {
    use axum::body::Body;
    use axum::http::{Request, header};
    let h = http();
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type);
    if admin {
        req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"));
    }
    let req = req.body(Body::from(body)).map_err(|e| e.to_string())?;
    let res = h.rt.block_on(h.app.send(req));
    let status = res.status.as_u16();
    if status >= 500 {
        return Err(format!("{method} {uri}: {status} {}", res.body));
    }
    if uri.starts_with("/api/") {
        if status >= 400 {
            let v: serde_json::Value = serde_json::from_str(&res.body)
                .map_err(|_| format!("{method} {uri}: {status} not JSON: {}", res.body))?;
            if !v["error"]["code"].is_string() || !v["error"]["message"].is_string() {
                return Err(format!("{method} {uri}: {status} not the envelope: {v}"));
            }
        } else if status != 204 && serde_json::from_str::<serde_json::Value>(&res.body).is_err() {
            return Err(format!("{method} {uri}: {status} not JSON: {}", res.body));
        }
    }
    Ok(())
}

fn percent_encoded(bytes: &[u8]) -> String {
    form_urlencoded::byte_serialize(bytes).collect()
}

// ---------------------------------------------------------------------------------------------

mod property {
    use super::*;

    proptest! {
        #![proptest_config(config(DEFAULT_CASES))]

        /// Markdown: no script, no event handler, no unsafe URL; lines and ids sound.
        #[test]
        fn markdown_renders_nothing_that_runs_script(body in markdown_body(), first in 1usize..50) {
            let r = within_bound("markdown", || markdown::render(&body, first));
            if let Err(e) = check_rendered(&r, &body, first) {
                prop_assert!(false, "{e}\nbody: {body:?}");
            }
        }

        /// Front matter and the whole article: errors name the file and a line.
        #[test]
        fn article_errors_name_the_file_and_a_line(src in article_source()) {
            let result = within_bound("article", || check_article(&src));
            if let Err(e) = result {
                prop_assert!(false, "{e}\nsource: {src:?}");
            }
        }

        /// Any text at all (control characters, no structure) is an article or an error.
        #[test]
        fn any_text_is_an_article_or_an_error(src in "(---\n)?.{0,200}") {
            if let Err(e) = check_article(&src) {
                prop_assert!(false, "{e}\nsource: {src:?}");
            }
            let _ = front_matter::split(&src);
        }

        /// synonyms.txt: every content line is one rule or one error, terms are clean; the
        /// compiled map finds keys only within the query.
        #[test]
        fn synonyms_lines_are_rules_or_errors(src in synonyms_source(), q in query()) {
            let rules = within_bound("synonyms", || check_synonyms(&src))
                .map_err(|e| TestCaseError::fail(format!("{e}\nsource: {src:?}")))?;
            let map = SynonymMap::new(&rules);
            let stems: Vec<String> = analysis::words(&q).into_iter().map(|w| w.stem).collect();
            let stems: Vec<&str> = stems.iter().map(String::as_str).collect();
            for m in map.find(&stems) {
                prop_assert!(m.start < m.end && m.end <= stems.len(), "{m:?}");
                prop_assert!(!m.expansions.is_empty());
            }
        }

        /// ticket-types.toml: valid entries are complete, every problem names a line.
        #[test]
        fn ticket_types_are_complete_or_reported(src in ticket_types_source()) {
            if let Err(e) = within_bound("ticket types", || check_ticket_types(&src)) {
                prop_assert!(false, "{e}\nsource: {src:?}");
            }
        }

        /// deflect.toml: a layer that resolves, or an error naming the file and a line.
        #[test]
        fn config_is_a_layer_or_an_error_with_a_line(src in config_source()) {
            if let Err(e) = within_bound("config", || check_config(&src)) {
                prop_assert!(false, "{e}\nsource: {src:?}");
            }
        }

        /// Query analysis: words are lowercased, at most 40 characters, on increasing
        /// character-boundary ranges of the text.
        #[test]
        fn analysis_words_are_ranges_of_the_text(text in prop_oneof![query(), "\\PC{0,64}", ".{0,64}"]) {
            if let Err(e) = check_words(&text) {
                prop_assert!(false, "{e}");
            }
        }

        /// Typo expansion and completion: within the typo budget, at most the limit, real
        /// vocabulary words.
        #[test]
        fn typo_expansions_are_within_the_budget(word in prop_oneof!["[a-z]{0,14}", "\\PC{0,10}"], limit in 0usize..6) {
            let vocab = kb().engine.vocabulary();
            let fuzzy = vocab.fuzzy(&word, limit);
            prop_assert!(fuzzy.len() <= limit);
            for c in &fuzzy {
                prop_assert!(c.distance >= 1 && c.distance <= typo_budget(&word), "{word} → {c:?}");
                prop_assert_eq!(c.distance, typo_distance(&word, c.word));
                prop_assert!(vocab.doc_freq(c.word).is_some());
            }
            let completions = vocab.completions(&word, limit);
            prop_assert!(completions.len() <= limit);
            for c in &completions {
                prop_assert!(c.word.len() > word.len() || c.distance > 0, "{word} → {c:?}");
                prop_assert!(c.distance > 0 || c.word.starts_with(&word), "{word} → {c:?}");
                prop_assert!(c.distance <= 1);
            }
            let plan = QueryPlan::new(&word, vocab, &kb().synonyms);
            for p in &plan.words {
                prop_assert!(p.typos.len() <= 3 && p.completions.len() <= 8);
                prop_assert!(!p.known || p.typos.is_empty(), "a known word has typos: {p:?}");
            }
        }

        /// Search: results are the fixture's articles, once each, within the limit and the
        /// category, `total` counts at least them, snippets are escaped.
        #[test]
        fn search_results_are_sound(
            q in query(),
            limit in prop_oneof![Just(10usize), 0usize..150],
            category in prop::option::of(prop::sample::select(vec!["cards", "payments", "account", "nope", "", "<b>"])),
        ) {
            if let Err(e) = within_bound("search", || check_search(&q, limit, category)) {
                prop_assert!(false, "{e}\nquery: {q:?}");
            }
        }

        /// Snippets of any text for any query words: escaped, only `<mark>` markup, and
        /// every marked word is a word of the text.
        #[test]
        fn snippets_are_escaped(text in joined(query(), 20), q in query()) {
            let words = analysis::words(&text);
            let lexicon = Lexicon::of_words(words.iter().map(|w| w.text.as_str()));
            let query_words = analysis::words(&q);
            let h = Highlights {
                exact: query_words.iter().map(|w| w.text.clone()).collect(),
                stems: query_words.iter().map(|w| w.stem.clone()).collect(),
            };
            let matched = lexicon.matching(&h);
            let tokens = lexicon.tokenize(&text, &matched);
            let lead = snippet::lead(&text, &tokens);
            if let Err(e) = check_snippet(&lead) { prop_assert!(false, "{e}"); }
            if let Some(s) = snippet::best(&text, &tokens, &lexicon) {
                if let Err(e) = check_snippet(&s) { prop_assert!(false, "{e}"); }
                prop_assert!(s.contains("<mark>"), "a best snippet marks something: {s}");
                for marked in s.split("<mark>").skip(1) {
                    let inner = marked.split("</mark>").next().unwrap_or_default();
                    prop_assert!(!inner.is_empty() && !analysis::words(&decode_entities(inner)).is_empty(), "{s}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(config(DEFAULT_CASES / 2))]

        /// The JSON bodies of every POST/PATCH endpoint: never a 5xx, errors in the envelope.
        #[test]
        fn json_bodies_never_5xx_and_errors_are_the_envelope(
            body in body(),
            endpoint in 0usize..8,
            json_type in prop::sample::select(vec!["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"]),
        ) {
            let (method, uri, admin) = [
                ("POST", "/api/v1/suggest", false),
                ("POST", "/api/v1/tickets", false),
                ("POST", "/api/v1/articles/card-arrival/votes", false),
                ("POST", "/api/v1/articles/nope/votes", false),
                ("POST", "/api/v1/search/0000/clicks", false),
                ("POST", "/api/v1/admin/learning/rejections", true),
                ("PATCH", "/api/v1/admin/tickets/1", true),
                ("POST", "/api/v1/admin/tickets/1", true),
            ][endpoint];
            if let Err(e) = check_http(method, uri, json_type, body.clone(), admin) {
                prop_assert!(false, "{e}\nbody: {:?}", String::from_utf8_lossy(&body));
            }
        }

        /// Search and autocomplete query strings of any bytes and length: 200, or a 400 in
        /// the envelope (`query_too_long` over 1024 bytes), never a 5xx.
        #[test]
        fn query_strings_never_5xx(
            q in prop_oneof![
                3 => query().prop_map(String::into_bytes),
                1 => prop::collection::vec(any::<u8>(), 0..40),
                1 => (1000usize..1100).prop_map(|n| "card ".repeat(n / 5).into_bytes()),
            ],
            extra in prop::sample::select(vec!["", "&limit=0", "&limit=101", "&limit=x", "&category=%00", "&session_id=%00", "&learned=maybe", "&q=twice"]),
            autocomplete in any::<bool>(),
        ) {
            let path = if autocomplete { "/api/v1/autocomplete" } else { "/api/v1/search" };
            let uri = format!("{path}?q={}{extra}", percent_encoded(&q));
            if let Err(e) = check_http("GET", &uri, "application/json", Vec::new(), false) {
                prop_assert!(false, "{e}");
            }
            if q.len() > 1024 && extra.is_empty() {
                let h = http();
                let res = h.rt.block_on(h.app.get(&uri));
                prop_assert_eq!(res.status.as_u16(), 400);
                prop_assert!(res.body.contains("query_too_long"), "{}", res.body);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ~1 MB pathological inputs: each parser finishes within the hang bound.

mod hang {
    use super::*;

    const MB: usize = 1 << 20;

    /// `unit` repeated up to about 1 MB.
    fn mb_of(unit: &str) -> String {
        unit.repeat((MB / unit.len()).max(1))
    }

    fn article_with_body(body: &str) -> String {
        format!(
            "---\ntitle: Big\nsummary: Big.\nlast_reviewed: {}\n---\n{body}",
            crate::fixture::date(-3)
        )
    }

    fn markdown_bodies() -> Vec<(&'static str, String)> {
        vec![
            (
                "20,000 identical headings",
                "## Same\n\ntext\n\n".repeat(20_000),
            ),
            ("nested lists", {
                let mut s = String::new();
                for depth in 0..3_000 {
                    s.push_str(&"  ".repeat(depth % 400));
                    s.push_str("- item\n");
                }
                s
            }),
            ("nested blockquotes", mb_of("> ")),
            ("one 1 MB line", mb_of("word ")),
            ("brackets", mb_of("[")),
            ("stars", mb_of("*a")),
            ("underscores", mb_of("_")),
            ("backticks", mb_of("`")),
            ("links", mb_of("[a](/articles/x) ")),
            ("unsafe links", mb_of("[a](javascript:x) ")),
            ("reference definitions", {
                (0..30_000).map(|i| format!("[r{i}]: /x\n")).collect()
            }),
            ("reference uses", mb_of("[a][r] ")),
            ("raw html", mb_of("<div><script>")),
            ("entities", mb_of("&amp;&#x41;")),
            (
                "table",
                format!("{}\n{}\n", "| a ".repeat(MB / 8), "|---".repeat(MB / 8)),
            ),
            ("heading attributes", mb_of("# h {#i .c k=v}\n")),
            ("faq items", mb_of("- **Q?** A\n")),
        ]
    }

    #[test]
    fn markdown_of_a_megabyte_renders_within_the_bound() {
        for (name, body) in markdown_bodies() {
            let r = timed(&format!("markdown: {name}"), || markdown::render(&body, 5));
            if let Err(e) = check_html(&r.html) {
                panic!("{name}: {}", e.chars().take(300).collect::<String>());
            }
        }
    }

    #[test]
    fn articles_of_a_megabyte_parse_within_the_bound() {
        let reviewed = crate::fixture::date(-3);
        let sources = vec![
            ("front matter of 50,000 unknown keys", {
                let keys: String = (0..50_000).map(|i| format!("key{i}: v\n")).collect();
                format!("---\n{keys}---\nbody\n")
            }),
            (
                "a 1 MB title",
                format!(
                    "---\ntitle: {}\nsummary: s\nlast_reviewed: {reviewed}\n---\nb\n",
                    "t".repeat(MB)
                ),
            ),
            (
                "deeply nested YAML",
                format!(
                    "---\ntitle: {}{}\n---\n",
                    "[".repeat(MB / 2),
                    "]".repeat(MB / 2)
                ),
            ),
            ("YAML alias bomb", {
                let mut s = String::from("---\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
                for i in 1..30 {
                    let prev = i - 1;
                    s.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
                }
                s.push_str("title: t\n---\n");
                s
            }),
            (
                "50,000 list items",
                format!(
                    "---\ntitle: t\nsummary: s\nlast_reviewed: {reviewed}\nkeywords:\n{}---\n",
                    "  - k\n".repeat(50_000)
                ),
            ),
            (
                "no closing ---",
                format!("---\n{}", "title: t\n".repeat(MB / 9)),
            ),
            (
                "20,000 identical headings",
                article_with_body(&"## Same\n\ntext\n\n".repeat(20_000)),
            ),
            (
                "1 MB of unsafe links",
                article_with_body(&mb_of("[a](javascript:x) ")),
            ),
            (
                "1 MB of article links",
                article_with_body(&mb_of("[a](/articles/nope) ")),
            ),
        ];
        for (name, src) in sources {
            let result = timed(&format!("article: {name}"), || check_article(&src));
            if let Err(e) = result {
                panic!("{name}: {}", e.chars().take(300).collect::<String>());
            }
        }
    }

    #[test]
    fn content_files_of_a_megabyte_parse_within_the_bound() {
        let many_groups: String = (0..MB / 40)
            .map(|i| format!("term{i}, other{i}, third{i}\n"))
            .collect();
        let synonym_sources = vec![
            (
                "one 1 MB synonym group",
                (0..MB / 8).map(|i| format!("t{i}, ")).collect::<String>() + "end",
            ),
            (
                "one key, 50,000 one-way rules",
                (0..50_000).map(|i| format!("card => c{i}\n")).collect(),
            ),
            ("short groups", many_groups),
            ("commas", mb_of(",")),
            ("arrows", mb_of("=>")),
        ];
        for (name, src) in synonym_sources {
            let rules = timed(&format!("synonyms: {name}"), || check_synonyms(&src))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let map = timed(&format!("synonym map: {name}"), || SynonymMap::new(&rules));
            timed(&format!("synonym lookup: {name}"), || {
                map.find(&["t1", "card", "term5", "end"])
            });
        }
        let ticket_sources = vec![
            ("16,000 entries", (0..16_000)
                .map(|i| format!("[[ticket_type]]\nid = \"t{i}\"\nname = \"T\"\ntier = \"L1\"\npriority = \"P4\"\n"))
                .collect::<String>()),
            ("16,000 broken entries", mb_of("[[ticket_type]]\nidd = 1\n")),
            ("deep arrays", format!("x = {}{}", "[".repeat(MB / 2), "]".repeat(MB / 2))),
            ("a 1 MB string", format!("[[ticket_type]]\nid = \"{}\"\n", "x".repeat(MB))),
            ("a 1 MB unknown key", format!("[[ticket_type]]\n{} = 1\n", "k".repeat(MB))),
        ];
        for (name, src) in &ticket_sources {
            timed(&format!("ticket types: {name}"), || check_ticket_types(src))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let config_sources = vec![
            (
                "deep arrays",
                format!("site_name = {}{}", "[".repeat(MB / 2), "]".repeat(MB / 2)),
            ),
            (
                "deep tables",
                format!("site_name = {}{}", "{a=".repeat(MB / 4), "}".repeat(MB / 4)),
            ),
            (
                "a 1 MB string",
                format!("site_name = \"{}\"", "x".repeat(MB)),
            ),
            ("a 1 MB comment", format!("#{}", "x".repeat(MB))),
            ("100,000 lines", "# c\n".repeat(100_000) + "nope = 1\n"),
        ];
        for (name, src) in &config_sources {
            timed(&format!("config: {name}"), || check_config(src))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn queries_of_a_megabyte_are_analysed_within_the_bound() {
        let kb = kb();
        let texts = vec![
            ("words", mb_of("card arrived twice ")),
            ("one long word", "a".repeat(MB)),
            ("markup", mb_of("<script>&amp;")),
            ("unicode", mb_of("ünïcödé 🙂 ")),
            ("separators", mb_of(" -")),
        ];
        for (name, text) in &texts {
            timed(&format!("analysis: {name}"), || check_words(text))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            timed(&format!("query plan: {name}"), || {
                QueryPlan::new(text, kb.engine.vocabulary(), &kb.synonyms)
            });
            timed(&format!("search: {name}"), || check_search(text, 10, None))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            timed(&format!("typos: {name}"), || {
                kb.engine.vocabulary().fuzzy(text, 3);
                kb.engine.vocabulary().completions(text, 8);
            });
            timed(&format!("snippet: {name}"), || {
                let words = analysis::words(text);
                let lexicon = Lexicon::of_words(words.iter().map(|w| w.text.as_str()));
                let h = Highlights {
                    exact: ["card".to_string(), "a".repeat(40)].into(),
                    stems: ["twice".to_string()].into(),
                };
                let matched = lexicon.matching(&h);
                let tokens = lexicon.tokenize(text, &matched);
                if let Some(s) = snippet::best(text, &tokens, &lexicon) {
                    check_snippet(&s).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checked-in corpus of hostile inputs, through every parser.

mod corpus {
    use super::*;

    fn files() -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("tests/fixtures/hostile")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
            .map(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&p).expect("read"))
            })
            .collect();
        out.sort();
        assert!(out.len() >= 20, "the corpus has {} files", out.len());
        out
    }

    #[test]
    fn the_readme_lists_every_corpus_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
        let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
        let mut total = 0;
        for (name, bytes) in files() {
            total += bytes.len();
            assert!(
                readme.contains(&format!("`{name}`")),
                "README.md does not list {name}"
            );
        }
        assert!(
            total < 100 * 1024,
            "the corpus is {total} bytes; generate big inputs in code"
        );
    }

    /// Every file through every parser: no panic, no hang, and each parser's properties.
    #[test]
    fn every_parser_survives_every_corpus_file() {
        for (name, bytes) in files() {
            let text = String::from_utf8_lossy(&bytes);
            let fail = |parser: &str, e: String| -> ! { panic!("{name} as {parser}: {e}") };
            within_bound(&format!("corpus {name}"), || {
                let r = markdown::render(&text, 1);
                check_rendered(&r, &text, 1).unwrap_or_else(|e| fail("markdown", e));
                check_article(&text).unwrap_or_else(|e| fail("article", e));
                check_synonyms(&text).unwrap_or_else(|e| fail("synonyms", e));
                check_ticket_types(&text).unwrap_or_else(|e| fail("ticket types", e));
                check_config(&text).unwrap_or_else(|e| fail("config", e));
                check_words(&text).unwrap_or_else(|e| fail("analysis", e));
                check_search(&text, 10, None).unwrap_or_else(|e| fail("search", e));
                for line in text.lines() {
                    check_search(line, 5, None).unwrap_or_else(|e| fail("search", e));
                }
            });
        }
    }

    /// Every file as the body of every JSON endpoint, and each line as a query string.
    #[test]
    fn every_corpus_file_is_a_safe_request() {
        for (name, bytes) in files() {
            for (method, uri, admin) in [
                ("POST", "/api/v1/suggest", false),
                ("POST", "/api/v1/tickets", false),
                ("POST", "/api/v1/articles/card-arrival/votes", false),
                ("POST", "/api/v1/search/x/clicks", false),
                ("POST", "/api/v1/admin/learning/rejections", true),
                ("PATCH", "/api/v1/admin/tickets/1", true),
            ] {
                check_http(method, uri, "application/json", bytes.clone(), admin)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            for line in String::from_utf8_lossy(&bytes).lines().take(50) {
                let uri = format!("/api/v1/search?q={}", percent_encoded(line.as_bytes()));
                check_http("GET", &uri, "application/json", Vec::new(), false)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
}
