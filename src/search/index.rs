//! The tantivy index behind the engine: its schema, where it lives (in memory, or on disk and
//! reused across restarts), and keeping it in step with the content one article at a time.
//!
//! On disk the index sits in its own folder with a manifest, `deflect-index.json`, naming each
//! indexed article and a hash of what was indexed of it. Starting again on unchanged content
//! reuses the index as it is; a changed, added or deleted article replaces, adds or deletes
//! only its document. An index that cannot be opened, or that disagrees with its manifest, is
//! rebuilt from the content.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use super::{SearchError, analysis, is_template_heading};
use crate::content::Article;

/// Bumped whenever the schema or the analysis changes: an index of another format is rebuilt.
const FORMAT: u32 = 5;
const MANIFEST: &str = "deflect-index.json";
/// A large build logs its progress every this many articles.
const PROGRESS_EVERY: usize = 20_000;
/// Indexing memory per writer thread.
const WRITER_BUDGET: usize = 64_000_000;

/// A searchable text field, indexed as exact words and as stems.
#[derive(Debug, Clone, Copy)]
pub struct TextField {
    pub exact: Field,
    pub stemmed: Field,
    /// How much a match in this field counts.
    pub weight: f32,
}

/// Handles to the schema's fields.
#[derive(Debug, Clone)]
pub struct Fields {
    pub title: TextField,
    pub keywords: TextField,
    pub summary: TextField,
    pub headings: TextField,
    pub body: TextField,
    /// The category and its ancestors, for filtering.
    pub category: Field,
    /// The article's slug: which document to replace or delete, and which article a hit is.
    pub slug: Field,
    /// Every text field's stems in one, without positions: what the first of two ranking
    /// stages looks in, one term per word instead of one per field.
    pub all: Field,
    /// The body's plain text, stored (compressed, on disk when the index is) and not
    /// indexed: where snippets come from, so that articles in memory need not keep it.
    pub text: Field,
}

impl Fields {
    pub fn text_fields(&self) -> [TextField; 5] {
        [
            self.title,
            self.keywords,
            self.summary,
            self.headings,
            self.body,
        ]
    }

    /// Every field a search scores: each text field's exact and stemmed versions, and
    /// `all`.
    pub fn scored(&self) -> impl Iterator<Item = Field> + use<> {
        let pairs = self.text_fields().map(|f| [f.exact, f.stemmed]);
        pairs.into_iter().flatten().chain([self.all])
    }
}

pub fn schema() -> (Schema, Fields) {
    let mut sb = Schema::builder();
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut pair = |name: &str, weight: f32| TextField {
        exact: sb.add_text_field(&format!("{name}_exact"), text(analysis::EXACT)),
        stemmed: sb.add_text_field(name, text(analysis::STEMMED)),
        weight,
    };
    let title = pair("title", 3.0);
    let keywords = pair("keywords", 3.5);
    let summary = pair("summary", 1.8);
    let headings = pair("headings", 1.2);
    let body = pair("body", 1.5);
    let category = sb.add_text_field("category", STRING);
    let slug = sb.add_text_field("slug", STRING | FAST);
    let all = sb.add_text_field(
        "all",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analysis::STEMMED)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let text = sb.add_text_field("text", STORED);
    (
        sb.build(),
        Fields {
            title,
            keywords,
            summary,
            headings,
            body,
            category,
            slug,
            all,
            text,
        },
    )
}

/// Stored texts are compressed in blocks of 4 KB rather than tantivy's 16 KB: a snippet
/// decompresses the block of its article, and an article's text is about 1.5 KB.
fn settings() -> IndexSettings {
    IndexSettings {
        docstore_blocksize: 4096,
        ..IndexSettings::default()
    }
}

