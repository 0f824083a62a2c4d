//! A large, deterministic help center for benchmarks: the sample articles' titles, keywords,
//! sentences and sections recombined by a seeded PRNG, so the vocabulary, the word frequencies
//! and the article shape stay those of real help content while the count grows.
//!
//! Shared by the benchmarks (`mod corpus;`); lives in a folder so Cargo does not take it for a
//! benchmark of its own.

#![allow(dead_code)] // each benchmark uses its own part of it

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use deflect::content::{Article, KnowledgeBase, SYNONYMS_FILE, TICKET_TYPES_FILE};

/// SplitMix64: tiny, seedable and good enough to shuffle text.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The bundled sample content directory.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("content")
}

pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Loads a content directory that must have no errors.
pub fn load(dir: &Path) -> KnowledgeBase {
    let loaded = KnowledgeBase::load(dir, today()).expect("content directory loads");
    assert_eq!(
        loaded.errors(),
        0,
        "{} has errors: run `deflect check`",
        dir.display()
    );
    loaded.kb
}

/// Generated article sources plus the sample's synonyms and ticket types, as files.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// `(path relative to the content directory, Markdown source)`.
    pub articles: Vec<(PathBuf, String)>,
    pub synonyms: String,
    pub ticket_types: String,
}

impl Corpus {
    /// Parses the corpus in memory, exactly as `KnowledgeBase::load` would from disk.
    pub fn knowledge_base(&self) -> KnowledgeBase {
        let loaded = KnowledgeBase::from_sources(
            Path::new("generated"),
            &self.articles,
            Some(&self.synonyms),
            Some(&self.ticket_types),
            today(),
        );
        let first_error = loaded.diagnostics.iter().find(|d| d.is_error());
        assert!(
            first_error.is_none(),
            "generated content has errors, e.g. {first_error:?}"
        );
        loaded.kb
    }

    /// Writes the corpus as a content directory (for benchmarks that load from disk or serve it).
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (rel, src) in &self.articles {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, src)?;
        }
        std::fs::write(dir.join(SYNONYMS_FILE), &self.synonyms)?;
        std::fs::write(dir.join(TICKET_TYPES_FILE), &self.ticket_types)
    }
}

/// How customers open a question; combined with an article's keywords into a title.
const TITLE_OPENINGS: [&str; 8] = [
    "How do I fix",
    "Problem with",
    "Question about",
    "Help with",
    "What to do about",
    "Can you explain",
    "Issue:",
    "Why",
];

/// One sample article cut into reusable pieces.
struct Parts<'a> {
    article: &'a Article,
    /// Sentences of each template section, by section title.
    sentences: Vec<(String, Vec<String>)>,
}

impl Parts<'_> {
    fn section(&self, title: &str) -> &[String] {
        self.sentences
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(title))
            .map_or(&[], |(_, s)| s.as_slice())
    }
}

/// Splits plain section text into sentences.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest = line.trim();
        while let Some(end) = rest.find(". ") {
            out.push(rest[..=end].trim().to_string());
            rest = &rest[end + 2..];
        }
        if !rest.trim().is_empty() {
            out.push(rest.trim().to_string());
        }
    }
    // Markdown would read a leading `>`, `#`, `-` or `1.` as structure, not text.
    out.retain(|s| {
        s.len() > 3
            && !s.starts_with(['>', '#', '-', '*', '|', '<'])
            && !s.starts_with(char::is_numeric)
    });
    out
}

