//! Running a planned query: which articles, in what order, with which snippets.
//!
//! When the query's words are rare, the full query (every word's alternatives in every field,
//! the phrase bonus) scores every article it matches and the total is exact. When they are
//! common — a long question on a large help center — ranking goes in two stages: a pure
//! disjunction of the words' stems, summed up posting by posting ([`first_stage`]), keeps
//! [`CANDIDATES`] articles, then the full query scores only those.
//! The total is then estimated from the words' document frequencies. Snippets are made for
//! the results returned only.

use rustc_hash::FxHashMap as HashMap;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Score, Term};

use super::first_stage::{self, Found, Weighted};
use super::index::short_texts;
use super::query::{CandidateTerm, StopWords};
use super::tree::{Evaluator, Node, ShortFields, ShortWordIds};
use super::{Hit, NO_ARTICLE, QueryPlan, SearchEngine, snippet};
use crate::content::Article;

/// Up to this many postings (summed over the first stage's terms and the stop words'), the
/// full query scores every match: exact totals, and no ranking difference at all on small
/// help centers.
pub const EXHAUSTIVE_POSTINGS: u64 = 20_000;
/// How many articles the first stage keeps for the full query to rank. With the keywords
/// and summary in the first stage, 32 keep more of the full query's best than 64 did without
/// them (100,000 generated articles, `examples/search_latency`: top-1 / top-3 66.2 / 70.8 %
/// → 66.2 / 72.2 %), and the second stage, whose work grows with the candidates, halves.
pub const CANDIDATES: usize = 32;
/// A term in more of the articles than this share is left out of the first stage.
pub const COMMON_SHARE: f64 = 0.25;
/// The first stage looks for at most this many terms, those that weigh most (boost times
/// the inverse document frequency of their word in the whole text; terms in no article never
/// count). The first stage's work grows with its terms' postings, and a 40-word question has
/// up to 140 terms. At 100,000 generated articles (`examples/search_latency`), 24 kept the
/// p99 under 5 ms for every kind of query (long questions: 9.2 → 4.7 ms) when the first
/// stage read the title and all text only. With the keywords and summary too, 32 terms give
/// top-1 / top-3 67.5 / 73.6 % against 24's 66.2 / 72.2 %, for 8–12 % more on every kind's
/// median (exact 0.54 → 0.60 ms, long 0.83 → 0.92 ms).
pub const FIRST_STAGE_TERMS: usize = 24;

/// A term in more articles of a segment than this is read in the first stage from the
/// articles where it weighs most, this many (see [`first_stage::Champions`]). At 100,000
/// generated articles (`examples/search_latency`, 2026-12-07), 12,000 ranks as 25,000 did
/// (top-1 / top-3 66.2 / 72.3 % both; 8,000: 65.9 / 72.0 %, 5,000: 65.4 / 71.3 %) and a
/// search's first stage executes 9 % fewer instructions (exact and 40-word questions,
/// callgrind); 25,000 cut no term there. Sample-sized help centers have no term this common.
pub const CHAMPIONS: usize = 12_000;

/// Up to this many articles, a question's stop words add their bonus in the body too. Past
/// it, in the title and summary only. A stop word is in nearly every article's body, so
/// there it is the costliest word to read, and on a larger help center it does not help
/// ranking (`examples/search_latency`, generated articles, top-1 / top-3 with the body →
/// without: 10,000 articles 67.3 / 76.5 → 67.5 / 76.6 %; 100,000: 66.2 / 72.2 → 66.2 /
/// 72.3 %). On the sample help center (108 articles) leaving it out is a wash (`deflect
/// eval`: top-1 76.8 %, top-3 90.6 → 90.7 %, MRR 0.843 → 0.842), so small ones keep it.
pub const STOP_WORDS_IN_BODY: usize = 1_000;

