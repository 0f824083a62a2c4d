//! Old URLs that keep working: `aliases` / `redirect_from` in an article's front matter and
//! `redirects.txt` at the content root, checked while loading (the target exists, no loops, no
//! clash with a live page) and looked up by the server: a 301 to the new place, or a 410 with
//! a search for the title of what was deleted.
//!
//! ```text
//! # redirects.txt: old path, then a slug, a path on this site, or `gone` and the title
//! /hc/en-us/articles/360001234-How-to-reset-your-PIN   change-pin
//! /faq/cards.html                                      /categories/cards
//! /articles/summer-promo-2024                          gone  Summer promotion 2024
//! ```

use std::collections::HashMap;
use std::path::Path;

use super::diagnostic::Diagnostic;
use super::front_matter::{is_slug, normalize_path};
use super::{ArticleStatus, KnowledgeBase, Loaded};

pub const REDIRECTS_FILE: &str = "redirects.txt";

/// Paths the server answers itself, so a redirect from them would never be used. Mirrors the
/// route table in `http` (which content cannot import).
pub const SERVED_PREFIXES: [&str; 9] = [
    "/search",
    "/contact",
    "/admin",
    "/api/",
    "/assets/",
    "/widget.js",
    "/sitemap.xml",
    "/metrics",
    "/healthz",
];

/// Where an old path leads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// A 301 to this path on the site (`/articles/{slug}`, `/categories/{path}`, ...).
    Moved { to: String },
    /// A 410: deleted, with the title to search for instead.
    Gone { title: String },
}

/// Every old path of the knowledge base and where it leads, ready for lookups.
#[derive(Debug, Clone, Default)]
pub struct Redirects {
    by_path: HashMap<String, Target>,
    /// Help-center exports' numbered paths (`/hc/en-us/articles/360001234-How-to-…`) by kind
    /// and number: the source systems answer any title suffix and locale for one number.
    by_number: HashMap<(String, String), Target>,
}

impl Redirects {
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// Where a requested path (as sent, percent-encoded) leads, if it is an old path.
    pub fn lookup(&self, path: &str) -> Option<&Target> {
        let decoded = percent_decode(path);
        let path = normalize_path(&decoded)?;
        self.by_path
            .get(&path)
            .or_else(|| numbered(&path).and_then(|key| self.by_number.get(&key)))
    }

    /// Every old path and its target, sorted by path.
    pub fn entries(&self) -> Vec<(&str, &Target)> {
        let mut all: Vec<_> = self.by_path.iter().map(|(p, t)| (p.as_str(), t)).collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all
    }
}

/// One old path as written, and where it was written.
struct Source {
    path: String,
    target: Written,
    file: std::path::PathBuf,
    line: usize,
}

enum Written {
    Slug(String),
    Path(String),
    Gone(String),
}

impl Loaded {
    /// Builds the redirect table from the articles' aliases and `redirects_txt` (the text of
    /// `redirects.txt`, if any), reporting every problem with its file and line.
    pub fn link_redirects(&mut self, redirects_txt: Option<&str>) {
        let file = self.kb.root.join(REDIRECTS_FILE);
        let mut sources = Vec::new();
        for a in &self.kb.articles {
            for alias in &a.front.aliases {
                sources.push(Source {
                    path: alias.clone(),
                    target: Written::Slug(a.slug.clone()),
                    file: self.kb.root.join(&a.path),
                    line: a.front.aliases_line,
                });
            }
        }
        if let Some(text) = redirects_txt {
            parse_file(&file, text, &mut sources, &mut self.diagnostics);
        }
        self.kb.redirects = build(&self.kb, &sources, &mut self.diagnostics);
    }
}

