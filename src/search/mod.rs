//! The search engine on tantivy: every published article indexed twice (exact and stemmed
//! words), queries built per word with their own boosts (exact > stemmed > synonym > typo),
//! the last word also a prefix, a phrase bonus, snippets and "did you mean".

pub mod analysis;
pub mod baseline;
mod query;
pub mod snippet;
pub mod synonyms;
pub mod vocabulary;

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument, Term};

use crate::content::{Article, KnowledgeBase};
pub use query::QueryPlan;
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

/// Why an index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("building the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

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
    /// Position of the article in the engine's article list.
    pub idx: Field,
}

impl Fields {
    fn text_fields(&self) -> [TextField; 5] {
        [
            self.title,
            self.keywords,
            self.summary,
            self.headings,
            self.body,
        ]
    }
}

fn schema() -> (Schema, Fields) {
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
    let idx = sb.add_u64_field("idx", FAST);
    (
        sb.build(),
        Fields {
            title,
            keywords,
            summary,
            headings,
            body,
            category,
            idx,
        },
    )
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

/// An immutable index of the published articles. Rebuild and swap to change content.
pub struct SearchEngine {
    searcher: Searcher,
    fields: Fields,
    idx_columns: Vec<Column<u64>>,
    articles: Vec<Article>,
    vocabulary: Vocabulary,
    synonyms: SynonymMap,
    by_slug: HashMap<String, usize>,
    categories: BTreeMap<String, usize>,
    /// Each article's body and summary, tokenized once for snippets.
    tokens: Vec<ArticleTokens>,
    /// Each article's words, collected once for the suggestion endpoint's evidence.
    words: Vec<WordSets>,
    lexicon: Lexicon,
}

/// Words of an article and their stems: which of a message's words it contains.
#[derive(Debug, Default)]
pub struct ArticleWords {
    pub exact: HashSet<String>,
    pub stems: HashSet<String>,
}

impl ArticleWords {
    /// Title, keywords and summary; with `body`, the headings and body too.
    pub fn of(a: &Article, body: bool) -> Self {
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
        if body {
            for h in &a.headings {
                add(&h.text);
            }
            add(&a.text);
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
    pub fn of(a: &Article) -> Self {
        Self {
            strong: ArticleWords::of(a, false),
            all: ArticleWords::of(a, true),
        }
    }
}

/// An article's snippet sources, tokenized at index time.
#[derive(Debug)]
struct ArticleTokens {
    body: Vec<snippet::Token>,
    summary: Vec<snippet::Token>,
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
    /// Indexes the published articles of a knowledge base.
    pub fn build(kb: &KnowledgeBase) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        analysis::register(&index);
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 60_000_000)?;
        let articles: Vec<Article> = kb.published().cloned().collect();
        let mut doc_freq: HashMap<String, u32> = HashMap::new();
        let mut lexicon = Lexicon::default();
        let mut tokens = Vec::with_capacity(articles.len());
        let mut stems: HashSet<String> = HashSet::new();
        for (i, a) in articles.iter().enumerate() {
            let headings: Vec<&str> = a
                .headings
                .iter()
                .map(|h| h.text.as_str())
                .filter(|h| !is_template_heading(h))
                .collect();
            let keywords = a.front.keywords.join(" | ");
            let headings = headings.join(" | ");
            let texts: [(&TextField, &str); 5] = [
                (&fields.title, &a.front.title),
                (&fields.keywords, &keywords),
                (&fields.summary, &a.front.summary),
                (&fields.headings, &headings),
                (&fields.body, &a.text),
            ];
            let mut doc = TantivyDocument::default();
            let mut seen = HashSet::new();
            for (field, text) in texts {
                doc.add_text(field.exact, text);
                doc.add_text(field.stemmed, text);
                for w in analysis::words(text) {
                    stems.insert(w.stem);
                    if seen.insert(w.text.clone()) {
                        *doc_freq.entry(w.text).or_default() += 1;
                    }
                }
            }
            tokens.push(ArticleTokens {
                body: lexicon.tokenize(&a.text),
                summary: lexicon.tokenize(&a.front.summary),
            });
            for c in a.category_ancestors() {
                doc.add_text(fields.category, c);
            }
            doc.add_u64(fields.idx, i as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let idx_columns = searcher
            .segment_readers()
            .iter()
            .map(|s| s.fast_fields().u64("idx"))
            .collect::<Result<Vec<_>, _>>()?;
        let by_slug: HashMap<String, usize> = articles
            .iter()
            .enumerate()
            .map(|(i, a)| (a.slug.clone(), i))
            .collect();
        let words = articles.iter().map(WordSets::of).collect();
        let mut categories: BTreeMap<String, usize> = BTreeMap::new();
        for c in articles.iter().flat_map(Article::category_ancestors) {
            *categories.entry(c).or_default() += 1;
        }
        Ok(Self {
            searcher,
            fields,
            idx_columns,
            articles,
            vocabulary: Vocabulary::new(doc_freq, stems),
            synonyms: SynonymMap::new(&kb.synonyms),
            by_slug,
            categories,
            tokens,
            words,
            lexicon,
        })
    }

    /// The indexed (published) articles.
    pub fn articles(&self) -> &[Article] {
        &self.articles
    }

    /// Article counts per category, each including its subcategories.
    pub fn categories(&self) -> &BTreeMap<String, usize> {
        &self.categories
    }

    /// A published article by slug.
    pub fn article(&self, slug: &str) -> Option<&Article> {
        self.by_slug.get(slug).map(|&i| &self.articles[i])
    }

    /// An article's words, collected at index time.
    pub fn article_words(&self, slug: &str) -> Option<&WordSets> {
        self.by_slug.get(slug).map(|&i| &self.words[i])
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

    fn run(&self, plan: &QueryPlan, limit: usize, category: Option<&str>) -> (usize, Vec<Hit<'_>>) {
        let Some(matching) = plan.to_query(&self.fields) else {
            return (0, Vec::new());
        };
        let query: Box<dyn Query> = match category.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, matching),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.category, c),
                        IndexRecordOption::Basic,
                    )),
                ),
            ])),
            None => matching,
        };
        let collector = (TopDocs::with_limit(limit).order_by_score(), Count);
        let (top, total) = match self.searcher.search(query.as_ref(), &collector) {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "search failed; returning no results");
                return (0, Vec::new());
            }
        };
        let matched = self.lexicon.matching(&plan.highlights());
        let hits = top
            .into_iter()
            .filter_map(|(score, addr)| {
                let idx = self
                    .idx_columns
                    .get(addr.segment_ord as usize)?
                    .first(addr.doc_id)?;
                let article = self.articles.get(usize::try_from(idx).ok()?)?;
                let tokens = &self.tokens[usize::try_from(idx).ok()?];
                let snippet = snippet::best(&article.text, &tokens.body, &matched, &self.lexicon)
                    .or_else(|| {
                        snippet::best(
                            &article.front.summary,
                            &tokens.summary,
                            &matched,
                            &self.lexicon,
                        )
                    })
                    .unwrap_or_else(|| snippet::lead(&article.front.summary, &tokens.summary));
                Some(Hit {
                    article,
                    score,
                    snippet,
                })
            })
            .collect();
        (total, hits)
    }
}

/// The query cut to [`MAX_QUERY_CHARS`] at a character boundary.
fn clip(query: &str) -> &str {
    match query.char_indices().nth(MAX_QUERY_CHARS) {
        Some((i, _)) => &query[..i],
        None => query,
    }
}