/// A double-quoted YAML string.
fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn yaml_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| yaml_str(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Generates `n` published articles from the published articles in `dir`, deterministically
/// for a given `seed`. Each keeps the category and ticket types of the article it is built
/// around, so titles, folders and labels stay consistent.
pub fn generate(dir: &Path, n: usize, seed: u64) -> Corpus {
    let kb = load(dir);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let parts: Vec<Parts<'_>> = kb
        .published()
        .map(|a| {
            // The template's sections, from the source (articles keep only what is served).
            let src = std::fs::read_to_string(dir.join(&a.path)).unwrap_or_default();
            let body = src.splitn(3, "---\n").nth(2).unwrap_or_default();
            Parts {
                article: a,
                sentences: deflect::content::markdown::render(body, 0)
                    .sections
                    .iter()
                    .map(|s| (s.title.clone(), sentences(&s.text)))
                    .collect(),
            }
        })
        .collect();
    assert!(
        !parts.is_empty(),
        "{} has no published articles",
        dir.display()
    );
    let mut rng = Rng::new(seed);
    let articles = (0..n)
        .map(|i| {
            let base = rng.pick(&parts);
            let a = base.article;
            let file = format!("{}--{i:05}.md", a.slug);
            let path = if a.category.is_empty() {
                PathBuf::from(file)
            } else {
                Path::new(&a.category).join(file)
            };
            (path, article_source(base, &parts, i, &mut rng))
        })
        .collect();
    Corpus {
        articles,
        synonyms: read(SYNONYMS_FILE),
        ticket_types: read(TICKET_TYPES_FILE),
    }
}

fn article_source(base: &Parts<'_>, all: &[Parts<'_>], i: usize, rng: &mut Rng) -> String {
    let a = base.article;
    let keywords: Vec<&str> = a.front.keywords.iter().map(String::as_str).collect();
    let title = match (rng.below(3), keywords.is_empty()) {
        (0, _) | (_, true) => a.front.title.clone(),
        _ => format!("{} {}", rng.pick(&TITLE_OPENINGS), rng.pick(&keywords)),
    };
    let other = &rng.pick(all).article;
    let summary = if rng.below(4) == 0 {
        &other.front.summary
    } else {
        &a.front.summary
    };
    let mut picked: Vec<&str> = (0..rng.between(2, 6).min(keywords.len()))
        .map(|_| *rng.pick(&keywords))
        .collect();
    picked.extend(other.front.keywords.iter().take(2).map(String::as_str));
    picked.sort_unstable();
    picked.dedup();
    let types: Vec<&str> = a.front.ticket_types.iter().map(String::as_str).collect();

    let mut s = String::from("---\n");
    let _ = writeln!(s, "title: {}", yaml_str(&title));
    let _ = writeln!(s, "summary: {}", yaml_str(summary));
    let _ = writeln!(s, "last_reviewed: {}", a.front.last_reviewed);
    let _ = writeln!(s, "ticket_types: {}", yaml_list(&types));
    let _ = writeln!(s, "keywords: {}", yaml_list(&picked));
    let _ = writeln!(
        s,
        "tags: {}",
        yaml_list(&a.front.tags.iter().map(String::as_str).collect::<Vec<_>>())
    );
    s.push_str("status: published\n---\n\n");

    // Mostly the base article's own sentences, with some from random others mixed in.
    let draw = |section: &str, lo: usize, hi: usize, rng: &mut Rng| -> Vec<String> {
        (0..rng.between(lo, hi))
            .filter_map(|_| {
                let from = if rng.below(3) == 0 {
                    rng.pick(all)
                } else {
                    base
                };
                let pool = from.section(section);
                (!pool.is_empty()).then(|| rng.pick(pool).clone())
            })
            .collect()
    };
    let intro = draw("Quick answer", 1, 2, rng);
    let _ = writeln!(
        s,
        "{}\n",
        if intro.is_empty() {
            a.front.summary.clone()
        } else {
            intro.join(" ")
        }
    );
    let quick = base.section("Quick answer");
    let quick = if quick.is_empty() {
        a.front.summary.clone()
    } else {
        quick.join(" ")
    };
    let _ = writeln!(s, "## Quick answer\n\n{quick}\n");
    s.push_str("## Before you start\n\n");
    for line in draw("Before you start", 1, 3, rng) {
        let _ = writeln!(s, "- {line}");
    }
    s.push_str("\n## Steps\n\n");
    for (n, line) in draw("Steps", 3, 7, rng).iter().enumerate() {
        let _ = writeln!(s, "{}. {line}", n + 1);
    }
    s.push_str("\n## Troubleshooting\n\n");
    for line in draw("Troubleshooting", 2, 5, rng) {
        let _ = writeln!(s, "- {line}");
    }
    let _ = write!(
        s,
        "\n## Related articles\n\n- {}\n\n## Still need help?\n\nChat with us in the app (Help > Chat with us), 24/7. Reference {i}.\n",
        other.front.title
    );
    s
}
