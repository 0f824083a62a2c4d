//! The search engine on tantivy: every published article indexed twice (exact and stemmed
//! words), queries built per word with their own boosts (exact > stemmed > synonym > typo),
//! the last word also a prefix, a phrase bonus, snippets and "did you mean".

pub mod analysis;
pub mod baseline;
mod bm25;
mod first_stage;
mod index;
mod query;
mod retrieve;
pub mod snippet;
pub mod synonyms;
mod tree;
pub mod vocabulary;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::Searcher;

use crate::content::{Article, KnowledgeBase};
pub use index::{Fields, IndexStore, SyncReport, TextField};
pub use query::QueryPlan;
pub use retrieve::Stages;
use snippet::Lexicon;
use synonyms::SynonymMap;
use vocabulary::Vocabulary;

/// Queries longer than this are cut (at a character boundary) before analysis.
pub const MAX_QUERY_CHARS: usize = 512;
/// At most this many words of a query are used.
pub const MAX_QUERY_WORDS: usize = 32;
/// Results per page when the caller does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// The most results a caller may ask for.
pub const MAX_LIMIT: usize = 100;

/// Why an index could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("search index unusable: {0}")]
    Corrupt(String),
    #[error("search index {0} is in use by another process")]
    Locked(PathBuf),
    #[error(
        "article `{0}` must be indexed again but its text is no longer in memory; restart Deflect to index it from its file"
    )]
    TextGone(String),
}

/// Template headings appear in every article and say nothing about its subject.
fn is_template_heading(text: &str) -> bool {
    crate::content::article::TEMPLATE_SECTIONS
        .iter()
        .any(|t| t.eq_ignore_ascii_case(text))
}

/// A search: the customer's text, how many results, and an optional category filter.
#[derive(Debug, Clone, Copy)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    pub limit: usize,
    pub category: Option<&'a str>,
}

impl<'a> SearchRequest<'a> {
    pub fn new(query: &'a str) -> Self {
        Self {
            query,
            limit: DEFAULT_LIMIT,
            category: None,
        }
    }
}

/// One result.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub article: &'a Article,
    pub score: f32,
    /// HTML-escaped text with `<mark>` around what matched.
    pub snippet: String,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct SearchResults<'a> {
    pub query: String,
    /// How many articles matched in all.
    pub total: usize,
    /// Set when the query looked misspelled and few or no articles matched as typed.
    pub corrected_query: Option<String>,
    pub hits: Vec<Hit<'a>>,
}

/// One version of the index of the published articles, searchable while the next is built.
pub struct SearchEngine {
    store: Arc<IndexStore>,
    searcher: Searcher,
    fields: Fields,
    /// Which article each document of each segment is (an index into `articles`, or
    /// [`NO_ARTICLE`]): read from the slug column once per version, not per hit.
    article_of: Vec<Vec<u32>>,
    articles: Vec<Arc<Article>>,
    vocabulary: Vocabulary,
    synonyms: SynonymMap,
    by_slug: rustc_hash::FxHashMap<String, usize>,
    categories: BTreeMap<String, usize>,
    lexicon: Lexicon,
    /// Each text field's BM25 length factors, for this version of the index.
    lengths: bm25::FieldLengths,
    /// When and how a search ranks in two stages (see [`retrieve`]).
    stages: Stages,
    /// The first stage's terms' champions, made as searches need them (`stages.champions`
    /// per term).
    champions: first_stage::Champions,
    /// Each article's short fields as word ids of the lexicon, made on the article's first
    /// use by the second ranking stage (see [`tree::ShortFields`]).
    short_words: Vec<std::sync::OnceLock<tree::ShortWordIds>>,
    /// The terms searches looked up in this version's dictionaries.
    lookups: first_stage::Lookups,
}

/// Words of an article and their stems: which of a message's words it contains.
#[derive(Debug, Default)]
pub struct ArticleWords {
    pub exact: HashSet<String>,
    pub stems: HashSet<String>,
}

impl ArticleWords {
    /// Title, keywords and summary; with `body` (the article's text), the headings and body too.
    pub fn of(a: &Article, body: Option<&str>) -> Self {
        let mut out = Self::default();
        let mut add = |text: &str| {
            for w in analysis::words(text) {
                out.stems.insert(w.stem);
                out.exact.insert(w.text);
            }
        };
        add(&a.front.title);
        add(&a.front.summary);
        for k in &a.front.keywords {
            add(k);
        }
        if let Some(body) = body {
            for h in &a.headings {
                add(&h.text);
            }
            add(body);
        }
        out
    }
}

