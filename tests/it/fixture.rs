//! Small knowledge bases written to a temporary directory, one per scenario, and the helpers
//! to load, search and read their diagnostics.

use std::fs;
use std::path::Path;

use chrono::{Days, NaiveDate};
use deflect::content::{KnowledgeBase, Loaded};
use deflect::search::{SearchEngine, SearchRequest};
use tempfile::TempDir;

/// The day content is judged against: the local date, as `deflect check` uses, so library and
/// CLI tests agree. Every date in a fixture is relative to it.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// `today()` moved by `days` (negative for the past), as `YYYY-MM-DD`.
pub fn date(days: i64) -> String {
    let t = today();
    let d = if days >= 0 {
        t.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        t.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    d.expect("date in range").format("%Y-%m-%d").to_string()
}

/// The 1-based line of the first line of `src` containing `needle`.
pub fn line_of(src: &str, needle: &str) -> usize {
    src.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{src}"))
}

/// The source of one article, following the article template; every part can be changed.
#[derive(Debug, Clone)]
pub struct ArticleSrc {
    /// Front-matter lines as `(key, raw YAML value)`, written in this order from line 2.
    front: Vec<(String, String)>,
    intro: String,
    quick_answer: Option<String>,
    steps: String,
}

impl ArticleSrc {
    /// A valid, published article reviewed a month ago, with no ticket types.
    pub fn new(title: &str) -> Self {
        Self {
            front: vec![
                ("title".into(), title.into()),
                ("summary".into(), "Short answer.".into()),
                ("last_reviewed".into(), date(-30)),
            ],
            intro: String::new(),
            quick_answer: Some("Follow the steps below.".into()),
            steps: String::new(),
        }
    }

    /// Sets a front-matter key to a raw YAML value, replacing it in place or appending it.
    pub fn set(mut self, key: &str, raw_value: &str) -> Self {
        match self.front.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = raw_value.into(),
            None => self.front.push((key.into(), raw_value.into())),
        }
        self
    }

    pub fn unset(mut self, key: &str) -> Self {
        self.front.retain(|(k, _)| k != key);
        self
    }

    pub fn summary(self, text: &str) -> Self {
        self.set("summary", text)
    }

    pub fn ticket_types(self, ids: &[&str]) -> Self {
        self.set("ticket_types", &format!("[{}]", ids.join(", ")))
    }

    /// The paragraph before the first section.
    pub fn intro(mut self, text: &str) -> Self {
        self.intro = text.into();
        self
    }

    pub fn steps(mut self, text: &str) -> Self {
        self.steps = text.into();
        self
    }

    pub fn quick_answer(mut self, text: &str) -> Self {
        self.quick_answer = Some(text.into());
        self
    }

    pub fn without_quick_answer(mut self) -> Self {
        self.quick_answer = None;
        self
    }

    pub fn render(&self) -> String {
        let mut s = String::from("---\n");
        for (k, v) in &self.front {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s.push_str("---\n\n");
        if !self.intro.is_empty() {
            s.push_str(&format!("{}\n\n", self.intro));
        }
        if let Some(q) = &self.quick_answer {
            s.push_str(&format!("## Quick answer\n\n{q}\n\n"));
        }
        s.push_str("## Before you start\n\n## Steps\n\n");
        if !self.steps.is_empty() {
            s.push_str(&format!("{}\n\n", self.steps));
        }
        s.push_str("## Troubleshooting\n\n## Related articles\n\n## Still need help?\n\nChat with us in the app.\n");
        s
    }
}

/// A content directory in a temporary folder, deleted on drop.
pub struct Fixture {
    dir: TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating its folders) with exactly these bytes.
    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.root().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create folders");
        }
        fs::write(&path, contents).expect("write fixture file");
        self
    }

    pub fn article(&self, rel: &str, article: &ArticleSrc) -> &Self {
        self.file(rel, article.render())
    }

    /// Writes `ticket-types.toml` with one L1/P4 entry per id, each entry 6 lines long
    /// (entry `i` starts on line `6 * i + 1`).
    pub fn ticket_types(&self, ids: &[&str]) -> &Self {
        let toml: String = ids
            .iter()
            .map(|id| format!("[[ticket_type]]\nid = \"{id}\"\nname = \"{id}\"\ntier = \"L1\"\npriority = \"P4\"\n\n"))
            .collect();
        self.file("ticket-types.toml", toml)
    }

    pub fn synonyms(&self, src: &str) -> &Self {
        self.file("synonyms.txt", src)
    }

    pub fn load(&self) -> Loaded {
        KnowledgeBase::load(self.root(), today()).expect("the fixture directory loads")
    }

    /// Every diagnostic as `rel/path:line: severity: message — fix`, with the fixture's root
    /// stripped from paths and messages so tests read like `deflect check` output.
    pub fn report(&self, loaded: &Loaded) -> Vec<String> {
        let root = format!("{}/", self.root().display());
        loaded
            .diagnostics
            .iter()
            .map(|d| {
                let rel = d.path.strip_prefix(self.root()).unwrap_or(&d.path);
                format!(
                    "{}:{}: {}: {} — {}",
                    rel.display(),
                    d.line,
                    d.severity,
                    d.message,
                    d.fix
                )
                .replace(&root, "")
            })
            .collect()
    }

    /// Loads and indexes the fixture, which must have no errors (a broken fixture is a broken test).
    pub fn engine(&self) -> SearchEngine {
        let loaded = self.load();
        assert_eq!(
            loaded.errors(),
            0,
            "fixture has errors:\n{}",
            self.report(&loaded).join("\n")
        );
        SearchEngine::build(&loaded.kb).expect("index builds")
    }
}

/// Slugs of the results for `query`, best first.
pub fn slugs(engine: &SearchEngine, query: &str) -> Vec<String> {
    slugs_in(engine, query, None)
}

pub fn slugs_in(engine: &SearchEngine, query: &str, category: Option<&str>) -> Vec<String> {
    let req = SearchRequest {
        category,
        ..SearchRequest::new(query)
    };
    engine
        .search(&req)
        .hits
        .iter()
        .map(|h| h.article.slug.clone())
        .collect()
}

/// Asserts some report line starts with `expected`, showing the whole report otherwise.
#[track_caller]
pub fn assert_reported(report: &[String], expected: &str) {
    assert!(
        report.iter().any(|l| l.starts_with(expected)),
        "expected a diagnostic starting with\n  {expected}\nin the report:\n  {}",
        report.join("\n  ")
    );
}
