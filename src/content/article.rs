//! An article: validated front matter plus its rendered body, parsed from `&str` without disk I/O.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::diagnostic::Diagnostic;
use super::front_matter::{self, ArticleStatus, FrontMatter};
use super::markdown::{self, Faq, Heading, Link};

/// Categories nest at most this deep (`cards/virtual/disposable`).
pub const MAX_CATEGORY_DEPTH: usize = 3;

/// The sections of the article template, in order.
pub const TEMPLATE_SECTIONS: [&str; 6] = [
    "Quick answer",
    "Before you start",
    "Steps",
    "Troubleshooting",
    "Related articles",
    "Still need help?",
];

/// One help article.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Article {
    pub slug: String,
    /// Path relative to the content directory.
    pub path: PathBuf,
    /// Folder path relative to the content directory, `/`-separated; empty at the root.
    pub category: String,
    #[serde(flatten)]
    pub front: FrontMatter,
    /// Plain text of the searchable body, as parsed. `None` once the search index has it:
    /// a served help center keeps it there, on disk, rather than every article's in memory
    /// (see [`Article::without_text`]).
    #[serde(skip)]
    pub text: Option<String>,
    /// A hash of `text`, kept when the text is not: whether the body changed since indexing.
    #[serde(skip)]
    pub text_hash: u64,
    /// The body's first line, kept when the text is not: the answer of an article without
    /// a Quick answer (see [`Article::answer_text`]). Empty when there is a Quick answer.
    #[serde(skip)]
    pub lead: String,
    pub headings: Vec<Heading>,
    /// The `## Quick answer` text: what a chatbot replies with.
    pub quick_answer: Option<String>,
    #[serde(skip)]
    pub links: Vec<Link>,
    /// Bold-question list items, for schema.org FAQPage data.
    #[serde(skip)]
    pub faqs: Vec<Faq>,
}

/// The first non-empty line of a text, trimmed.
fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

