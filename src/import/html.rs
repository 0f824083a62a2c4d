//! A source system's article HTML to clean Markdown: sanitized first (ammonia: scripts, styles
//! and unsafe URL schemes removed), then converted (htmd). Embedded videos become links; links
//! to the old help center's articles are rewritten to the new slugs.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use htmd::element_handler::Handlers;
use htmd::{Element, HtmlToMarkdown};

/// Old article URLs (paths, and numbered keys) mapped to new slugs, shared by every converter.
#[derive(Debug, Default)]
pub struct LinkMap {
    by_path: HashMap<String, String>,
    by_number: HashMap<String, String>,
    /// Path prefixes that belong to the old help center: a link there to an article not in
    /// the export is a broken internal link.
    old_prefixes: BTreeSet<String>,
}

impl LinkMap {
    /// Records that `old_url` (full URL or path) is now the article `slug`.
    pub fn insert(&mut self, old_url: &str, slug: &str) {
        let Some(path) = crate::content::front_matter::normalize_path(old_url) else {
            return;
        };
        if let Some(number) = article_number(&path) {
            self.by_number.insert(number, slug.to_string());
        }
        if let Some((prefix, _)) = path.rsplit_once('/') {
            self.old_prefixes.insert(format!("{prefix}/"));
        }
        self.by_path.insert(path, slug.to_string());
    }

    /// Records that links naming article number `number` mean `slug`.
    pub fn insert_number(&mut self, number: &str, slug: &str) {
        self.by_number.insert(number.to_string(), slug.to_string());
    }

    /// What becomes of a link: rewritten to a slug, a broken link into the old help center,
    /// or left alone (external, anchors, mail).
    pub fn resolve(&self, url: &str) -> LinkFate {
        let url = url.trim();
        if url.starts_with('#') || url.starts_with("mailto:") || url.starts_with("tel:") {
            return LinkFate::Keep;
        }
        let Some(path) = crate::content::front_matter::normalize_path(url) else {
            return LinkFate::Keep;
        };
        let anchor = url.split_once('#').map(|(_, a)| a);
        let found = self
            .by_path
            .get(&path)
            .or_else(|| article_number(&path).and_then(|n| self.by_number.get(&n)));
        if let Some(slug) = found {
            return LinkFate::Rewrite(match anchor {
                Some(a) if !a.is_empty() => format!("/articles/{slug}#{a}"),
                _ => format!("/articles/{slug}"),
            });
        }
        let into_old = article_number(&path).is_some()
            && self
                .old_prefixes
                .iter()
                .any(|p| path.starts_with(p.as_str()));
        if into_old {
            LinkFate::Broken
        } else {
            LinkFate::Keep
        }
    }
}

/// The number of an article in a help-center path: `/hc/en-us/articles/360001234-How-to` →
/// `360001234` (Zendesk, Help Scout's `/article/12-x`, Intercom's `/articles/123-x`).
pub fn article_number(path: &str) -> Option<String> {
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let last = parts.next()?;
    if !matches!(parts.next()?, "articles" | "article") {
        return None;
    }
    let number: String = last.chars().take_while(char::is_ascii_digit).collect();
    let rest = &last[number.len()..];
    (!number.is_empty() && (rest.is_empty() || rest.starts_with('-'))).then_some(number)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkFate {
    Keep,
    Rewrite(String),
    Broken,
}

/// What converting one article's HTML found worth telling its author.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// `<script>`, `<style>`, forms and other active content removed, by tag.
    pub dropped: BTreeSet<String>,
    /// Embedded videos and frames, turned into links.
    pub embeds: usize,
    /// Links to other imported articles, pointed at their new slugs.
    pub links_rewritten: usize,
    /// Links into the old help center whose article is not in the export.
    pub links_broken: Vec<String>,
    /// Images still served by the source system.
    pub remote_images: usize,
}

#[derive(Default)]
struct Seen {
    rewritten: usize,
    broken: Vec<String>,
    remote_images: usize,
}

/// One converter per thread: the sanitizer and the HTML → Markdown rules, with the link map.
pub struct Converter {
    sanitizer: ammonia::Builder<'static>,
    markdown: HtmlToMarkdown,
    seen: Arc<Mutex<Seen>>,
}

/// Tags whose content is removed whole; anything else unknown keeps its text.
const DROPPED: [&str; 8] = [
    "script", "style", "noscript", "template", "object", "embed", "form", "applet",
];