/// Parses `redirects.txt`: `OLD TARGET` per line, `#` comments, blank lines ignored.
fn parse_file(file: &Path, text: &str, sources: &mut Vec<Source>, diags: &mut Vec<Diagnostic>) {
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split(" #").next().unwrap_or(raw).trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut words = content
            .split_whitespace()
            .filter(|w| !matches!(*w, "->" | "=>"));
        let (Some(old), Some(target)) = (words.next(), words.next()) else {
            diags.push(Diagnostic::error(
                file,
                line,
                format!("`{content}` has no target"),
                "write the old path, then the new article's slug (or a path, or `gone`), e.g. `/old/page  card-arrival`",
            ));
            continue;
        };
        let Some(path) = normalize_path(old) else {
            diags.push(Diagnostic::error(
                file,
                line,
                format!("`{old}` is not a path"),
                "start the old path with `/`, e.g. `/hc/en-us/articles/360001234-How-to`",
            ));
            continue;
        };
        let rest: Vec<&str> = words.collect();
        let written = if target.eq_ignore_ascii_case("gone") {
            Written::Gone(if rest.is_empty() {
                title_from_path(&path)
            } else {
                rest.join(" ")
            })
        } else if !rest.is_empty() {
            diags.push(Diagnostic::error(
                file,
                line,
                format!("unexpected text after the target `{target}`"),
                "one old path and one target per line; put comments after ` #`",
            ));
            continue;
        } else if target.starts_with('/') {
            match normalize_path(target) {
                Some(p) => Written::Path(p),
                None => {
                    diags.push(Diagnostic::error(
                        file,
                        line,
                        format!("target `{target}` is not a path"),
                        "write a slug, a path on this site such as `/categories/cards`, or `gone`",
                    ));
                    continue;
                }
            }
        } else if is_slug(target) {
            Written::Slug(target.to_string())
        } else {
            diags.push(Diagnostic::error(
                file,
                line,
                format!("target `{target}` is neither a slug, a path nor `gone`"),
                "write an article's slug (lowercase, digits, hyphens), a path starting with `/`, or `gone`",
            ));
            continue;
        };
        sources.push(Source {
            path,
            target: written,
            file: file.to_path_buf(),
            line,
        });
    }
}

/// Checks every source and resolves chains, so the server answers with one hop.
fn build(kb: &KnowledgeBase, sources: &[Source], diags: &mut Vec<Diagnostic>) -> Redirects {
    let status: rustc_hash::FxHashMap<&str, ArticleStatus> = kb
        .articles
        .iter()
        .map(|a| (a.slug.as_str(), a.front.status))
        .collect();
    let categories: rustc_hash::FxHashSet<&str> = kb
        .articles
        .iter()
        .flat_map(|a| a.category_ancestors())
        .collect();
    let live = |path: &str| -> bool {
        if path == "/" || SERVED_PREFIXES.iter().any(|p| path.starts_with(p)) {
            return true;
        }
        if let Some(slug) = path.strip_prefix("/articles/") {
            return status.contains_key(slug);
        }
        path.strip_prefix("/categories/")
            .is_some_and(|c| categories.contains(c))
    };

    // First the table as written, each source checked on its own.
    let mut first_seen: HashMap<&str, &Source> = HashMap::new();
    let mut written: HashMap<&str, &Written> = HashMap::new();
    for s in sources {
        if live(&s.path) {
            diags.push(Diagnostic::error(
                &s.file,
                s.line,
                format!(
                    "the old path `{}` is a live page, so the redirect would never be used",
                    s.path
                ),
                "remove it, or move the page that lives there",
            ));
            continue;
        }
        if let Some(first) = first_seen.get(s.path.as_str()) {
            diags.push(Diagnostic::error(
                &s.file,
                s.line,
                format!(
                    "the old path `{}` is already redirected by {}:{}",
                    s.path,
                    first.file.display(),
                    first.line
                ),
                "keep one redirect per old path",
            ));
            continue;
        }
        if let Written::Slug(slug) = &s.target {
            match status.get(slug.as_str()) {
                None => {
                    let nearest = status
                        .keys()
                        .min_by_key(|k| strsim::levenshtein(k, slug))
                        .filter(|k| strsim::levenshtein(k, slug) <= 4);
                    diags.push(Diagnostic::error(
                        &s.file,
                        s.line,
                        format!("redirect target `{slug}` is not an article"),
                        nearest.map_or_else(
                            || {
                                "point it at an existing article's slug, or write `gone`"
                                    .to_string()
                            },
                            |n| format!("did you mean `{n}`?"),
                        ),
                    ));
                    continue;
                }
                Some(st) if *st != ArticleStatus::Published => diags.push(Diagnostic::warning(
                    &s.file,
                    s.line,
                    format!(
                        "redirect target `{slug}` is {}, so readers cannot open it",
                        st.as_str()
                    ),
                    "publish it or point the redirect elsewhere",
                )),
                Some(_) => {}
            }
        }
        first_seen.insert(&s.path, s);
        written.insert(&s.path, &s.target);
    }

    // Then each path target followed to its end: through other redirects, never in a circle.
    let mut out = Redirects::default();
    let mut numbers: HashMap<(String, String), Option<Target>> = HashMap::new();
    for (path, source) in &first_seen {
        let target = match &source.target {
            Written::Slug(slug) => Target::Moved {
                to: format!("/articles/{slug}"),
            },
            Written::Gone(title) => Target::Gone {
                title: title.clone(),
            },
            Written::Path(to) => match follow(to, path, &written, &live) {
                Ok(t) => t,
                Err(problem) => {
                    diags.push(Diagnostic::error(
                        &source.file,
                        source.line,
                        problem,
                        "point the redirect at an article's slug or a page that exists",
                    ));
                    continue;
                }
            },
        };
        if let Some(key) = numbered(path) {
            numbers
                .entry(key)
                .and_modify(|t| {
                    if t.as_ref() != Some(&target) {
                        // Two different targets for one number: only exact paths then.
                        *t = None;
                    }
                })
                .or_insert_with(|| Some(target.clone()));
        }
        out.by_path.insert((*path).to_string(), target);
    }
    out.by_number = numbers
        .into_iter()
        .filter_map(|(k, t)| Some((k, t?)))
        .collect();
    out
}

