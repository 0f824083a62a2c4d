//! The knowledge base as authors write it: articles, synonyms and the ticket taxonomy, loaded
//! from a content directory with every problem collected, never stopping at the first.

pub mod article;
pub mod diagnostic;
pub mod front_matter;
pub mod history;
pub mod markdown;
pub mod redirects;
pub mod synonyms;
pub mod ticket_types;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use rustc_hash::{FxHashMap, FxHashSet};

pub use article::Article;
pub use diagnostic::{Diagnostic, Severity};
pub use front_matter::{ArticleStatus, FrontMatter};
pub use redirects::{REDIRECTS_FILE, Redirects};
pub use synonyms::SynonymRule;
pub use ticket_types::{Priority, RoutingTier, TicketType};

/// Today's date in local time: content freshness and "not in the future" are judged against it.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

pub const SYNONYMS_FILE: &str = "synonyms.txt";
pub const TICKET_TYPES_FILE: &str = "ticket-types.toml";

/// Whether a newly parsed article keeps its body text (see [`KnowledgeBase::load_reusing`]).
pub type KeepText<'a> = &'a (dyn Fn(&Article) -> bool + Sync);

/// Everything loaded from a content directory. Articles that failed to parse are absent.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    pub root: PathBuf,
    /// Shared with the search index and kept across reloads while unchanged.
    pub articles: Vec<Arc<Article>>,
    pub synonyms: Vec<SynonymRule>,
    pub ticket_types: Vec<TicketType>,
    /// Old paths (aliases, `redirects.txt`) and where they lead.
    pub redirects: Redirects,
}

/// The result of loading: what could be used, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub kb: KnowledgeBase,
    pub diagnostics: Vec<Diagnostic>,
    /// Markdown files seen, including the broken ones.
    pub files: usize,
    /// Each file's parse, to reuse for the files that have not changed at the next load.
    pub parsed: ParseCache,
}

/// A Markdown file as last parsed: when it was, what came of it.
#[derive(Debug, Clone)]
struct ParsedFile {
    /// Size and modification time when read.
    stamp: Option<(u64, std::time::SystemTime)>,
    article: Option<Arc<Article>>,
    diagnostics: Vec<Diagnostic>,
}

/// Parsed files by path, and the day they were parsed on (dates are judged against it).
#[derive(Debug, Clone, Default)]
pub struct ParseCache {
    today: Option<NaiveDate>,
    files: FxHashMap<PathBuf, ParsedFile>,
    /// The paths in the order loaded: a walk's, which is the paths' own order.
    order: Vec<PathBuf>,
}

impl Loaded {
    /// Keeps `lean` versions of articles (the same articles without their text, as a search
    /// engine keeps them once its index holds the text) in place of the loaded ones, in the
    /// knowledge base and in the parses kept for the next load: a served help center holds
    /// each article's text once, in its index.
    pub fn keep(&mut self, lean: &[Arc<Article>]) {
        // Only articles parsed with their text have a lean version to take: on a reload, the
        // few files that changed (looking up all 100,000 by path took 90 ms).
        let with_text: FxHashSet<String> = self
            .kb
            .articles
            .iter()
            .filter(|a| a.text.is_some())
            .map(|a| a.slug.clone())
            .collect();
        if with_text.is_empty() {
            return;
        }
        let by_slug: FxHashMap<&str, &Arc<Article>> = lean
            .iter()
            .filter(|a| with_text.contains(&a.slug))
            .map(|a| (a.slug.as_str(), a))
            .collect();
        let swap = |a: &mut Arc<Article>| {
            if a.text.is_some()
                && let Some(l) = by_slug.get(a.slug.as_str())
                && l.path == a.path
                && l.text_hash == a.text_hash
            {
                *a = Arc::clone(l);
            }
        };
        self.kb.articles.iter_mut().for_each(&swap);
        self.parsed
            .files
            .values_mut()
            .filter_map(|f| f.article.as_mut())
            .for_each(&swap);
    }

    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

impl KnowledgeBase {
    /// Loads a content directory. Fails only when the directory itself cannot be read;
    /// problems in files become diagnostics and the rest still loads.
    pub fn load(dir: &Path, today: NaiveDate) -> anyhow::Result<Loaded> {
        Self::load_reusing(dir, today, None, &|_| true)
    }