/// An article's words at index time: of its title, keywords and summary, and of all of it.
#[derive(Debug)]
pub struct WordSets {
    pub strong: ArticleWords,
    pub all: ArticleWords,
}

impl WordSets {
    /// The words of an article whose body text is `text`.
    pub fn of(a: &Article, text: &str) -> Self {
        Self {
            strong: ArticleWords::of(a, None),
            all: ArticleWords::of(a, Some(text)),
        }
    }
}

impl std::fmt::Debug for SearchEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchEngine")
            .field("articles", &self.articles.len())
            .field("vocabulary", &self.vocabulary.len())
            .field("synonyms", &self.synonyms.len())
            .finish_non_exhaustive()
    }
}

impl SearchEngine {
    /// Indexes the published articles of a knowledge base in memory.
    pub fn build(kb: &KnowledgeBase) -> Result<Self, SearchError> {
        Ok(Self::in_memory(kb)?.0)
    }

    /// As [`SearchEngine::build`], with what indexing did.
    pub fn in_memory(kb: &KnowledgeBase) -> Result<(Self, SyncReport), SearchError> {
        Self::on(Arc::new(IndexStore::in_ram()?), kb)
    }

    /// Opens the index kept in `dir` (creating or rebuilding it as needed) and brings it in
    /// step with the knowledge base: on unchanged content nothing is reindexed.
    pub fn open(kb: &KnowledgeBase, dir: &Path) -> Result<(Self, SyncReport), SearchError> {
        let store = Arc::new(IndexStore::open(dir)?);
        Self::on(store, kb)
    }

    /// The next version for changed content, on the same index: only the articles that
    /// changed are reindexed. This version stays searchable meanwhile and after.
    pub fn updated(&self, kb: &KnowledgeBase) -> Result<(Self, SyncReport), SearchError> {
        Self::on(Arc::clone(&self.store), kb)
    }

    /// Where the index lives on disk, if it does.
    pub fn index_dir(&self) -> Option<&Path> {
        self.store.dir()
    }

    /// The index this engine searches, which the next version is built on.
    pub fn store(&self) -> &Arc<IndexStore> {
        &self.store
    }

    /// An engine on `store`, brought in step with the knowledge base first.
    pub fn on(
        store: Arc<IndexStore>,
        kb: &KnowledgeBase,
    ) -> Result<(Self, SyncReport), SearchError> {
        let published: Vec<Arc<Article>> = kb
            .articles
            .iter()
            .filter(|a| a.is_published())
            .cloned()
            .collect();
        let index::Synced {
            searcher,
            report,
            articles,
        } = store.sync(&published)?;
        drop(published);
        let fields = store.fields.clone();
        let lengths = bm25::FieldLengths::of(&searcher, fields.scored())?;
        let (doc_freq, stems) = store.words(&searcher)?;
        let lexicon = Lexicon::of_words(doc_freq.keys().map(String::as_str));
        let by_slug: rustc_hash::FxHashMap<String, usize> = articles
            .iter()
            .enumerate()
            .map(|(i, a)| (a.slug.clone(), i))
            .collect();
        let article_of = searcher
            .segment_readers()
            .iter()
            .map(|segment| articles_of_docs(segment, &by_slug))
            .collect::<Result<Vec<_>, _>>()?;
        // A category's name is allocated once, not once per article (100,000 per reload).
        let mut categories: BTreeMap<String, usize> = BTreeMap::new();
        for c in articles.iter().flat_map(|a| a.category_ancestors()) {
            match categories.get_mut(c) {
                Some(n) => *n += 1,
                None => {
                    categories.insert(c.to_string(), 1);
                }
            }
        }
        let stages = Stages::default();
        let short_words = (0..articles.len()).map(|_| Default::default()).collect();
        let engine = Self {
            store,
            searcher,
            fields,
            article_of,
            articles,
            vocabulary: Vocabulary::new(doc_freq, stems),
            synonyms: SynonymMap::new(&kb.synonyms),
            by_slug,
            categories,
            lexicon,
            lengths,
            stages,
            champions: first_stage::Champions::new(stages.champions),
            short_words,
            lookups: first_stage::Lookups::default(),
        };
        Ok((engine, report))
    }

    /// Ranks in two stages with these settings instead of the defaults. For tests and
    /// measurements of the two-stage ranking (on small content: `from_postings: 0`).
    #[doc(hidden)]
    pub fn with_stages(mut self, stages: Stages) -> Self {
        self.stages = Stages {
            candidates: stages.candidates.max(1),
            common_share: stages.common_share.clamp(0.0, 1.0),
            first_stage_terms: stages.first_stage_terms.max(1),
            ..stages
        };
        self.champions = first_stage::Champions::new(stages.champions);
        self
    }

