//! Property tests of the importers on hostile input: HTML built from script tags, event
//! handlers, `javascript:` URLs, broken nesting and odd characters; JSON of any shape where
//! an export should be. Nothing panics, no script or unsafe URL survives, and every written
//! file is an article `deflect check` accepts.

use std::path::Path;
use std::sync::Arc;

use deflect::content::Article;
use deflect::import::html::{Converter, LinkMap};
use deflect::import::{Export, System};
use proptest::prelude::*;
use serde_json::Value;

use crate::fixture::today;

/// Fragments that together make hostile HTML.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<script>alert(1)</script>".to_string()),
        Just("<SCRIPT SRC=//evil.example/x.js></SCRIPT>".to_string()),
        Just("<scr<script>ipt>alert(2)</script>".to_string()),
        Just("<a href=\"javascript:alert(3)\">a</a>".to_string()),
        Just("<a href=\" JaVaScRiPt:alert(4)\">b</a>".to_string()),
        Just("<a href=\"jav&#x09;ascript:alert(5)\">c</a>".to_string()),
        Just("<img src=x onerror=alert(6)>".to_string()),
        Just("<img src=\"javascript:alert(7)\">".to_string()),
        Just("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">d</a>".to_string()),
        Just("<a href=\"vbscript:msgbox(8)\">e</a>".to_string()),
        Just("<svg onload=alert(9)><script>x</script></svg>".to_string()),
        Just("<iframe src=\"javascript:alert(10)\"></iframe>".to_string()),
        Just("<iframe src=\"https://www.youtube.com/embed/x\"></iframe>".to_string()),
        Just("<style>body{background:url(javascript:alert(11))}</style>".to_string()),
        Just("<div style=\"background:url(javascript:alert(12))\">s</div>".to_string()),
        Just("<form action=\"https://evil.example\"><input name=p></form>".to_string()),
        Just("<table><tr><td><ul><li>1<li>2</ul><td>x</table>".to_string()),
        Just("<ol><li><ol><li><ol><li>deep</ol></ol></ol>".to_string()),
        Just("<pre><code>&lt;/code&gt; ``` ~~~</code></pre>".to_string()),
        Just("<h1>t</h1><h6>six</h6><p>".to_string()),
        Just("<math><mi xlink:href=\"javascript:alert(13)\">m</mi></math>".to_string()),
        Just("<!-- <script>alert(14)</script> -->".to_string()),
        Just("<a href=\"/hc/en-us/articles/123-x\">old</a>".to_string()),
        Just("]]></p></div></table>".to_string()),
        "[a-zA-Z0-9 <>&\"'=/\\[\\]()*_#`!-]{0,30}",
        "\\PC{0,12}",
    ]
}

fn hostile_html() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..12).prop_map(|parts| parts.concat())
}

/// Link and image destinations of a Markdown text.
fn destinations(md: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag};
    Parser::new(md)
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

fn unsafe_scheme(url: &str) -> bool {
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|s| squeezed.starts_with(s))
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        hostile_html().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("title".to_string()),
                    Just("body".to_string()),
                    Just("section_id".to_string()),
                    Just("label_names".to_string()),
                    Just("html_url".to_string()),
                    Just("updated_at".to_string()),
                    Just("draft".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Zendesk-shaped articles whose every field may be hostile.
fn zendesk_article() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            any::<u32>().prop_map(Value::from),
            "\\PC{0,10}".prop_map(Value::String)
        ],
        "\\PC{0,40}",
        hostile_html(),
        prop::collection::vec("\\PC{0,15}", 0..15),
        prop_oneof![
            Just(Value::Null),
            "\\PC{0,30}".prop_map(Value::String),
            Just(Value::from("https://x.zendesk.com/hc/en-us/articles/1-a"))
        ],
        prop_oneof![
            Just(Value::Null),
            Just(Value::from("2024-05-01T00:00:00Z")),
            Just(Value::from("2999-01-01T00:00:00Z")),
            "\\PC{0,12}".prop_map(Value::String)
        ],
        any::<bool>(),
        prop_oneof![Just(Value::Null), (0u32..4).prop_map(Value::from)],
    )
        .prop_map(|(id, title, body, labels, url, updated, draft, section)| {
            serde_json::json!({
                "id": id, "title": title, "body": body, "label_names": labels,
                "html_url": url, "updated_at": updated, "draft": draft, "section_id": section,
            })
        })
}

fn sections() -> Value {
    serde_json::json!({"sections": [
        {"id": 0, "name": "<b>Zero</b>", "category_id": 9},
        {"id": 1, "name": "", "parent_section_id": 2},
        {"id": 2, "name": "Loop", "parent_section_id": 1},
        {"id": 3, "name": "../../etc", "category_id": 9}
    ], "categories": [{"id": 9, "name": "\u{202e}evil\u{0}"}]})
}

proptest! {
    // 200 cases in `cargo test`; `PROPTEST_CASES=N` (scripts/fuzz-long) runs N.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_html_never_panics_and_no_script_survives(html in hostile_html()) {
        let converter = Converter::new(Arc::new(LinkMap::default()));
        let (md, _notes) = converter.convert(&html);
        let lower = md.to_lowercase();
        prop_assert!(!lower.contains("<script"), "{md}");
        prop_assert!(!lower.contains("onerror") && !lower.contains("onload"), "{md}");
        for url in destinations(&md) {
            prop_assert!(!unsafe_scheme(&url), "unsafe link {url} in {md}");
        }
        // As served: Deflect's renderer never passes raw HTML through.
        let rendered = deflect::content::markdown::render(&md, 1);
        prop_assert!(!rendered.html.to_lowercase().contains("<script"), "{}", rendered.html);
    }

    #[test]
    fn any_json_where_an_export_should_be_never_panics(root in any_json()) {
        let mut export = Export::new(System::Zendesk);
        let file = Path::new("export/articles.json");
        deflect::import::zendesk::read_response(file, &root, &mut export);
        for s in &export.skipped {
            prop_assert!(s.to_string().starts_with("export/articles.json"), "{s}");
        }
        let plan = deflect::import::plan::plan(&export, &[], today(), &mut |_, _| {});
        prop_assert_eq!(plan.articles.len(), export.articles.len());
    }

    #[test]
    fn every_imported_file_is_an_article_check_accepts(
        articles in prop::collection::vec(zendesk_article(), 1..8),
    ) {
        let mut root = sections();
        root["articles"] = Value::Array(articles);
        let mut export = Export::new(System::Zendesk);
        deflect::import::zendesk::read_response(Path::new("articles.json"), &root, &mut export);
        export.dedupe();
        let plan = deflect::import::plan::plan(&export, &[], today(), &mut |_, _| {});
        let mut slugs = std::collections::HashSet::new();
        for (file, article) in plan.files.iter().zip(&plan.articles) {
            prop_assert!(!file.path.components().any(|c| matches!(c, std::path::Component::ParentDir | std::path::Component::RootDir)), "{}", file.path.display());
            prop_assert!(file.path.components().count() <= 4, "{}", file.path.display());
            let mut diags = Vec::new();
            let parsed = Article::parse(&file.path, &file.path, &file.text, today(), &mut diags);
            let errors: Vec<String> = diags.iter().filter(|d| d.is_error()).map(ToString::to_string).collect();
            prop_assert!(parsed.is_some() && errors.is_empty(), "{errors:?}\n{}", file.text);
            prop_assert!(slugs.insert(article.slug.clone()), "duplicate slug {}", article.slug);
            prop_assert!(!file.text.to_lowercase().contains("<script"), "{}", file.text);
        }
    }
}