    /// Loads a content directory, reusing from `previous` the parse of every file whose size
    /// and modification time are unchanged (on the same day): an edit reparses one file.
    /// Files are parsed on every core. A newly parsed article keeps its body text only when
    /// `keep_text` says so: a search index that already holds the article does not need it,
    /// and dropping it in the thread that parsed it gives its memory straight back.
    pub fn load_reusing(
        dir: &Path,
        today: NaiveDate,
        previous: Option<&ParseCache>,
        keep_text: KeepText<'_>,
    ) -> anyhow::Result<Loaded> {
        if !dir.is_dir() {
            bail!(
                "content directory `{}` not found — pass --content DIR pointing at the folder with your articles",
                dir.display()
            );
        }
        let previous = previous.filter(|p| p.today == Some(today));
        let mut files: Vec<(PathBuf, Option<(u64, SystemTime)>)> = Vec::new();
        let walker = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "md") {
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap_or(entry.path())
                    .to_path_buf();
                if rel.components().count() == 1
                    && rel
                        .file_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
                {
                    continue;
                }
                let stamp = entry
                    .metadata()
                    .ok()
                    .and_then(|m| Some((m.len(), m.modified().ok()?)));
                files.push((rel, stamp));
            }
        }
        Self::from_files(dir, files, today, previous, keep_text)
    }

    /// As [`KnowledgeBase::load_reusing`] without walking the directory: every file is taken
    /// as `previous` saw it but the `changed` ones (as a file watcher reports them), which are
    /// looked at again. `None` when the changes need a walk: a folder added, moved or
    /// removed, or another day.
    pub fn load_changed(
        dir: &Path,
        today: NaiveDate,
        previous: &ParseCache,
        changed: &[PathBuf],
        keep_text: KeepText<'_>,
    ) -> anyhow::Result<Option<Loaded>> {
        if previous.today != Some(today) || !dir.is_dir() {
            return Ok(None);
        }
        let canonical = dir.canonicalize().ok();
        // In the previous load's order, which is sorted: a change is found by binary search
        // (sorting 100,000 paths again, component by component, took ~80 ms per reload).
        let mut files: Vec<(PathBuf, Option<(u64, SystemTime)>)> = previous
            .order
            .iter()
            .map(|rel| (rel.clone(), previous.files.get(rel).and_then(|f| f.stamp)))
            .collect();
        if !files.is_sorted_by(|a, b| a.0 < b.0) {
            files.sort_by(|a, b| a.0.cmp(&b.0));
            files.dedup_by(|a, b| a.0 == b.0);
        }
        let at = |files: &[(PathBuf, _)], rel: &Path| {
            files.binary_search_by(|(k, _)| k.as_path().cmp(rel))
        };
        for path in changed {
            let Some(rel) = path
                .strip_prefix(dir)
                .ok()
                .or_else(|| path.strip_prefix(canonical.as_ref()?).ok())
            else {
                return Ok(None);
            };
            if rel.as_os_str().is_empty() {
                return Ok(None);
            }
            if rel
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let is_md = rel.extension().is_some_and(|e| e == "md");
            match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => return Ok(None),
                Ok(m) if m.is_file() && is_md => {
                    if rel.components().count() == 1
                        && rel
                            .file_name()
                            .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
                    {
                        continue;
                    }
                    let stamp = Some((m.len(), m.modified()?));
                    match at(&files, rel) {
                        Ok(i) => files[i].1 = stamp,
                        Err(i) => files.insert(i, (rel.to_path_buf(), stamp)),
                    }
                }
                // Synonyms, ticket types and redirects are read at every load; other files
                // are not content.
                Ok(_) => {}
                Err(_) if is_md => {
                    if let Ok(i) = at(&files, rel) {
                        files.remove(i);
                    }
                }
                Err(_) => {
                    if files.iter().any(|(k, _)| k.starts_with(rel)) {
                        // A folder of articles went.
                        return Ok(None);
                    }
                }
            }
        }
        Self::from_files(dir, files, today, Some(previous), keep_text).map(Some)
    }

    /// Parses `files` (reusing `previous` where the stamp is unchanged) and reads the
    /// content root's synonyms, ticket types and redirects.
    fn from_files(
        dir: &Path,
        files: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
        today: NaiveDate,
        previous: Option<&ParseCache>,
        keep_text: KeepText<'_>,
    ) -> anyhow::Result<Loaded> {
        let walked = std::time::Instant::now();
        let parsed = parse_files(dir, &files, today, previous, keep_text);
        tracing::debug!(files = files.len(), parse_ms = %walked.elapsed().as_millis(), "content files parsed");
        let read = |name: &str| -> anyhow::Result<Option<String>> {
            let path = dir.join(name);
            if !path.exists() {
                return Ok(None);
            }
            std::fs::read_to_string(&path)
                .map(Some)
                .with_context(|| format!("reading {}", path.display()))
        };
        let synonyms = read(SYNONYMS_FILE)?;
        let ticket_types = read(TICKET_TYPES_FILE)?;
        let order: Vec<PathBuf> = files.iter().map(|(rel, _)| rel.clone()).collect();
        let mut loaded = Self::assemble(
            dir,
            &order,
            &parsed,
            synonyms.as_deref(),
            ticket_types.as_deref(),
        );
        loaded.parsed = ParseCache {
            today: Some(today),
            files: files.into_iter().map(|(rel, _)| rel).zip(parsed).collect(),
            order,
        };
        loaded.link_redirects(read(REDIRECTS_FILE)?.as_deref());
        Ok(loaded)
    }

    /// Builds a knowledge base from in-memory files (paths relative to `root`): no disk I/O.
    pub fn from_sources(
        root: &Path,
        articles: &[(PathBuf, String)],
        synonyms: Option<&str>,
        ticket_types: Option<&str>,
        today: NaiveDate,
    ) -> Loaded {
        let parsed: Vec<ParsedFile> = articles
            .iter()
            .map(|(rel, src)| parse_file(root, rel, src, today, None, &|_| true))
            .collect();
        let paths: Vec<PathBuf> = articles.iter().map(|(rel, _)| rel.clone()).collect();
        Self::assemble(root, &paths, &parsed, synonyms, ticket_types)
    }

    /// The knowledge base of parsed files: synonyms, the taxonomy, unique slugs and the checks
    /// that span files.
    fn assemble(
        root: &Path,
        paths: &[PathBuf],
        parsed: &[ParsedFile],
        synonyms: Option<&str>,
        ticket_types: Option<&str>,
    ) -> Loaded {
        let mut diags = Vec::new();
        let mut kb = KnowledgeBase {
            root: root.to_path_buf(),
            ..Default::default()
        };
        if let Some(src) = synonyms {
            kb.synonyms = synonyms::parse(&root.join(SYNONYMS_FILE), src, &mut diags);
        }
        let types_path = root.join(TICKET_TYPES_FILE);
        match ticket_types {
            Some(src) => kb.ticket_types = ticket_types::parse(&types_path, src, &mut diags),
            None => diags.push(Diagnostic::warning(
                &types_path,
                0,
                "no ticket-types.toml: ticket types cannot be checked",
                "add the taxonomy, one `[[ticket_type]]` entry per type",
            )),
        }

        let mut by_slug: FxHashMap<&str, &Path> = FxHashMap::default();
        for (rel, file) in paths.iter().zip(parsed) {
            diags.extend(file.diagnostics.iter().cloned());
            let Some(article) = &file.article else {
                tracing::warn!(path = %root.join(rel).display(), "article skipped: it has errors (run `deflect check`)");
                continue;
            };
            if let Some(first) = by_slug.get(article.slug.as_str()) {
                diags.push(Diagnostic::error(
                    &root.join(rel),
                    0,
                    format!(
                        "duplicate slug `{}`, also used by {}",
                        article.slug,
                        root.join(first).display()
                    ),
                    "rename one of the files (or change its `slug:`): slugs must be unique",
                ));
                continue;
            }
            by_slug.insert(&article.slug, rel);
            kb.articles.push(Arc::clone(article));
        }
        kb.cross_check(&mut diags);
        Loaded {
            kb,
            diagnostics: diags,
            files: paths.len(),
            parsed: ParseCache::default(),
        }
    }

    /// Checks that span files: links, related slugs, ticket types, coverage.
    fn cross_check(&self, diags: &mut Vec<Diagnostic>) {
        let status: FxHashMap<&str, ArticleStatus> = self
            .articles
            .iter()
            .map(|a| (a.slug.as_str(), a.front.status))
            .collect();
        let known_types: HashSet<&str> = self.ticket_types.iter().map(|t| t.id.as_str()).collect();
        let have_taxonomy = !self.ticket_types.is_empty();
        for a in &self.articles {
            // Joined only for a problem to report: most articles have none.
            let shown = || self.root.join(&a.path);
            let check_target =
                |slug: &str, line: usize, what: &str, diags: &mut Vec<Diagnostic>| match status
                    .get(slug)
                {
                    None => {
                        let nearest = status
                            .keys()
                            .min_by_key(|s| strsim::levenshtein(s, slug))
                            .filter(|s| strsim::levenshtein(s, slug) <= 4);
                        let fix = nearest.map_or_else(
                            || {
                                "point it at an existing article's slug (its file name without .md)"
                                    .to_string()
                            },
                            |n| format!("did you mean `{n}`?"),
                        );
                        diags.push(Diagnostic::error(
                            &shown(),
                            line,
                            format!("{what} `{slug}` does not exist"),
                            fix,
                        ));
                    }
                    Some(s) if a.is_published() && *s != ArticleStatus::Published => {
                        diags.push(Diagnostic::warning(
                            &shown(),
                            line,
                            format!(
                                "{what} `{slug}` is {}, so readers cannot open it",
                                s.as_str()
                            ),
                            "publish it or remove the link",
                        ));
                    }
                    Some(_) => {}
                };
            for slug in &a.front.related {
                check_target(slug, a.front.related_line, "related article", diags);
            }
            for link in &a.links {
                if let Some(slug) = internal_slug(&link.url) {
                    check_target(slug, link.line, "link to article", diags);
                }
            }
            if have_taxonomy {
                for t in &a.front.ticket_types {
                    if !known_types.contains(t.as_str()) {
                        let nearest = known_types
                            .iter()
                            .min_by_key(|k| strsim::levenshtein(k, t))
                            .copied()
                            .unwrap_or_default();
                        diags.push(Diagnostic::error(
                            &shown(),
                            a.front.ticket_types_line,
                            format!("ticket type `{t}` is not in ticket-types.toml"),
                            format!("did you mean `{nearest}`? Or add it to ticket-types.toml"),
                        ));
                    }
                }
            }
        }
        let covered: HashSet<&str> = self
            .published()
            .flat_map(|a| a.front.ticket_types.iter().map(String::as_str))
            .collect();
        for t in &self.ticket_types {
            if !covered.contains(t.id.as_str()) {
                diags.push(Diagnostic::warning(
                    &self.root.join(TICKET_TYPES_FILE),
                    t.line,
                    format!("ticket type `{}` has no published article", t.id),
                    "write an article that answers it and list the type in its `ticket_types`",
                ));
            }
        }
    }

    /// The articles customers can see and search.
    pub fn published(&self) -> impl Iterator<Item = &Article> {
        self.articles
            .iter()
            .map(|a| a.as_ref())
            .filter(|a| a.is_published())
    }
}