/// The short text fields an article has in memory (title, keywords, summary, headings, in
/// field order), as pieces: a field with several is indexed as its pieces joined by
/// [`PIECES_JOINED_BY`], which adds no word, so its words are the pieces' words in order.
pub fn short_texts(a: &Article) -> [Vec<&str>; 4] {
    let headings = a
        .headings
        .iter()
        .map(|h| h.text.as_str())
        .filter(|h| !is_template_heading(h));
    [
        vec![a.front.title.as_str()],
        a.front.keywords.iter().map(String::as_str).collect(),
        vec![a.front.summary.as_str()],
        headings.collect(),
    ]
}

/// What joins the pieces of a short field in the index.
const PIECES_JOINED_BY: &str = " | ";

/// What of an article is indexed, in field order (`text` is its body's).
fn indexed_texts(a: &Article, text: &str) -> [String; 5] {
    let [title, keywords, summary, headings] = short_texts(a).map(|p| p.join(PIECES_JOINED_BY));
    [title, keywords, summary, headings, text.to_string()]
}

/// A hash of everything the index holds of an article: equal hashes, nothing to reindex.
fn fingerprint(a: &Article) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    FORMAT.hash(&mut h);
    a.slug.hash(&mut h);
    a.front.title.hash(&mut h);
    a.front.keywords.hash(&mut h);
    a.front.summary.hash(&mut h);
    for heading in &a.headings {
        heading.text.hash(&mut h);
    }
    a.text_hash.hash(&mut h);
    for c in a.category_ancestors() {
        c.hash(&mut h);
    }
    h.finish()
}

/// The article's document, `text` being its body's.
fn document(fields: &Fields, a: &Article, text: &str) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    for (field, t) in fields.text_fields().iter().zip(indexed_texts(a, text)) {
        doc.add_text(field.exact, &t);
        doc.add_text(field.stemmed, &t);
        doc.add_text(fields.all, &t);
    }
    for c in a.category_ancestors() {
        doc.add_text(fields.category, c);
    }
    doc.add_text(fields.slug, &a.slug);
    doc.add_text(fields.text, text);
    doc
}

/// Each indexed article's fingerprint, as stored beside an on-disk index.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Manifest {
    format: u32,
    /// Slug → fingerprint, in hex.
    articles: HashMap<String, String>,
}

/// A [`Manifest`] as written, from the fingerprints as kept (100,000 of them: not copied).
#[derive(serde::Serialize)]
struct ManifestOut<'a> {
    format: u32,
    articles: Fingerprints<'a>,
}

struct Fingerprints<'a>(&'a FxHashMap<String, u64>);

impl serde::Serialize for Fingerprints<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Hex(u64);
        impl serde::Serialize for Hex {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&format_args!("{:016x}", self.0))
            }
        }
        s.collect_map(self.0.iter().map(|(slug, print)| (slug, Hex(*print))))
    }
}

/// An article's address in memory, which is its own while [`Writable::last`] holds it.
fn address(a: &Arc<Article>) -> usize {
    Arc::as_ptr(a) as usize
}

/// What bringing the index in step with the content did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// The index was built from nothing (first start, another format, or unusable).
    pub rebuilt: bool,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub millis: u128,
}

impl SyncReport {
    pub fn changed(&self) -> usize {
        self.added + self.updated + self.removed
    }
}

struct Writable {
    writer: IndexWriter,
    /// Slug → fingerprint of what the index holds.
    indexed: FxHashMap<String, u64>,
    /// The articles last indexed, kept so that their addresses stay theirs, and those
    /// addresses: the same `Arc` again is known unchanged without hashing its article.
    last: Vec<Arc<Article>>,
    last_at: FxHashSet<usize>,
    /// Whether what was last committed has its manifest written and is what the reader sees.
    published: bool,
}

/// What [`IndexStore::sync`] gives: a searcher of the index in step, what it took, and the
/// articles as an engine keeps them (without their text).
pub struct Synced {
    pub searcher: Searcher,
    pub report: SyncReport,
    pub articles: Vec<Arc<Article>>,
}