/// Follows a path target through the table to a live page or a `gone`.
fn follow(
    to: &str,
    from: &str,
    written: &HashMap<&str, &Written>,
    live: &impl Fn(&str) -> bool,
) -> Result<Target, String> {
    let mut seen = vec![from.to_string()];
    let mut at = to.to_string();
    loop {
        if live(&at) {
            return Ok(Target::Moved { to: at });
        }
        if seen.contains(&at) {
            seen.push(at);
            return Err(format!("redirect loop: {}", seen.join(" → ")));
        }
        seen.push(at.clone());
        match written.get(at.as_str()) {
            Some(Written::Slug(slug)) => {
                return Ok(Target::Moved {
                    to: format!("/articles/{slug}"),
                });
            }
            Some(Written::Gone(title)) => {
                return Ok(Target::Gone {
                    title: title.clone(),
                });
            }
            Some(Written::Path(next)) => at.clone_from(next),
            None => {
                return Err(format!(
                    "redirect target `{to}` is not a page on this site (no article, category or redirect there)"
                ));
            }
        }
    }
}

/// `(kind, number)` of a help-center export's numbered path: `/hc/en-us/articles/360001234-How`
/// → `("articles", "360001234")`; also Help Scout's `/article/12-x` and Intercom's
/// `/en/articles/123-x`.
fn numbered(path: &str) -> Option<(String, String)> {
    let mut parts = path.rsplit('/');
    let last = parts.next()?;
    let kind = parts.next()?;
    if !matches!(
        kind,
        "articles"
            | "article"
            | "sections"
            | "categories"
            | "category"
            | "collections"
            | "collection"
    ) {
        return None;
    }
    let number: String = last.chars().take_while(char::is_ascii_digit).collect();
    let rest = &last[number.len()..];
    (number.len() >= 3 && (rest.is_empty() || rest.starts_with('-')))
        .then(|| (kind.trim_end_matches('s').to_string(), number))
}