    /// The indexed (published) articles, without their text (see [`SearchEngine::text`]).
    /// A caller that keeps articles beyond this engine should keep these.
    pub fn articles(&self) -> &[Arc<Article>] {
        &self.articles
    }

    /// Article counts per category, each including its subcategories.
    pub fn categories(&self) -> &BTreeMap<String, usize> {
        &self.categories
    }

    /// A published article by slug.
    pub fn article(&self, slug: &str) -> Option<&Article> {
        self.by_slug.get(slug).map(|&i| self.articles[i].as_ref())
    }

    /// An article's words, for the suggestion endpoint's evidence (collected on demand: only
    /// the first result of a message needs them).
    pub fn article_words(&self, slug: &str) -> Option<WordSets> {
        let a = self.article(slug)?;
        Some(WordSets::of(a, &self.text(slug).unwrap_or_default()))
    }

    /// A published article's body text, from the index.
    pub fn text(&self, slug: &str) -> Option<String> {
        let term = tantivy::Term::from_field_text(self.fields.slug, slug);
        let query = tantivy::query::TermQuery::new(term, tantivy::schema::IndexRecordOption::Basic);
        let top = self
            .searcher
            .search(
                &query,
                &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
            )
            .ok()?;
        self.stored_text(top.first()?.1)
    }

    /// The body text stored with a document.
    fn stored_text(&self, addr: tantivy::DocAddress) -> Option<String> {
        use tantivy::schema::Value;
        let doc: tantivy::TantivyDocument = self.searcher.doc(addr).ok()?;
        doc.get_first(self.fields.text)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// Plans how a query will be matched: its words and what each expands to.
    pub fn plan(&self, query: &str) -> QueryPlan {
        QueryPlan::new(clip(query), &self.vocabulary, &self.synonyms)
    }

    /// Searches. Never fails: any text gives results or an empty list.
    pub fn search(&self, req: &SearchRequest<'_>) -> SearchResults<'_> {
        self.search_with_plan(req).0
    }

    /// Searches, and returns the plan of the query the results are for (the corrected one
    /// when the query as typed matched nothing): what the suggestion decision weighs.
    pub fn search_with_plan(&self, req: &SearchRequest<'_>) -> (SearchResults<'_>, QueryPlan) {
        let query = clip(req.query);
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let mut plan = QueryPlan::new(query, &self.vocabulary, &self.synonyms);
        let (mut total, mut hits) = self.run(&plan, limit, req.category);
        let mut corrected_query = None;
        if total < 3
            && let Some(corrected) = plan.correction()
        {
            if total == 0 {
                let better = QueryPlan::new(&corrected, &self.vocabulary, &self.synonyms);
                (total, hits) = self.run(&better, limit, req.category);
                plan = better;
            }
            corrected_query = Some(corrected);
        }
        let results = SearchResults {
            query: req.query.to_string(),
            total,
            corrected_query,
            hits,
        };
        (results, plan)
    }
}

/// A document that is no published article of this version.
const NO_ARTICLE: u32 = u32::MAX;

/// Which article each of a segment's documents is, by its slug: the slug column's dictionary
/// read once in order, then each document's entry.
fn articles_of_docs(
    segment: &tantivy::SegmentReader,
    by_slug: &rustc_hash::FxHashMap<String, usize>,
) -> Result<Vec<u32>, SearchError> {
    let Some(column) = segment.fast_fields().str("slug")? else {
        return Ok(vec![NO_ARTICLE; segment.max_doc() as usize]);
    };
    let mut of_ord = Vec::with_capacity(column.num_terms());
    let mut terms = column
        .dictionary()
        .stream()
        .map_err(|e| SearchError::Corrupt(format!("slug column: {e}")))?;
    while terms.advance() {
        let article = std::str::from_utf8(terms.key())
            .ok()
            .and_then(|slug| by_slug.get(slug))
            .map_or(NO_ARTICLE, |&i| u32::try_from(i).unwrap_or(NO_ARTICLE));
        of_ord.push(article);
    }
    Ok((0..segment.max_doc())
        .map(|doc| {
            column
                .term_ords(doc)
                .next()
                .and_then(|ord| of_ord.get(usize::try_from(ord).ok()?).copied())
                .unwrap_or(NO_ARTICLE)
        })
        .collect())
}

/// The query cut to [`MAX_QUERY_CHARS`] at a character boundary.
fn clip(query: &str) -> &str {
    match query.char_indices().nth(MAX_QUERY_CHARS) {
        Some((i, _)) => &query[..i],
        None => query,
    }
}