/// When and how a search ranks in two stages; the defaults are the constants above.
#[derive(Debug, Clone, Copy)]
pub struct Stages {
    /// Above this many postings a search ranks in two stages (0: always).
    pub from_postings: u64,
    /// How many articles the first stage keeps.
    pub candidates: usize,
    /// A word in more than this share of the articles is left out of the first stage.
    pub common_share: f64,
    /// At most this many terms in the first stage.
    pub first_stage_terms: usize,
    /// A term's champions in the first stage: how many articles (0: all its postings).
    pub champions: usize,
    /// Up to this many articles, stop words add their bonus in the body too.
    pub stop_words_in_body: usize,
}

impl Default for Stages {
    fn default() -> Self {
        Self {
            from_postings: EXHAUSTIVE_POSTINGS,
            candidates: CANDIDATES,
            common_share: COMMON_SHARE,
            first_stage_terms: FIRST_STAGE_TERMS,
            champions: CHAMPIONS,
            stop_words_in_body: STOP_WORDS_IN_BODY,
        }
    }
}

impl SearchEngine {
    /// The top `limit` articles for a plan, and how many articles match in all.
    pub(super) fn run(
        &self,
        plan: &QueryPlan,
        limit: usize,
        category: Option<&str>,
    ) -> (usize, Vec<Hit<'_>>) {
        let filter = category
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| Term::from_field_text(self.fields.category, c));
        let terms = self.candidate_terms(plan);
        let Some(tree) = plan.tree(&self.fields, self.stop_words()) else {
            return (0, Vec::new());
        };
        let found = if self.in_two_stages(plan, &terms) {
            self.two_stage(&terms, plan, &tree, filter.as_ref(), limit)
        } else {
            self.exhaustive(filtered(tree.to_query(), filter.as_ref()).as_ref(), limit)
        };
        let (total, top) = match found {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "search failed; returning no results");
                return (0, Vec::new());
            }
        };
        (total, self.hits(plan, top))
    }

    /// Where stop words add their bonus on this help center.
    fn stop_words(&self) -> StopWords {
        if self.searcher.num_docs() as usize > self.stages.stop_words_in_body {
            StopWords::NotInBody
        } else {
            StopWords::WithBody
        }
    }

    /// Whether a query ranks in two stages: when its words, stop words included, have more
    /// than [`Stages::from_postings`] postings in all.
    pub fn ranks_in_two_stages(&self, query: &str) -> bool {
        let plan = self.plan(query);
        self.in_two_stages(&plan, &self.candidate_terms(&plan))
    }

    fn candidate_terms(&self, plan: &QueryPlan) -> Vec<(CandidateTerm, Found)> {
        plan.candidate_terms(&self.fields)
            .into_iter()
            .map(|t| {
                let found = self
                    .lookups
                    .found(&self.searcher, &t.term)
                    .unwrap_or_default();
                (t, found)
            })
            .collect()
    }

    fn in_two_stages(&self, plan: &QueryPlan, terms: &[(CandidateTerm, Found)]) -> bool {
        // The stop words' postings count too: tantivy's full query seeks through them on
        // every match, and a common word such as "the" is in nearly every article ("what is
        // the reas", typed at 100,000 articles: 5 ms exhaustively, under 1.2 ms in two stages).
        let bonus: u64 = plan
            .bonus_words()
            .filter_map(|w| self.vocabulary.doc_freq(w))
            .map(u64::from)
            .sum();
        let postings: u64 = terms.iter().map(|(_, f)| f.doc_freq).sum::<u64>() + bonus;
        postings > self.stages.from_postings && !terms.is_empty()
    }

    fn exhaustive(
        &self,
        query: &dyn Query,
        limit: usize,
    ) -> tantivy::Result<(usize, Vec<(Score, DocAddress)>)> {
        let collector = (TopDocs::with_limit(limit).order_by_score(), Count);
        let (top, total) = self.searcher.search(query, &collector)?;
        Ok((total, top))
    }

    fn two_stage(
        &self,
        terms: &[(CandidateTerm, Found)],
        plan: &QueryPlan,
        tree: &Node,
        filter: Option<&Term>,
        limit: usize,
    ) -> tantivy::Result<(usize, Vec<(Score, DocAddress)>)> {
        let chosen = self.first_stage_terms(terms);
        let keep = self.stages.candidates.max(limit);
        let mut candidates: Vec<DocAddress> = match filter {
            // Without a category, the postings summed up (see [`first_stage`]).
            None => {
                let weighted: Vec<Weighted<'_>> = chosen
                    .iter()
                    .map(|(t, found)| Weighted {
                        term: &t.term,
                        found,
                        boost: t.boost,
                    })
                    .collect();
                first_stage::best(
                    &self.searcher,
                    &self.lengths,
                    &self.champions,
                    &weighted,
                    keep,
                )?
            }
            // Within a category, tantivy's block-max WAND under the category's filter.
            Some(_) => {
                let clauses: Vec<(Occur, Box<dyn Query>)> = chosen
                    .iter()
                    .map(|(t, _)| {
                        let q: Box<dyn Query> = Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(t.term.clone(), IndexRecordOption::WithFreqs)),
                            t.boost,
                        ));
                        (Occur::Should, q)
                    })
                    .collect();
                let first = filtered(Box::new(BooleanQuery::new(clauses)), filter);
                let collector = TopDocs::with_limit(keep).order_by_score();
                self.searcher.search(first.as_ref(), &collector)?
            }
        }
        .into_iter()
        .map(|(_, addr)| addr)
        .collect();
        candidates.sort_unstable();
        // The full query on the candidates only, segment by segment.
        let gates = plan.gates(&self.fields);
        let [title, keywords, summary, headings, _] = self.fields.text_fields();
        let short = ShortFields {
            fields: [title, keywords, summary, headings],
            lexicon: &self.lexicon,
        };
        let look_up = |term: &Term| self.lookups.found(&self.searcher, term);
        let evaluator = Evaluator::new(tree, &look_up, &self.lengths, &gates, Some(short))?;
        let mut scored: Vec<(Score, DocAddress)> = Vec::with_capacity(candidates.len());
        for segment in candidates.chunk_by(|a, b| a.segment_ord == b.segment_ord) {
            let ord = segment[0].segment_ord;
            let docs: Vec<DocId> = segment.iter().map(|a| a.doc_id).collect();
            let words = |doc: DocId| self.short_word_ids(DocAddress::new(ord, doc));
            for (doc, score) in evaluator.score(&self.searcher, ord as usize, &docs, &words)? {
                scored.push((score, DocAddress::new(ord, doc)));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(limit);
        Ok((self.estimate_total(terms).max(scored.len()), scored))
    }

    /// The terms the first stage looks for. A word in more than [`COMMON_SHARE`] of the
    /// articles weighs almost nothing in BM25 (its inverse document frequency is near zero)
    /// but costs a pass over most of the index, so it is left to the second stage; so are the
    /// lightest terms past [`FIRST_STAGE_TERMS`]. How rare a word is, for both, is its
    /// stem's share of the articles' whole text: in a short field such as the keywords most
    /// words are rare, which says nothing of their weight. When every word is that common,
    /// the first stage looks in the titles only.
    fn first_stage_terms<'t>(
        &self,
        terms: &'t [(CandidateTerm, Found)],
    ) -> Vec<&'t (CandidateTerm, Found)> {
        let n = self.searcher.num_docs().max(1) as f64;
        let whole: HashMap<&[u8], u64> = terms
            .iter()
            .filter(|(t, _)| t.term.field() == self.fields.all)
            .map(|(t, f)| (t.term.serialized_value_bytes(), f.doc_freq))
            .collect();
        let word_freq = |(t, f): &(CandidateTerm, Found)| -> f64 {
            let df = whole.get(t.term.serialized_value_bytes());
            df.copied().unwrap_or(f.doc_freq) as f64
        };
        let mut rare: Vec<(f64, &(CandidateTerm, Found))> = terms
            .iter()
            .filter(|(_, f)| f.doc_freq > 0 && (f.doc_freq as f64) / n <= self.stages.common_share)
            .map(|c| (f64::from(c.0.boost) * idf(word_freq(c), n), c))
            .collect();
        if !rare.is_empty() {
            if rare.len() > self.stages.first_stage_terms {
                rare.sort_by(|a, b| b.0.total_cmp(&a.0));
                rare.truncate(self.stages.first_stage_terms);
            }
            return rare.into_iter().map(|(_, t)| t).collect();
        }
        let strong = [self.fields.title.stemmed];
        terms
            .iter()
            .filter(|(t, _)| strong.contains(&t.term.field()))
            .collect()
    }

    /// How many articles contain at least one of the query's words, were the words
    /// independent: each word's share is that of its most frequent alternative.
    fn estimate_total(&self, terms: &[(CandidateTerm, Found)]) -> usize {
        let n = self.searcher.num_docs().max(1) as f64;
        let mut share: HashMap<usize, f64> = HashMap::default();
        for (t, found) in terms {
            let s = share.entry(t.word).or_default();
            *s = s.max((found.doc_freq as f64 / n).min(1.0));
        }
        let none = share.values().fold(1.0, |acc, s| acc * (1.0 - s));
        ((1.0 - none) * n).round() as usize
    }

    /// Which article a document is, if it is one of this version's.
    fn article_index(&self, addr: DocAddress) -> Option<usize> {
        let i = *self
            .article_of
            .get(addr.segment_ord as usize)?
            .get(addr.doc_id as usize)?;
        (i != NO_ARTICLE).then_some(i as usize)
    }

    /// The article a document is, if it is one of this version's.
    fn article_at(&self, addr: DocAddress) -> Option<&Article> {
        self.articles
            .get(self.article_index(addr)?)
            .map(AsRef::as_ref)
    }

    /// The word ids of a document's short fields: made from its article's on first use and
    /// held for this version of the index.
    fn short_word_ids(&self, addr: DocAddress) -> Option<&ShortWordIds> {
        let i = self.article_index(addr)?;
        let (article, held) = (self.articles.get(i)?, self.short_words.get(i)?);
        Some(held.get_or_init(|| ShortWordIds::new(&self.lexicon, &short_texts(article))))
    }

    /// The articles behind ranked documents, with their snippets.
    fn hits(&self, plan: &QueryPlan, top: Vec<(Score, DocAddress)>) -> Vec<Hit<'_>> {
        let matched = self.lexicon.matching(&plan.highlights());
        top.into_iter()
            .filter_map(|(score, addr)| {
                let article = self.article_at(addr)?;
                let text = self.stored_text(addr).unwrap_or_default();
                let body = self.lexicon.tokenize(&text, &matched);
                let summary = &article.front.summary;
                let snippet = snippet::best(&text, &body, &self.lexicon).unwrap_or_else(|| {
                    // The summary, tokenized once: its best window, or else its opening words.
                    let tokens = self.lexicon.tokenize(summary, &matched);
                    snippet::best(summary, &tokens, &self.lexicon)
                        .unwrap_or_else(|| snippet::lead(summary, &tokens))
                });
                Some(Hit {
                    article,
                    score,
                    snippet,
                })
            })
            .collect()
    }
}

/// BM25's inverse document frequency of a term in `df` of `n` documents.
fn idf(df: f64, n: f64) -> f64 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The query limited to a category and its subcategories, when one is given.
fn filtered(query: Box<dyn Query>, category: Option<&Term>) -> Box<dyn Query> {
    match category {
        Some(c) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, query),
            (
                Occur::Must,
                Box::new(TermQuery::new(c.clone(), IndexRecordOption::Basic)),
            ),
        ])),
        None => query,
    }
}