/// A title to search for, from a path's last part: `/hc/en-us/articles/360001234-How-to-x` →
/// `How to x`.
pub fn title_from_path(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let last = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
    let words = last.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    words
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `%C3%A9` → `é`; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb_with(articles: &[(&str, &str)]) -> Loaded {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let sources: Vec<(std::path::PathBuf, String)> = articles
            .iter()
            .map(|(path, front)| {
                (
                    path.into(),
                    format!("---\ntitle: T\nsummary: S\nlast_reviewed: 2026-10-01\n{front}---\n\nBody.\n\n## Quick answer\n\nA.\n"),
                )
            })
            .collect();
        KnowledgeBase::from_sources(Path::new("c"), &sources, None, Some(""), today)
    }

    fn errors(l: &Loaded) -> Vec<String> {
        l.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn aliases_and_file_entries_resolve_with_one_hop() {
        let mut l = kb_with(&[
            (
                "cards/change-pin.md",
                "aliases: [/hc/en-us/articles/360001234-How-to-reset-your-PIN]\n",
            ),
            ("cards/card-arrival.md", ""),
        ]);
        l.link_redirects(Some(
            "# moved pages\n/faq/cards.html   /categories/cards\n/old   -> /faq/cards.html\n\n/articles/promo gone Summer promotion\n/x/y.html  card-arrival  # a comment\n/hc/en-us/articles/999-Gone  gone\n",
        ));
        assert!(errors(&l).is_empty(), "{:?}", errors(&l));
        let r = &l.kb.redirects;
        let moved = |to: &str| Some(Target::Moved { to: to.into() });
        assert_eq!(
            r.lookup("/hc/en-us/articles/360001234-How-to-reset-your-PIN")
                .cloned(),
            moved("/articles/change-pin")
        );
        // Same number, another locale and title: still the article.
        assert_eq!(
            r.lookup("/hc/fr/articles/360001234-Reinitialiser/")
                .cloned(),
            moved("/articles/change-pin")
        );
        assert_eq!(
            r.lookup("/hc/en-us/articles/360001234").cloned(),
            moved("/articles/change-pin")
        );
        assert_eq!(r.lookup("/old").cloned(), moved("/categories/cards"));
        assert_eq!(
            r.lookup("/x/y.html").cloned(),
            moved("/articles/card-arrival")
        );
        assert_eq!(
            r.lookup("/articles/promo").cloned(),
            Some(Target::Gone {
                title: "Summer promotion".into()
            })
        );
        assert_eq!(
            r.lookup("/hc/en-us/articles/999-Gone").cloned(),
            Some(Target::Gone {
                title: "Gone".into()
            })
        );
        assert_eq!(r.lookup("/nothing"), None);
        assert_eq!(r.len(), 6);
    }

    #[test]
    fn every_problem_names_its_line() {
        let mut l = kb_with(&[
            ("cards/change-pin.md", "aliases: [/articles/card-arrival]\n"),
            ("cards/card-arrival.md", ""),
        ]);
        l.link_redirects(Some(
            "/a /b\n/b /a\n/c change-pn\n/articles/change-pin card-arrival\n/d\nnot-a-path x\n/e /nowhere\n/f card-arrival extra\n/a card-arrival\n/search card-arrival\n",
        ));
        let all = errors(&l).join("\n");
        for expected in [
            "c/cards/change-pin.md:5: error: the old path `/articles/card-arrival` is a live page",
            "c/redirects.txt:1: error: redirect loop: /a → /b → /a",
            "c/redirects.txt:2: error: redirect loop: /b → /a → /b",
            "c/redirects.txt:3: error: redirect target `change-pn` is not an article — did you mean `change-pin`?",
            "c/redirects.txt:4: error: the old path `/articles/change-pin` is a live page",
            "c/redirects.txt:5: error: `/d` has no target",
            "c/redirects.txt:7: error: redirect target `/nowhere` is not a page on this site",
            "c/redirects.txt:8: error: unexpected text after the target",
            "c/redirects.txt:9: error: the old path `/a` is already redirected by c/redirects.txt:1",
            "c/redirects.txt:10: error: the old path `/search` is a live page",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in\n{all}");
        }
        // `not-a-path` gets a leading slash; `x` is a valid slug but no article.
        assert!(
            all.contains("c/redirects.txt:6: error: redirect target `x` is not an article"),
            "{all}"
        );
    }

    #[test]
    fn titles_from_paths_and_decoding() {
        assert_eq!(
            title_from_path("/hc/en-us/articles/360001234-How-to-reset"),
            "How to reset"
        );
        assert_eq!(title_from_path("/faq/lost_card.html"), "lost card");
        assert_eq!(percent_decode("/a%C3%A9%zz"), "/aé%zz");
        assert_eq!(numbered("/hc/articles/12-x"), None, "too short a number");
        assert_eq!(
            numbered("/article/1234-x"),
            Some(("article".into(), "1234".into()))
        );
    }
}
