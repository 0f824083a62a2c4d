//! The live site: a loaded knowledge base and its index, swapped atomically on reload so a
//! search sees the old or the new index, never half of one. A broken edit keeps the last good
//! version of that article.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use chrono::NaiveDate;
use rustc_hash::FxHashSet;

use crate::content::ParseCache;
use crate::content::{Diagnostic, KnowledgeBase};
use crate::search::{IndexStore, SearchEngine, SyncReport};

include!(concat!(env!("OUT_DIR"), "/sample_content.rs"));

/// Writes the sample help center embedded in the binary to `dir` (replacing what was there),
/// for starting with no content directory at hand.
pub fn unpack_sample(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    for (rel, text) in SAMPLE_CONTENT {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// One consistent version of the content and its index.
#[derive(Debug)]
pub struct Site {
    pub kb: KnowledgeBase,
    pub engine: SearchEngine,
    /// Problems found when this version was loaded.
    pub diagnostics: Vec<Diagnostic>,
    /// The files' parses, reused by the next reload for the files that did not change.
    parsed: ParseCache,
}

/// What a reload did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadReport {
    pub articles: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Slugs whose new version is broken, served as before.
    pub kept_last_good: Vec<String>,
    /// What the search index had to do.
    pub index: SyncReport,
    pub millis: u128,
}

/// Where a site's search index lives.
#[derive(Debug, Clone, Copy)]
pub enum IndexAt<'a> {
    /// In memory, built at every start.
    Memory,
    /// On disk in this folder, reused at the next start when the content has not changed.
    Disk(&'a Path),
    /// As `Disk`, but an error when another process holds it (instead of an index in memory).
    DiskOnly(&'a Path),
}

impl Site {
    /// Loads and indexes a content directory, in memory. `previous` supplies last good
    /// versions of articles that are broken now, the parses of unchanged files, and the index
    /// to update (only the changed articles are reindexed).
    pub fn load(
        dir: &Path,
        today: NaiveDate,
        previous: Option<&Site>,
    ) -> anyhow::Result<(Site, ReloadReport)> {
        Self::load_at(dir, today, previous, IndexAt::Memory)
    }

    /// As [`Site::load`], with the index where `index` says when there is no previous site.
    /// An on-disk index another process holds is replaced by one in memory, with a warning.
    pub fn load_at(
        dir: &Path,
        today: NaiveDate,
        previous: Option<&Site>,
        index: IndexAt<'_>,
    ) -> anyhow::Result<(Site, ReloadReport)> {
        let started = std::time::Instant::now();
        let store = Self::store(previous, index)?;
        let loaded = KnowledgeBase::load_reusing(dir, today, previous.map(|p| &p.parsed), &|a| {
            !store.holds(a)
        })?;
        Self::from_loaded(dir, loaded, previous, store, started)
    }

    /// As [`Site::load_at`] with no previous site, unless the index is on disk and `too_many`
    /// says so of the number of published articles missing from it or changed (and of all
    /// published articles): then nothing is indexed, the index is released, and that number
    /// is returned instead (for `deflect serve` to have them indexed in a child process, whose
    /// memory goes back to the system).
    pub fn load_unless(
        dir: &Path,
        today: NaiveDate,
        index: IndexAt<'_>,
        too_many: impl Fn(usize, usize) -> bool,
    ) -> anyhow::Result<Result<(Site, ReloadReport), usize>> {
        let started = std::time::Instant::now();
        let store = Self::store(None, index)?;
        let loaded = KnowledgeBase::load_reusing(dir, today, None, &|a| !store.holds(a))?;
        // Texts are kept for exactly the articles the index does not hold as they are.
        let (to_index, published) = loaded
            .kb
            .articles
            .iter()
            .filter(|a| a.is_published())
            .fold((0, 0), |(n, all), a| {
                (n + usize::from(a.text.is_some()), all + 1)
            });
        if store.on_disk() && too_many(to_index, published) {
            return Ok(Err(to_index));
        }
        Self::from_loaded(dir, loaded, None, store, started).map(Ok)
    }

    /// As [`Site::load`] after a file watcher reported `changed` paths: only those are looked
    /// at again, without walking the directory (unless the changes need it).
    pub fn load_changed(
        dir: &Path,
        today: NaiveDate,
        previous: &Site,
        changed: &[PathBuf],
    ) -> anyhow::Result<(Site, ReloadReport)> {
        let started = std::time::Instant::now();
        let store = Arc::clone(previous.engine.store());
        let keep_text = |a: &crate::content::Article| !store.holds(a);
        let loaded =
            match KnowledgeBase::load_changed(dir, today, &previous.parsed, changed, &keep_text)? {
                Some(loaded) => loaded,
                None => {
                    KnowledgeBase::load_reusing(dir, today, Some(&previous.parsed), &keep_text)?
                }
            };
        Self::from_loaded(dir, loaded, Some(previous), store, started)
    }

    /// The index the site is built on: the previous site's, else a new one where `index`
    /// says. An on-disk index another process holds is replaced by one in memory.
    fn store(previous: Option<&Site>, index: IndexAt<'_>) -> anyhow::Result<Arc<IndexStore>> {
        let store = match (previous, index) {
            (Some(prev), _) => return Ok(Arc::clone(prev.engine.store())),
            (None, IndexAt::Disk(at)) => match IndexStore::open(at) {
                Err(crate::search::SearchError::Locked(_)) => {
                    tracing::warn!(dir = %at.display(), "the search index is in use by another process; indexing in memory instead");
                    IndexStore::in_ram()
                }
                found => found,
            },
            (None, IndexAt::DiskOnly(at)) => IndexStore::open(at),
            (None, IndexAt::Memory) => IndexStore::in_ram(),
        };
        Ok(Arc::new(store.context("opening the search index")?))
    }

    fn from_loaded(
        dir: &Path,
        mut loaded: crate::content::Loaded,
        previous: Option<&Site>,
        store: Arc<IndexStore>,
        started: std::time::Instant,
    ) -> anyhow::Result<(Site, ReloadReport)> {
        let parsed_ms = started.elapsed().as_millis();
        let mut kept = Vec::new();
        // Files that fail now, relative to the content folder as articles' paths are.
        let broken: FxHashSet<&Path> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .filter_map(|d| d.path.strip_prefix(dir).ok())
            .collect();
        if let Some(prev) = previous.filter(|_| !broken.is_empty()) {
            let present: FxHashSet<&str> =
                loaded.kb.articles.iter().map(|a| a.slug.as_str()).collect();
            let last_good: Vec<Arc<crate::content::Article>> = prev
                .kb
                .articles
                .iter()
                .filter(|a| broken.contains(a.path.as_path()) && !present.contains(a.slug.as_str()))
                .cloned()
                .collect();
            drop(present);
            for a in last_good {
                tracing::warn!(slug = %a.slug, path = %a.path.display(), "article has errors; serving its last good version");
                kept.push(a.slug.clone());
                loaded.kb.articles.push(a);
            }
        }
        for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            tracing::warn!("{d}");
        }
        let (engine, index) =
            SearchEngine::on(store, &loaded.kb).context("building the search index")?;
        loaded.keep(engine.articles());
        tracing::debug!(
            parsed_ms = %parsed_ms,
            index_ms = %index.millis,
            engine_ms = %(started.elapsed().as_millis() - parsed_ms - index.millis),
            "site loaded"
        );
        let report = ReloadReport {
            articles: engine.articles().len(),
            errors: loaded.errors(),
            warnings: loaded.warnings(),
            kept_last_good: kept,
            index,
            millis: started.elapsed().as_millis(),
        };
        Ok((
            Site {
                kb: loaded.kb,
                engine,
                diagnostics: loaded.diagnostics,
                parsed: loaded.parsed,
            },
            report,
        ))
    }
}

/// The current site, replaceable while requests read it.
#[derive(Debug)]
pub struct LiveSite {
    dir: PathBuf,
    current: ArcSwap<Site>,
    /// Serializes reloads; searches never wait on it.
    reloading: std::sync::Mutex<()>,
}

impl LiveSite {
    pub fn new(dir: PathBuf, site: Site) -> Self {
        Self {
            dir,
            current: ArcSwap::from_pointee(site),
            reloading: std::sync::Mutex::new(()),
        }
    }

    /// The site as of now; keep the `Arc` for the whole request.
    pub fn get(&self) -> Arc<Site> {
        self.current.load_full()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reloads from disk and swaps atomically. On failure the current site stays.
    pub fn reload(&self, today: NaiveDate) -> anyhow::Result<ReloadReport> {
        let _guard = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = self.get();
        let (site, report) = Site::load(&self.dir, today, Some(&previous))?;
        self.current.store(Arc::new(site));
        Ok(report)
    }

    /// As [`LiveSite::reload`], looking again only at the `changed` paths a file watcher
    /// reported (see [`Site::load_changed`]).
    pub fn reload_changed(
        &self,
        today: NaiveDate,
        changed: &[PathBuf],
    ) -> anyhow::Result<ReloadReport> {
        let _guard = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = self.get();
        let (site, report) = Site::load_changed(&self.dir, today, &previous, changed)?;
        self.current.store(Arc::new(site));
        Ok(report)
    }
}

/// Watches the content directory and reloads after changes settle; runs until the process ends.
/// `on_reload` is told about every reload attempt.
pub fn watch(
    live: Arc<LiveSite>,
    today: fn() -> NaiveDate,
    on_reload: impl Fn(&anyhow::Result<ReloadReport>) + Send + 'static,
) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    // The changed paths, or `None`: look at everything (the watcher lost track).
    let (tx, rx) = std::sync::mpsc::channel::<Option<Vec<PathBuf>>>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(e) if e.need_rescan() => {
                let _ = tx.send(None);
            }
            Ok(e) if !matches!(e.kind, notify::EventKind::Access(_)) => {
                let _ = tx.send(Some(e.paths));
            }
            Ok(_) => {}
            Err(_) => {
                let _ = tx.send(None);
            }
        })
        .context("starting the content watcher")?;
    watcher
        .watch(live.dir(), RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", live.dir().display()))?;
    std::thread::Builder::new()
        .name("content-watcher".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                // Editors write in bursts: wait until the files settle.
                let mut changed = first;
                while let Ok(more) = rx.recv_timeout(Duration::from_millis(100)) {
                    match (&mut changed, more) {
                        (Some(paths), Some(more)) => paths.extend(more),
                        (changed, _) => *changed = None,
                    }
                }
                let result = match changed {
                    Some(mut paths) => {
                        paths.sort();
                        paths.dedup();
                        live.reload_changed(today(), &paths)
                    }
                    None => live.reload(today()),
                };
                match &result {
                    Ok(r) => tracing::info!(articles = r.articles, errors = r.errors, ms = %r.millis, "content reloaded"),
                    Err(e) => tracing::error!("content reload failed, still serving the previous version: {e:#}"),
                }
                on_reload(&result);
            }
        })
        .context("starting the reload thread")?;
    Ok(watcher)
}
