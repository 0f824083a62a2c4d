//! Content from elsewhere: another help center's export (Zendesk Guide, Help Scout Docs,
//! Intercom Articles — their own API responses saved as JSON) or a docs site's Markdown tree,
//! turned into a content directory with redirects from the old URLs and a checklist of what
//! needs an author's attention.
//!
//! Each source system's reader produces an [`Export`] (categories and articles in one shape);
//! [`plan`] names folders and slugs and converts bodies; [`write`] puts the files on disk,
//! never over an existing one unless told.

pub mod checklist;
pub mod docs_site;
pub mod helpscout;
pub mod html;
pub mod intercom;
mod json;
pub mod names;
pub mod plan;
pub mod zendesk;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;

pub use checklist::Summary;
pub use plan::{Plan, PlannedFile};

/// The systems `deflect import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum System {
    Zendesk,
    Helpscout,
    Intercom,
    Markdown,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Zendesk => "Zendesk Guide",
            System::Helpscout => "Help Scout Docs",
            System::Intercom => "Intercom Articles",
            System::Markdown => "Markdown docs site",
        }
    }

    /// Reads an export: a directory of the system's files, or one file.
    pub fn read(self, path: &Path) -> anyhow::Result<Export> {
        if !path.exists() {
            bail!(
                "`{}` not found — pass the file or the directory holding the {} export",
                path.display(),
                self.name()
            );
        }
        match self {
            System::Zendesk => zendesk::read(path),
            System::Helpscout => helpscout::read(path),
            System::Intercom => intercom::read(path),
            System::Markdown => docs_site::read(path),
        }
    }
}

/// A category (or section, collection, folder) of the source system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub position: i64,
    /// Its page on the old help center, redirected to the new category page.
    pub old_url: Option<String>,
}

/// An article body as the source system holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Html(String),
    Markdown(String),
}

/// One article of the source system, in one shape for every system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceArticle {
    /// The source system's id (Zendesk's number, a docs file's path).
    pub id: String,
    /// The file it was read from, for messages.
    pub file: PathBuf,
    pub title: String,
    pub body: Body,
    pub summary: Option<String>,
    /// Id of its category in [`Export::categories`].
    pub category: Option<String>,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub draft: bool,
    pub updated: Option<NaiveDate>,
    pub featured: bool,
    pub locale: Option<String>,
    /// Where it lived: each becomes an alias that answers with a 301.
    pub old_urls: Vec<String>,
    /// Numbers other articles' links name it by (`/articles/360001234-…`), when its
    /// `old_urls` may be missing (Intercom drafts have no URL).
    pub link_numbers: Vec<String>,
    /// A slug the source chose (`slug:` front matter, Help Scout's slug).
    pub slug: Option<String>,
    pub order: Option<i64>,
    /// Helpful / total votes, kept as a note for the author.
    pub votes: Option<(i64, i64)>,
    /// Lines kept as text that the author should look at (MDX, shortcodes), with their line.
    pub odd_lines: Vec<(usize, String)>,
}

impl SourceArticle {
    pub fn new(id: impl Into<String>, file: &Path, title: impl Into<String>, body: Body) -> Self {
        Self {
            id: id.into(),
            file: file.to_path_buf(),
            title: title.into(),
            body,
            summary: None,
            category: None,
            keywords: Vec::new(),
            tags: Vec::new(),
            draft: false,
            updated: None,
            featured: false,
            locale: None,
            old_urls: Vec::new(),
            link_numbers: Vec::new(),
            slug: None,
            order: None,
            votes: None,
            odd_lines: Vec::new(),
        }
    }
}

/// An item of the export that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    /// The article's id, when it had one.
    pub id: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(id) = &self.id {
            write!(f, ": article {id}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Everything read from a source system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub system: System,
    pub categories: Vec<Category>,
    pub articles: Vec<SourceArticle>,
    pub skipped: Vec<Skipped>,
}

impl Export {
    pub fn new(system: System) -> Self {
        Self {
            system,
            categories: Vec::new(),
            articles: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Keeps one copy of each article and category (pages fetched twice, the incremental
    /// export next to the list): the last read wins, in a stable order.
    pub fn dedupe(&mut self) {
        let mut seen = std::collections::HashMap::new();
        for (i, a) in self.articles.iter().enumerate() {
            seen.insert(a.id.clone(), i);
        }
        let mut keep: Vec<usize> = seen.into_values().collect();
        keep.sort_unstable();
        let articles = std::mem::take(&mut self.articles);
        let mut keep = keep.into_iter().peekable();
        for (i, a) in articles.into_iter().enumerate() {
            if keep.peek() == Some(&i) {
                keep.next();
                self.articles.push(a);
            }
        }
        let mut by_id = std::collections::BTreeMap::new();
        for c in std::mem::take(&mut self.categories) {
            by_id.insert(c.id.clone(), c);
        }
        self.categories = by_id.into_values().collect();
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Overwrite files that exist already.
    pub force: bool,
    /// The review date for articles whose export has none, and the latest allowed.
    pub today: NaiveDate,
    /// Where the checklist goes; beside `out` by default.
    pub checklist: Option<PathBuf>,
}

/// Reads, plans and writes an import; returns what it did.
pub fn run(
    system: System,
    path: &Path,
    options: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Summary> {
    let started = std::time::Instant::now();
    let export = system.read(path)?;
    let ticket_types = read_ticket_types(&options.out)?;
    let plan = plan::plan(&export, &ticket_types, options.today, progress);
    let written = write(&plan, options)?;
    let mut summary = Summary::new(&export, &plan, written, &options.out);
    summary.seconds = started.elapsed().as_secs_f64();
    let checklist = options
        .checklist
        .clone()
        .unwrap_or_else(|| summary.checklist_path());
    summary.checklist_file.clone_from(&checklist);
    if let Some(parent) = checklist.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&checklist, summary.checklist())
        .with_context(|| format!("writing {}", checklist.display()))?;
    Ok(summary)
}

/// Ticket type ids from the output directory's `ticket-types.toml`, if it has one: labels
/// naming one become the article's `ticket_types`.
fn read_ticket_types(out: &Path) -> anyhow::Result<Vec<String>> {
    let path = out.join(crate::content::TICKET_TYPES_FILE);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut diags = Vec::new();
    Ok(
        crate::content::ticket_types::parse(&path, &text, &mut diags)
            .into_iter()
            .map(|t| t.id)
            .collect(),
    )
}

/// Writes the planned files: nothing at all when one exists already (unless `force`), so an
/// import never half-overwrites a content directory.
pub fn write(plan: &Plan, options: &Options) -> anyhow::Result<usize> {
    if !options.force {
        let existing: Vec<String> = plan
            .files
            .iter()
            .map(|f| options.out.join(&f.path))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            bail!(
                "{} file{} exist already, e.g. {} — nothing was written; import into an empty directory, or pass --force to overwrite",
                existing.len(),
                if existing.len() == 1 { "" } else { "s" },
                existing
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    for f in &plan.files {
        let path = options.out.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &f.text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(plan.files.len())
}
