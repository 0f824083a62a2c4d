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
    pub html: String,
    /// Plain text of the searchable body.
    #[serde(skip)]
    pub text: String,
    pub headings: Vec<Heading>,
    /// The `## Quick answer` text: what a chatbot replies with.
    pub quick_answer: Option<String>,
    #[serde(skip)]
    pub links: Vec<Link>,
    /// Bold-question list items, for schema.org FAQPage data.
    #[serde(skip)]
    pub faqs: Vec<Faq>,
}

impl Article {
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
        let slug = rel_path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            diags.push(Diagnostic::error(
                display_path,
                0,
                format!("file name `{slug}` is not a valid slug"),
                "rename the file using lowercase letters, digits and hyphens, e.g. `card-not-arrived.md`",
            ));
        }
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
        let rendered = markdown::render(split.body, split.body_first_line);

        let quick_answer = rendered
            .sections
            .iter()
            .find(|s| s.title.eq_ignore_ascii_case("quick answer"))
            .map(|s| s.text.clone());
        match &quick_answer {
            None => diags.push(Diagnostic::error(
                display_path,
                split.body_first_line,
                "missing `## Quick answer` section",
                "add `## Quick answer` with two to four sentences that answer the question on their own",
            )),
            Some(text) if text.is_empty() => diags.push(Diagnostic::error(
                display_path,
                split.body_first_line,
                "the `## Quick answer` section is empty",
                "write two to four sentences that answer the question on their own",
            )),
            Some(_) => {}
        }
        for wanted in TEMPLATE_SECTIONS.iter().skip(1) {
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

        let errors_after = diags.iter().filter(|d| d.is_error()).count();
        if errors_after > errors_before {
            return None;
        }
        Some(Article {
            slug,
            path: rel_path.to_path_buf(),
            category: folders.join("/"),
            front: front?,
            html: rendered.html,
            text: rendered.text,
            headings: rendered.headings,
            quick_answer,
            links: rendered.links,
            faqs: rendered.faqs,
        })
    }

    pub fn is_published(&self) -> bool {
        self.front.status == ArticleStatus::Published
    }

    /// The article's URL path on the help center.
    pub fn url(&self) -> String {
        format!("/articles/{}", self.slug)
    }

    /// The category and every parent category: `cards/virtual` → `cards`, `cards/virtual`.
    pub fn category_ancestors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut acc = String::new();
        for part in self.category.split('/').filter(|p| !p.is_empty()) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            out.push(acc.clone());
        }
        out
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
        assert_eq!(a.category_ancestors(), ["cards", "cards/virtual"]);
        assert_eq!(
            a.quick_answer.as_deref(),
            Some("Cards take 3-5 working days.")
        );
        assert_eq!(a.url(), "/articles/card-arrival");
    }

    #[test]
    fn missing_quick_answer_is_an_error_and_bad_slug_too() {
        let src = SRC.replace("## Quick answer", "## Answer");
        let mut diags = Vec::new();
        let path = Path::new("a/b/c/d/Bad Name.md");
        assert!(Article::parse(path, path, &src, today(), &mut diags).is_none());
        let all: Vec<String> = diags.iter().map(ToString::to_string).collect();
        let all = all.join("\n");
        assert!(all.contains("missing `## Quick answer` section"), "{all}");
        assert!(all.contains("is not a valid slug"), "{all}");
        assert!(all.contains("4 levels deep"), "{all}");
    }
}