/// Parses one file's text.
fn parse_file(
    root: &Path,
    rel: &Path,
    src: &str,
    today: NaiveDate,
    stamp: Option<(u64, SystemTime)>,
    keep_text: KeepText<'_>,
) -> ParsedFile {
    let mut diagnostics = Vec::new();
    let article =
        Article::parse(rel, &root.join(rel), src, today, &mut diagnostics).map(|mut a| {
            if !keep_text(&a) {
                a.text = None;
            }
            Arc::new(a)
        });
    ParsedFile {
        stamp,
        article,
        diagnostics,
    }
}

/// Reads and parses the files that changed since `previous` (all of them without it), on every
/// core; unchanged files keep their parse.
fn parse_files(
    dir: &Path,
    files: &[(PathBuf, Option<(u64, SystemTime)>)],
    today: NaiveDate,
    previous: Option<&ParseCache>,
    keep_text: KeepText<'_>,
) -> Vec<ParsedFile> {
    let one = |(rel, stamp): &(PathBuf, Option<(u64, SystemTime)>)| -> ParsedFile {
        if let (Some(stamp), Some(prev)) = (stamp, previous.and_then(|p| p.files.get(rel)))
            && prev.stamp == Some(*stamp)
        {
            return prev.clone();
        }
        let shown = dir.join(rel);
        match std::fs::read_to_string(&shown) {
            Ok(src) => parse_file(dir, rel, &src, today, *stamp, keep_text),
            Err(e) => ParsedFile {
                stamp: None,
                article: None,
                diagnostics: vec![Diagnostic::error(
                    &shown,
                    0,
                    format!("cannot read the file: {e}"),
                    "save it as UTF-8 text",
                )],
            },
        }
    };
    let threads = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(1);
    if threads < 2 || files.len() < 64 {
        return files.iter().map(one).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// The slug an internal link points at: `/articles/<slug>` (with optional `#anchor`) or `<slug>.md`.
fn internal_slug(url: &str) -> Option<&str> {
    let url = url.split(['#', '?']).next().unwrap_or(url);
    if url.contains("://") || url.starts_with("mailto:") {
        return None;
    }
    if let Some(slug) = url.strip_prefix("/articles/") {
        return Some(slug.trim_end_matches('/'));
    }
    if let Some(md) = url.strip_suffix(".md") {
        return Some(md.rsplit('/').next().unwrap_or(md));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_links() {
        assert_eq!(
            internal_slug("/articles/activate-card#steps"),
            Some("activate-card")
        );
        assert_eq!(
            internal_slug("../cards/activate-card.md"),
            Some("activate-card")
        );
        assert_eq!(internal_slug("https://example.com/articles/x"), None);
        assert_eq!(internal_slug("#steps"), None);
    }
}
