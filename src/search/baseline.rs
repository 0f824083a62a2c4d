//! The baseline the engine must beat: a plain tantivy BM25 query parser over the same
//! published articles, default tokenizer, no synonyms, typos, stemming or boosts.

use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{FAST, Field, Schema, TEXT, Value};
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument};

use super::SearchError;
use crate::content::{Article, KnowledgeBase};

/// A plain BM25 index over title, summary, keywords and body.
pub struct BaselineEngine {
    searcher: Searcher,
    parser: QueryParser,
    idx: Field,
    articles: Vec<Article>,
}

impl BaselineEngine {
    pub fn build(kb: &KnowledgeBase) -> Result<Self, SearchError> {
        let mut sb = Schema::builder();
        let title = sb.add_text_field("title", TEXT);
        let summary = sb.add_text_field("summary", TEXT);
        let keywords = sb.add_text_field("keywords", TEXT);
        let body = sb.add_text_field("body", TEXT);
        let idx = sb.add_u64_field("idx", FAST | tantivy::schema::STORED);
        let index = Index::create_in_ram(sb.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 30_000_000)?;
        let articles: Vec<Article> = kb.published().cloned().collect();
        for (i, a) in articles.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(title, &a.front.title);
            doc.add_text(summary, &a.front.summary);
            doc.add_text(keywords, a.front.keywords.join(", "));
            doc.add_text(body, a.text.as_deref().unwrap_or_default());
            doc.add_u64(idx, i as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let parser = QueryParser::for_index(&index, vec![title, summary, keywords, body]);
        Ok(Self {
            searcher,
            parser,
            idx,
            articles,
        })
    }

    /// Top `limit` articles for a query; the lenient parser never fails on user text.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Article> {
        let (q, _errors) = self.parser.parse_query_lenient(query);
        let Ok(top) = self
            .searcher
            .search(&q, &TopDocs::with_limit(limit.max(1)).order_by_score())
        else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(_, addr)| {
                let doc: TantivyDocument = self.searcher.doc(addr).ok()?;
                let i = doc.get_first(self.idx)?.as_u64()?;
                self.articles.get(usize::try_from(i).ok()?)
            })
            .collect()
    }
}