/// A hash of a body text: equal texts, equal hashes (a new Rust may hash differently: then the
/// index reindexes everything once).
fn hash_text(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The body of an article's source as HTML: the same renderer and the same result as when the
/// article was loaded. `None` without front matter.
pub fn body_html(src: &str) -> Option<String> {
    let split = front_matter::split(src).ok()?;
    Some(markdown::render(split.body, split.body_first_line).html)
}

impl Article {
    /// The body as HTML, rendered from its file now (`content_dir` is the content directory
    /// its `path` is relative to). Pages render it per view (a fraction of a millisecond)
    /// rather than every article keeping its HTML in memory — at 100,000 articles that is as
    /// much again as the Markdown. `None` when the file is gone or lost its front matter since
    /// the last load (the watcher's reload follows).
    pub fn html(&self, content_dir: &Path) -> Option<String> {
        let src = std::fs::read_to_string(content_dir.join(&self.path)).ok()?;
        body_html(&src)
    }

    /// Parses `src`, the contents of `rel_path` (relative to the content directory).
    /// Problems go to `diags`; `None` when the article cannot be served.
    pub fn parse(
        rel_path: &Path,
        display_path: &Path,
        src: &str,
        today: NaiveDate,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Article> {
        let errors_before = diags.iter().filter(|d| d.is_error()).count();
        let file_slug = rel_path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let folders: Vec<String> = rel_path
            .parent()
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if folders.len() > MAX_CATEGORY_DEPTH {
            diags.push(Diagnostic::error(
                display_path,
                0,
                format!(
                    "category folders nest {} levels deep, at most {MAX_CATEGORY_DEPTH} allowed",
                    folders.len()
                ),
                "move the article into a shallower folder",
            ));
        }
        let split = match front_matter::split(src) {
            Ok(s) => s,
            Err(e) => {
                diags.push(Diagnostic::error(
                    display_path,
                    1,
                    e,
                    "start the file with `---`, the front matter (title, summary, last_reviewed, ...), then `---`",
                ));
                return None;
            }
        };
        let front = front_matter::parse(
            display_path,
            split.yaml,
            split.yaml_first_line,
            today,
            diags,
        );
        // A `slug:` key overrides the file name's (docs sites name files `01-intro.md`).
        let slug = match front.as_ref().and_then(|f| f.slug.clone()) {
            Some(slug) => slug,
            None => {
                if !front_matter::is_slug(&file_slug) {
                    diags.push(Diagnostic::error(
                        display_path,
                        0,
                        format!("file name `{file_slug}` is not a valid slug"),
                        "rename the file using lowercase letters, digits and hyphens, e.g. `card-not-arrived.md`, or add `slug: card-not-arrived`",
                    ));
                }
                file_slug
            }
        };
        let rendered = markdown::render(split.body, split.body_first_line);

        let quick_answer = rendered
            .sections
            .iter()
            .find(|s| s.title.eq_ignore_ascii_case("quick answer"))
            .map(|s| s.text.clone());
        // Without one the article is still served and searched; the suggestion endpoint
        // answers from its first paragraph or summary instead (`answer_text`).
        match &quick_answer {
            None => diags.push(Diagnostic::warning(
                display_path,
                split.body_first_line,
                "missing `## Quick answer` section: the suggestion endpoint answers from the first paragraph instead",
                "add `## Quick answer` with two to four sentences that answer the question on their own",
            )),
            Some(text) if text.is_empty() => diags.push(Diagnostic::warning(
                display_path,
                split.body_first_line,
                "the `## Quick answer` section is empty",
                "write two to four sentences that answer the question on their own",
            )),
            Some(_) => {}
        }
        for wanted in TEMPLATE_SECTIONS
            .iter()
            .skip(1)
            .filter(|_| quick_answer.is_some())
        {
            if !rendered
                .sections
                .iter()
                .any(|s| s.title.eq_ignore_ascii_case(wanted))
            {
                diags.push(Diagnostic::warning(
                    display_path,
                    split.body_first_line,
                    format!("missing `## {wanted}` section of the article template"),
                    "follow the template: Quick answer, Before you start, Steps, Troubleshooting, Related articles, Still need help?",
                ));
            }
        }

        for link in &rendered.unsafe_urls {
            let shown: String = link.url.chars().take(40).collect();
            diags.push(Diagnostic::warning(
                display_path,
                link.line,
                format!("the link or image `{shown}` could run script in readers' browsers; it is served as `#`"),
                "link to an https:// page or an article (`/articles/slug`), and put images in the content repository",
            ));
        }
        for &line in &rendered.heading_attributes {
            diags.push(Diagnostic::warning(
                display_path,
                line,
                "the heading's attributes (`{key=value}`) are dropped: they could run script in readers' browsers",
                "remove the `{…}` after the heading; a `{.class}` is kept, and the anchor comes from the heading's text",
            ));
        }
        let errors_after = diags.iter().filter(|d| d.is_error()).count();
        if errors_after > errors_before {
            return None;
        }
        let quick_answer = quick_answer.filter(|q| !q.is_empty());
        let lead = match quick_answer {
            Some(_) => String::new(),
            None => first_line(&rendered.text).to_string(),
        };
        let mut article = Article {
            slug,
            path: rel_path.to_path_buf(),
            category: folders.join("/"),
            front: front?,
            text_hash: hash_text(&rendered.text),
            text: Some(rendered.text),
            lead,
            headings: rendered.headings,
            quick_answer,
            links: rendered.links,
            faqs: rendered.faqs,
        };
        article.shrink_to_fit();
        Some(article)
    }

    /// Gives back what the parse over-allocated: texts and lists grown piece by piece hold up to
    /// twice their length, and every article is kept in memory (100,000 generated articles: 81 MB).
    fn shrink_to_fit(&mut self) {
        if let Some(t) = &mut self.text {
            t.shrink_to_fit();
        }
        self.headings.shrink_to_fit();
        for h in &mut self.headings {
            h.text.shrink_to_fit();
            h.id.shrink_to_fit();
        }
        self.links.shrink_to_fit();
        for l in &mut self.links {
            l.url.shrink_to_fit();
        }
        self.faqs.shrink_to_fit();
        for f in &mut self.faqs {
            f.question.shrink_to_fit();
            f.answer.shrink_to_fit();
        }
        if let Some(q) = &mut self.quick_answer {
            q.shrink_to_fit();
        }
        let front = &mut self.front;
        for list in [
            &mut front.aliases,
            &mut front.ticket_types,
            &mut front.keywords,
            &mut front.tags,
            &mut front.related,
        ] {
            list.shrink_to_fit();
            list.iter_mut().for_each(String::shrink_to_fit);
        }
        front.title.shrink_to_fit();
        front.summary.shrink_to_fit();
    }

    pub fn is_published(&self) -> bool {
        self.front.status == ArticleStatus::Published
    }

    /// What the suggestion endpoint replies with: the Quick answer; without one, the first
    /// paragraph of the body; without a body, the summary.
    pub fn answer_text(&self) -> &str {
        if let Some(q) = &self.quick_answer {
            return q;
        }
        if self.lead.is_empty() {
            &self.front.summary
        } else {
            &self.lead
        }
    }

    /// The article without its body text, for keeping in memory once the search index holds
    /// the text: at 100,000 articles the texts are about a third of what the articles take.
    pub fn without_text(&self) -> Article {
        Article {
            slug: self.slug.clone(),
            path: self.path.clone(),
            category: self.category.clone(),
            front: self.front.clone(),
            text: None,
            text_hash: self.text_hash,
            lead: self.lead.clone(),
            headings: self.headings.clone(),
            quick_answer: self.quick_answer.clone(),
            links: self.links.clone(),
            faqs: self.faqs.clone(),
        }
    }

    /// The article's URL path on the help center.
    pub fn url(&self) -> String {
        format!("/articles/{}", self.slug)
    }

    /// The category and every parent category: `cards/virtual` → `cards`, `cards/virtual`
    /// (prefixes of `category`: nothing is allocated).
    pub fn category_ancestors(&self) -> impl Iterator<Item = &str> {
        let c = self.category.as_str();
        c.match_indices('/')
            .map(|(i, _)| i)
            .chain([c.len()])
            .filter(|&end| end > 0 && !c[..end].ends_with('/'))
            .map(move |end| &c[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date")
    }

    const SRC: &str = "---\ntitle: Where is my card?\nsummary: Delivery times.\nlast_reviewed: 2026-10-01\nticket_types: [card_arrival]\n---\n\nDelivery.\n\n## Quick answer\n\nCards take 3-5 working days.\n\n## Before you start\n\n## Steps\n\n## Troubleshooting\n\n## Related articles\n\n## Still need help?\n";

    #[test]
    fn parses_slug_category_and_quick_answer() {
        let mut diags = Vec::new();
        let path = Path::new("cards/virtual/card-arrival.md");
        let a = Article::parse(path, path, SRC, today(), &mut diags).expect("parsed");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(a.slug, "card-arrival");
        assert_eq!(a.category, "cards/virtual");
        assert_eq!(
            a.category_ancestors().collect::<Vec<_>>(),
            ["cards", "cards/virtual"]
        );
        assert_eq!(
            a.quick_answer.as_deref(),
            Some("Cards take 3-5 working days.")
        );
        assert_eq!(a.url(), "/articles/card-arrival");
    }

    /// Every article stays in memory, so none keeps the slack its parse grew into.
    #[test]
    fn a_parsed_article_holds_no_spare_capacity() {
        let body = "A paragraph of several words that grows the text.\n\n".repeat(40);
        let src = SRC.replace(
            "Delivery.\n",
            &format!("{body}\n- **Can I track it?** Yes.\n"),
        );
        let mut diags = Vec::new();
        let path = Path::new("cards/card-arrival.md");
        let a = Article::parse(path, path, &src, today(), &mut diags).expect("parsed");
        let text = a.text.as_ref().expect("a parsed article has its text");
        assert!(text.len() > 1000, "{}", text.len());
        assert_eq!(text.capacity(), text.len());
        assert_eq!(a.headings.capacity(), a.headings.len());
        assert!(
            a.headings.iter().all(|h| h.text.capacity() == h.text.len()),
            "{:?}",
            a.headings
        );
        assert_eq!(a.faqs.len(), 1, "{:?}", a.faqs);
        assert_eq!(a.faqs[0].answer.capacity(), a.faqs[0].answer.len());
        assert_eq!(a.front.ticket_types.capacity(), a.front.ticket_types.len());
    }

    #[test]
    fn bad_slug_and_depth_are_errors() {
        let mut diags = Vec::new();
        let path = Path::new("a/b/c/d/Bad Name.md");
        assert!(Article::parse(path, path, SRC, today(), &mut diags).is_none());
        let all: Vec<String> = diags.iter().map(ToString::to_string).collect();
        let all = all.join("\n");
        assert!(all.contains("is not a valid slug"), "{all}");
        assert!(all.contains("4 levels deep"), "{all}");
    }

    #[test]
    fn without_quick_answer_it_is_served_and_answers_from_the_first_paragraph() {
        let src = SRC.replace("## Quick answer", "## Answer");
        let mut diags = Vec::new();
        let path = Path::new("cards/card-arrival.md");
        let a = Article::parse(path, path, &src, today(), &mut diags).expect("served");
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        assert!(
            diags[0].message.contains("missing `## Quick answer`"),
            "{diags:?}"
        );
        assert_eq!(diags.len(), 1, "no template nagging on top: {diags:?}");
        assert_eq!(a.quick_answer, None);
        assert_eq!(a.answer_text(), "Delivery.");
        // The same once the text is released to the search index.
        let lean = a.without_text();
        assert_eq!(lean.text, None);
        assert_eq!(lean.text_hash, a.text_hash);
        assert_eq!(lean.answer_text(), "Delivery.");
        let only_front = "---\ntitle: t\nsummary: The summary.\nlast_reviewed: 2026-10-01\n---\n";
        let a = Article::parse(path, path, only_front, today(), &mut Vec::new()).expect("served");
        assert_eq!(a.answer_text(), "The summary.");
    }

    #[test]
    fn docs_site_keys_slug_description_and_aliases() {
        let src = "---\ntitle: Where is my card?\ndescription: Delivery times.\nslug: where-is-my-card\nlast_reviewed: 2026-10-01\naliases: [/old/card/, \"https://help.example.com/hc/en-us/articles/360001-Card?x=1\"]\nredirect_from: legacy/card\nsidebar_position: 3\n---\n\nText.\n";
        let mut diags = Vec::new();
        let path = Path::new("cards/01-card.md");
        let a = Article::parse(path, path, src, today(), &mut diags).expect("served");
        assert_eq!(a.slug, "where-is-my-card");
        assert_eq!(a.front.summary, "Delivery times.");
        assert_eq!(
            a.front.aliases,
            [
                "/old/card",
                "/hc/en-us/articles/360001-Card",
                "/legacy/card"
            ]
        );
        assert_eq!(a.front.aliases_line, 6);
        let unknown: Vec<_> = diags
            .iter()
            .filter(|d| d.message.contains("unknown front-matter key"))
            .collect();
        assert_eq!(unknown.len(), 1, "{diags:?}");
        assert!(!unknown[0].is_error());
        assert_eq!(unknown[0].line, 8);

        let bad = src.replace("slug: where-is-my-card", "slug: Where Is");
        let mut diags = Vec::new();
        assert!(Article::parse(path, path, &bad, today(), &mut diags).is_none());
        assert!(
            diags.iter().any(
                |d| d.is_error() && d.message.contains("`slug` `Where Is` is not a valid slug")
            ),
            "{diags:?}"
        );
    }
}