/// The index and its one writer, shared by every engine built on it.
pub struct IndexStore {
    index: Index,
    reader: IndexReader,
    pub(super) fields: Fields,
    dir: Option<PathBuf>,
    writable: Mutex<Writable>,
}

impl std::fmt::Debug for IndexStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(1)
        .clamp(1, 4)
}

impl IndexStore {
    /// An index in memory, for one-off commands and tests.
    pub fn in_ram() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_ram()?;
        Self::with_index(index, fields, None, FxHashMap::default(), 1)
    }

    /// The index in `dir`, created there when missing; rebuilt when it cannot be used.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        match Self::try_open(dir) {
            Ok(store) => Ok(store),
            Err(e @ SearchError::Locked(_)) => Err(e),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "search index unusable ({e}); rebuilding it");
                std::fs::remove_dir_all(dir).map_err(|e| SearchError::Io(dir.to_path_buf(), e))?;
                Self::try_open(dir)
            }
        }
    }

    /// Whether this index is kept on disk (not in memory).
    pub fn on_disk(&self) -> bool {
        self.dir.is_some()
    }

    /// Whether `dir` holds an index of this format with at least one article, by its
    /// manifest alone (nothing is opened or locked): when it does not, opening it means a
    /// first build.
    pub fn is_built(dir: &Path) -> bool {
        std::fs::read(dir.join(MANIFEST))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
            .is_some_and(|m| m.format == FORMAT && !m.articles.is_empty())
    }

    fn try_open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Io(dir.to_path_buf(), e))?;
        let (schema, fields) = schema();
        let manifest_path = dir.join(MANIFEST);
        let manifest: Manifest = match std::fs::read(&manifest_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| SearchError::Corrupt(format!("{}: {e}", manifest_path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest {
                format: FORMAT,
                ..Manifest::default()
            },
            Err(e) => return Err(SearchError::Io(manifest_path, e)),
        };
        if manifest.format != FORMAT {
            return Err(SearchError::Corrupt(format!(
                "index format {} (this version writes {FORMAT})",
                manifest.format
            )));
        }
        let directory = MmapDirectory::open(dir)
            .map_err(|e| SearchError::Corrupt(format!("{}: {e}", dir.display())))?;
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .open_or_create(directory)?;
        let indexed = manifest
            .articles
            .into_iter()
            .map(|(slug, hex)| {
                u64::from_str_radix(&hex, 16)
                    .map(|h| (slug, h))
                    .map_err(|_| SearchError::Corrupt(format!("bad fingerprint `{hex}`")))
            })
            .collect::<Result<FxHashMap<_, _>, _>>()?;
        let store = Self::with_index(index, fields, Some(dir.to_path_buf()), indexed, threads())?;
        let docs = store.reader.searcher().num_docs();
        let expected = store.lock().indexed.len() as u64;
        if docs != expected {
            return Err(SearchError::Corrupt(format!(
                "the index holds {docs} articles, its manifest {expected}"
            )));
        }
        Ok(store)
    }

    fn with_index(
        index: Index,
        fields: Fields,
        dir: Option<PathBuf>,
        indexed: FxHashMap<String, u64>,
        threads: usize,
    ) -> Result<Self, SearchError> {
        analysis::register(&index);
        let writer = match index.writer_with_num_threads(threads, WRITER_BUDGET * threads) {
            Err(tantivy::TantivyError::LockFailure(..)) => {
                return Err(SearchError::Locked(dir.unwrap_or_default()));
            }
            found => found?,
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            dir,
            writable: Mutex::new(Writable {
                writer,
                indexed,
                last: Vec::new(),
                last_at: FxHashSet::default(),
                published: true,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Writable> {
        self.writable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Where the index lives on disk, if it does.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether the index holds this very version of the article: then syncing needs nothing
    /// of it, not even its text.
    pub fn holds(&self, a: &Article) -> bool {
        self.lock().indexed.get(&a.slug) == Some(&fingerprint(a))
    }

    /// Brings the index in step with `articles` (the published ones): only what changed is
    /// written, committed at once, and a searcher of the result is returned with the articles
    /// as the engine keeps them: without their text, which the index now holds. Searchers
    /// taken before keep seeing the previous version.
    pub fn sync(&self, articles: &[Arc<Article>]) -> Result<Synced, SearchError> {
        let started = Instant::now();
        let mut w = self.lock();
        let mut report = SyncReport {
            rebuilt: w.indexed.is_empty() && !articles.is_empty(),
            ..SyncReport::default()
        };
        // What to write, decided before writing anything: an article whose text is gone
        // cannot be indexed, and then the index stays as it is.
        let mut todo: Vec<(&Article, &str, u64)> = Vec::new();
        for a in articles {
            if w.last_at.contains(&address(a)) {
                continue;
            }
            let print = fingerprint(a);
            if w.indexed.get(&a.slug) != Some(&print) {
                let Some(text) = a.text.as_deref() else {
                    return Err(SearchError::TextGone(a.slug.clone()));
                };
                todo.push((a, text, print));
            }
        }
        report.unchanged = articles.len() - todo.len();
        // The fingerprints as they were for what this sync changes: should writing or
        // committing fail, the writer drops what it was given and they are put back, so the
        // bookkeeping stays that of the committed index and the next sync tries again.
        let mut before: Vec<(String, Option<u64>)> = Vec::new();
        let written = self.write(&mut w, &todo, articles, &mut report, &mut before, started);
        let committed = written.and_then(|()| {
            if report.changed() > 0 {
                w.writer.commit()?;
                w.published = false;
            }
            Ok(())
        });
        if let Err(e) = committed {
            if let Err(r) = w.writer.rollback() {
                tracing::error!("dropping the uncommitted index changes failed: {r}");
            }
            for (slug, print) in before.into_iter().rev() {
                match print {
                    Some(print) => w.indexed.insert(slug, print),
                    None => w.indexed.remove(&slug),
                };
            }
            return Err(e);
        }
        // Committed: made durable (the manifest) and visible. Should that fail, the site
        // stays on its previous version and the next sync does it again.
        if !w.published {
            if report.rebuilt
                && let Err(e) = merge_all(&self.index, &mut w.writer)
            {
                tracing::warn!(
                    "merging the new index's segments failed (searches work, a little slower): {e}"
                );
            }
            self.write_manifest(&w.indexed)?;
            self.reader.reload()?;
            w.published = true;
        }
        // The engine keeps the articles without their text (the index has it).
        let lean: Vec<Arc<Article>> = articles
            .iter()
            .map(|a| match a.text {
                Some(_) => Arc::new(a.without_text()),
                None => Arc::clone(a),
            })
            .collect();
        w.last_at = lean.iter().map(address).collect();
        w.last = lean.clone();
        report.millis = started.elapsed().as_millis();
        if report.changed() >= PROGRESS_EVERY {
            tracing::info!(
                added = report.added,
                updated = report.updated,
                removed = report.removed,
                ms = %report.millis,
                "indexed {:.0} articles/s",
                (report.added + report.updated) as f64 / started.elapsed().as_secs_f64().max(1e-3)
            );
        }
        Ok(Synced {
            searcher: self.reader.searcher(),
            report,
            articles: lean,
        })
    }

    /// Gives the writer `todo` (added or updated articles) and the deletions of indexed
    /// articles no longer in `articles`, noting in `before` each fingerprint it changes.
    fn write(
        &self,
        w: &mut Writable,
        todo: &[(&Article, &str, u64)],
        articles: &[Arc<Article>],
        report: &mut SyncReport,
        before: &mut Vec<(String, Option<u64>)>,
        started: Instant,
    ) -> Result<(), SearchError> {
        for &(a, text, print) in todo {
            let previous = w.indexed.insert(a.slug.clone(), print);
            before.push((a.slug.clone(), previous));
            if previous.is_some() {
                w.writer
                    .delete_term(Term::from_field_text(self.fields.slug, &a.slug));
                report.updated += 1;
            } else {
                report.added += 1;
            }
            w.writer.add_document(document(&self.fields, a, text))?;
            let written = report.added + report.updated;
            if written.is_multiple_of(PROGRESS_EVERY) {
                tracing::info!(
                    "indexing: {written} of at most {} articles, {:.0} articles/s",
                    articles.len(),
                    written as f64 / started.elapsed().as_secs_f64().max(1e-3)
                );
            }
        }
        // Every article given is indexed now; more indexed ones are gone from the content
        // (looked for only then: slugs are unique, so counting tells).
        if w.indexed.len() > articles.len() {
            let present: FxHashSet<&str> = articles.iter().map(|a| a.slug.as_str()).collect();
            let gone: Vec<String> = w
                .indexed
                .keys()
                .filter(|s| !present.contains(s.as_str()))
                .cloned()
                .collect();
            for slug in gone {
                w.writer
                    .delete_term(Term::from_field_text(self.fields.slug, &slug));
                let print = w.indexed.remove(&slug);
                before.push((slug, print));
                report.removed += 1;
            }
        }
        Ok(())
    }

    fn write_manifest(&self, indexed: &FxHashMap<String, u64>) -> Result<(), SearchError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let manifest = ManifestOut {
            format: FORMAT,
            articles: Fingerprints(indexed),
        };
        let path = dir.join(MANIFEST);
        let tmp = dir.join(format!("{MANIFEST}.tmp"));
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| SearchError::Corrupt(format!("writing the manifest: {e}")))?;
        std::fs::write(&tmp, bytes).map_err(|e| SearchError::Io(tmp.clone(), e))?;
        std::fs::rename(&tmp, &path).map_err(|e| SearchError::Io(path, e))
    }

    /// The index's words: of the exact fields with how many articles hold each (the most of
    /// any one field), and the set of stems of the stemmed fields.
    pub fn words(
        &self,
        searcher: &Searcher,
    ) -> Result<(HashMap<String, u32>, HashSet<String>), SearchError> {
        let mut doc_freq: HashMap<String, u32> = HashMap::new();
        let mut stems: HashSet<String> = HashSet::new();
        for segment in searcher.segment_readers() {
            let mut in_segment: HashMap<String, u32> = HashMap::new();
            for f in self.fields.text_fields() {
                let inverted = segment.inverted_index(f.exact)?;
                let mut stream = inverted
                    .terms()
                    .stream()
                    .map_err(tantivy::TantivyError::from)?;
                while stream.advance() {
                    let Ok(word) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    let df = stream.value().doc_freq;
                    let e = in_segment.entry(word.to_string()).or_default();
                    *e = (*e).max(df);
                }
                let inverted = segment.inverted_index(f.stemmed)?;
                let mut stream = inverted
                    .terms()
                    .stream()
                    .map_err(tantivy::TantivyError::from)?;
                while stream.advance() {
                    if let Ok(stem) = std::str::from_utf8(stream.key())
                        && !stems.contains(stem)
                    {
                        stems.insert(stem.to_string());
                    }
                }
            }
            for (word, df) in in_segment {
                *doc_freq.entry(word).or_default() += df;
            }
        }
        Ok((doc_freq, stems))
    }
}

/// Merges every segment into one: a first build leaves one per flushed batch, and each costs a
/// search its own pass.
fn merge_all(index: &Index, writer: &mut IndexWriter) -> Result<(), SearchError> {
    let ids = index.searchable_segment_ids()?;
    if ids.len() > 1 {
        let started = Instant::now();
        writer.merge(&ids).wait()?;
        tracing::debug!(segments = ids.len(), ms = %started.elapsed().as_millis(), "index segments merged");
    }
    Ok(())
}