impl Converter {
    pub fn new(links: Arc<LinkMap>) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut sanitizer = ammonia::Builder::default();
        sanitizer
            .add_tags(["iframe", "video", "source"])
            .add_tag_attributes("iframe", ["src", "title"])
            .add_tag_attributes("video", ["src", "title", "poster"])
            .add_tag_attributes("source", ["src"])
            .add_tag_attributes("code", ["class"])
            .rm_tags(["object", "embed", "form", "applet"])
            .clean_content_tags(DROPPED.into_iter().collect())
            .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(None)
            .strip_comments(true);
        let filter_seen = Arc::clone(&seen);
        sanitizer.attribute_filter(move |element, attribute, value| {
            let mut seen = filter_seen.lock().unwrap_or_else(PoisonError::into_inner);
            match (element, attribute) {
                ("a", "href") => match links.resolve(value) {
                    LinkFate::Rewrite(to) => {
                        seen.rewritten += 1;
                        Some(Cow::Owned(to))
                    }
                    LinkFate::Broken => {
                        seen.broken.push(value.to_string());
                        Some(Cow::Borrowed(value))
                    }
                    LinkFate::Keep => Some(Cow::Borrowed(value)),
                },
                ("img", "src") => {
                    if value.starts_with("http://") || value.starts_with("https://") {
                        seen.remote_images += 1;
                    }
                    Some(Cow::Borrowed(value))
                }
                _ => Some(Cow::Borrowed(value)),
            }
        });
        let markdown = HtmlToMarkdown::builder()
            .options(htmd::options::Options {
                bullet_list_marker: htmd::options::BulletListMarker::Dash,
                ul_bullet_spacing: 1,
                ol_number_spacing: 1,
                ..Default::default()
            })
            .add_handler(vec!["iframe", "video"], embed_link)
            .build();
        Self {
            sanitizer,
            markdown,
            seen,
        }
    }

    /// Converts one article body. Never fails: what cannot be converted is dropped and noted.
    pub fn convert(&self, html: &str) -> (String, Notes) {
        let mut notes = Notes::default();
        let lower = html.to_ascii_lowercase();
        for tag in DROPPED {
            if lower.contains(&format!("<{tag}")) {
                notes.dropped.insert(tag.to_string());
            }
        }
        notes.embeds = lower.matches("<iframe").count() + lower.matches("<video").count();
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Seen::default();
        let mut clean = self.sanitizer.clean(html).to_string();
        // The page shows the title as the one `<h1>`: the body's headings move one level down.
        // (The sanitizer escapes every `<` in text, so `<h1` here is always a tag, `<h1 lang=…>`
        // included.)
        if clean.contains("<h1") {
            for level in (1..=5).rev() {
                clean = clean
                    .replace(&format!("<h{level}"), &format!("<h{}", level + 1))
                    .replace(&format!("</h{level}>"), &format!("</h{}>", level + 1));
            }
        }
        let markdown = self.markdown.convert(&clean).unwrap_or_default();
        let seen = std::mem::take(&mut *self.seen.lock().unwrap_or_else(PoisonError::into_inner));
        notes.links_rewritten = seen.rewritten;
        notes.links_broken = seen.broken;
        notes.remote_images = seen.remote_images;
        (tidy(&markdown), notes)
    }
}

/// An embedded video or frame, as a link to it.
#[allow(clippy::needless_pass_by_value)] // htmd's handler signature takes the element by value
fn embed_link(_: &dyn Handlers, element: Element) -> Option<htmd::element_handler::HandlerResult> {
    let attr = |name: &str| {
        element
            .attrs
            .iter()
            .find(|a| &*a.name.local == name)
            .map(|a| a.value.to_string())
    };
    let what = attr("title")
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "Video".into());
    let text = match attr("src") {
        Some(src) => format!("\n\n[▶ {}]({src})\n\n", escape_link_text(&what)),
        // A `<video>` with `<source>` children only: say so rather than lose it silently.
        None => format!(
            "\n\n*({} embedded here in the original article.)*\n\n",
            escape_link_text(&what)
        ),
    };
    Some(text.into())
}

fn escape_link_text(text: &str) -> String {
    text.replace(['[', ']'], "")
}

/// Trailing spaces off, at most one blank line in a row, one final newline.
fn tidy(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 1);
    let mut blank = 0;
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let line = if fenced { line } else { line.trim_end() };
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(html: &str) -> (String, Notes) {
        Converter::new(Arc::new(LinkMap::default())).convert(html)
    }

    #[test]
    fn headings_move_down_when_the_body_has_an_h1() {
        let (md, _) = convert("<h1 lang=\"en\">Top</h1><h2>Sub</h2><p>x</p>");
        assert_eq!(md, "## Top\n\n### Sub\n\nx\n");
        let (md, _) = convert("<h2>Sub</h2>");
        assert_eq!(md, "## Sub\n");
    }

    #[test]
    fn links_to_old_articles_are_rewritten_or_reported() {
        let mut links = LinkMap::default();
        links.insert(
            "https://acme.zendesk.com/hc/en-us/articles/123-Reset",
            "reset-pin",
        );
        let converter = Converter::new(Arc::new(links));
        let (md, notes) = converter.convert(
            "<a href=\"/hc/fr/articles/123#steps\">a</a> <a href=\"/hc/en-us/articles/999-Gone\">b</a> <a href=\"https://example.com/x\">c</a>",
        );
        assert_eq!(
            md,
            "[a](/articles/reset-pin#steps) [b](/hc/en-us/articles/999-Gone) [c](https://example.com/x)\n"
        );
        assert_eq!(notes.links_rewritten, 1);
        assert_eq!(notes.links_broken, ["/hc/en-us/articles/999-Gone"]);
        // The notes are per article: the next conversion starts from nothing.
        let (_, notes) = converter.convert("<p>plain</p>");
        assert_eq!((notes.links_rewritten, notes.links_broken.len()), (0, 0));
    }
}
