//! The first of two ranking stages on a large index: the best few hundred documents for a
//! weighted disjunction of terms, scored as tantivy's `BooleanQuery` of boosted
//! `TermQuery`s scores them (BM25), by accumulating each term's postings block by block into
//! one score per document, then keeping the best.
//!
//! Block-max WAND, which tantivy runs for such a query, skips documents that cannot reach
//! the top, but at every step it sorts its terms by document and compares their bounds: with
//! a dozen or more terms and a few hundred documents to keep (a low threshold), that
//! bookkeeping cost more than reading every posting. Here each posting is one decoded entry
//! and one addition into an array the size of the segment, reused between searches on a
//! thread.
//!
//! Each term is read from its champions rather than its postings ([`Champions`]): its
//! documents in the segment, each with the part of its score that depends on the document (a
//! term's score is a weight of the question times that factor), decoded and computed on the
//! term's first use and held while this version of the index is searched. A posting is then
//! one load and one multiplication; the first use of a term costs what every use did before.
//! A term in more documents than are kept keeps those where it weighs most: that bounds what
//! a first stage reads by the number of its terms, whatever the size of the help center,
//! and leaves out only documents where the frequent word weighs least. At 100,000 generated
//! articles no term is cut (a word in more than a quarter of the articles is left out of the
//! first stage anyway), so the candidates are the same as from the postings.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, PoisonError, RwLock};

use rustc_hash::FxHashMap;

use tantivy::postings::{BlockSegmentPostings, TermInfo};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader, Term};

use super::bm25::{Bm25, FieldLengths};

/// A term of the first stage: where its postings are in each segment, its document
/// frequency in the whole index and its boost.
#[derive(Debug, Clone, Copy)]
pub struct Weighted<'a> {
    pub term: &'a Term,
    pub found: &'a Found,
    pub boost: Score,
}

/// A term looked up in each segment's dictionary once, for its document frequency and then
/// its postings; by default, in no segment. Cloned cheaply.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Per segment, in the searcher's order; `None` where the segment lacks the term.
    pub infos: Arc<[Option<TermInfo>]>,
    pub doc_freq: u64,
}

impl Found {
    pub fn look_up(searcher: &Searcher, term: &Term) -> tantivy::Result<Self> {
        let mut infos = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            infos.push(reader.inverted_index(term.field())?.get_term_info(term)?);
        }
        let doc_freq = infos.iter().flatten().map(|i| u64::from(i.doc_freq)).sum();
        Ok(Self {
            infos: infos.into(),
            doc_freq,
        })
    }
}

/// How many looked-up terms a version of the index holds at most (about 150 bytes each):
/// past that, those held are dropped and looked up again as searches need them.
const HELD_TERMS: usize = 100_000;

/// Terms looked up in this version of the index (its segments do not change), held: a
/// question's words recur from search to search, and a term's lookup in the dictionary
/// (a walk down its automaton) costs several times a lookup here.
#[derive(Default)]
pub struct Lookups {
    held: RwLock<FxHashMap<Term, Found>>,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Lookups")
            .field("terms", &held.len())
            .finish()
    }
}

impl Lookups {
    /// Where the term is in each segment of `searcher` (this version's): held, or looked up
    /// now and held.
    pub fn found(&self, searcher: &Searcher, term: &Term) -> tantivy::Result<Found> {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = held.get(term) {
            return Ok(found.clone());
        }
        drop(held);
        let found = Found::look_up(searcher, term)?;
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if held.len() >= HELD_TERMS {
            held.clear();
        }
        held.insert(term.clone(), found.clone());
        Ok(found)
    }
}

/// Documents whose scores are compared at once when looking for the best.
const CHUNK: usize = 64;

thread_local! {
    /// One score per document of the segment being searched, all zero between searches.
    static SCORES: RefCell<Vec<Score>> = const { RefCell::new(Vec::new()) };
}

/// The `k` best documents for the disjunction of `terms`, best first, with their scores;
/// each term is read from its `champions` (from its postings when they keep none).
pub fn best(
    searcher: &Searcher,
    lengths: &FieldLengths,
    champions: &Champions,
    terms: &[Weighted<'_>],
    k: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let weights: Vec<Bm25> = terms
        .iter()
        .map(|t| lengths.weigh(t.term.field(), t.found.doc_freq, t.boost))
        .collect();
    let mut top = Top::new(k);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        SCORES.with_borrow_mut(|scores| -> tantivy::Result<()> {
            // All zeros between searches: each chunk is zeroed once read, below.
            if scores.len() != reader.max_doc() as usize {
                scores.clear();
                scores.resize(reader.max_doc() as usize, 0.0);
            }
            if champions.keep == 0 {
                for (t, weight) in terms.iter().zip(&weights) {
                    let Some(info) = t.found.infos.get(ord).and_then(Option::as_ref) else {
                        continue;
                    };
                    if let Err(e) = accumulate(reader, t.term.field(), info, weight, scores) {
                        // Half summed: the next search starts from a fresh array.
                        scores.clear();
                        return Err(e);
                    }
                }
            } else {
                let mut lists = Vec::with_capacity(terms.len());
                for (t, weight) in terms.iter().zip(&weights) {
                    if let Some(info) = t.found.infos.get(ord).and_then(Option::as_ref) {
                        lists.push((
                            champions.of(reader, ord, t.term.field(), info, weight)?,
                            weight,
                        ));
                    }
                }
                for (list, weight) in &lists {
                    add(list, weight.weight(), scores);
                }
            }
            // Most documents score nothing or little: whether any document of a chunk
            // scores above the threshold (a loop the compiler vectorizes) rules most chunks
            // out at once.
            for (c, chunk) in scores.chunks_mut(CHUNK).enumerate() {
                let threshold = top.threshold();
                if chunk.iter().fold(false, |any, &s| any | (s > threshold)) {
                    for (i, &score) in chunk.iter().enumerate() {
                        let doc = (c * CHUNK + i) as DocId;
                        if score > top.threshold() && !reader.is_deleted(doc) {
                            top.push(score, DocAddress::new(ord as u32, doc));
                        }
                    }
                }
                chunk.fill(0.0);
            }
            Ok(())
        })?;
    }
    Ok(top.into_sorted())
}

/// Adds a term's score, `weight` times its factor, to each document of its list. A slice and
/// a number, not the thread's vector and the term's [`Bm25`]: the compiler keeps them in
/// registers instead of loading them again after every store, which it cannot tell from them.
fn add(list: &[(DocId, Score)], weight: Score, scores: &mut [Score]) {
    for &(doc, factor) in list {
        if let Some(s) = scores.get_mut(doc as usize) {
            *s += weight * factor;
        }
    }
}

/// Adds a term's score to each document of `reader` it is in (`info`: where its postings
/// are in that segment's `field`).
fn accumulate(
    reader: &SegmentReader,
    field: Field,
    info: &TermInfo,
    weight: &Bm25,
    scores: &mut [Score],
) -> tantivy::Result<()> {
    each_posting(reader, field, info, weight, |doc, factor| {
        if let Some(s) = scores.get_mut(doc as usize) {
            *s += weight.score_of(factor);
        }
    })
}

/// Calls `f` with each document of a term's postings and its [`Bm25::factor`] there.
fn each_posting(
    reader: &SegmentReader,
    field: Field,
    info: &TermInfo,
    weight: &Bm25,
    mut f: impl FnMut(DocId, Score),
) -> tantivy::Result<()> {
    let inverted = reader.inverted_index(field)?;
    let norms = reader.get_fieldnorms_reader(field)?;
    let mut block: BlockSegmentPostings =
        inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
    // Past the last block, tantivy's block is empty.
    while !block.docs().is_empty() {
        for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
            f(doc, weight.factor(norms.fieldnorm_id(doc), freq));
        }
        block.advance();
    }
    Ok(())
}

/// How many champions' entries a version of the index holds at most (8 bytes each, so 96 MB):
/// past that, the lists held are dropped and made again as searches need them. The five
/// question sets of `examples/search_latency` (26,000 questions) at 100,000 articles need
/// 7 million.
const HELD: usize = 12_000_000;

/// Where a term's postings are: its segment, its field and where its postings start.
type ListKey = (usize, u32, usize);

/// A term's champions in a segment: documents in order, each with the term's factor there.
type List = Arc<[(DocId, Score)]>;

/// The lists held, and how many entries they hold in all.
#[derive(Default)]
struct Held {
    entries: usize,
    lists: FxHashMap<ListKey, List>,
}

/// Terms' champions, per segment: the `keep` documents where each weighs most (all of them,
/// for a term in fewer), in document order, with their [`Bm25::factor`]s; made on a term's
/// first use in a segment and held for this version of the index (its segments, and the
/// field lengths the factors come from, do not change), up to [`HELD`] entries in all.
pub struct Champions {
    keep: usize,
    held: RwLock<Held>,
}

impl std::fmt::Debug for Champions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Champions")
            .field("keep", &self.keep)
            .field("terms", &held.lists.len())
            .field("entries", &held.entries)
            .finish()
    }
}

impl Champions {
    /// Champions of `keep` documents per term (0: every posting is read).
    pub fn new(keep: usize) -> Self {
        Self {
            keep,
            held: RwLock::default(),
        }
    }

    /// The term's champions in the segment `ord` (`reader`): held, or made now and held.
    fn of(
        &self,
        reader: &SegmentReader,
        ord: usize,
        field: Field,
        info: &TermInfo,
        weight: &Bm25,
    ) -> tantivy::Result<List> {
        let key = (ord, field.field_id(), info.postings_range.start);
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = held.lists.get(&key) {
            return Ok(Arc::clone(list));
        }
        drop(held);
        let mut all: Vec<(DocId, Score)> = Vec::with_capacity(info.doc_freq as usize);
        each_posting(reader, field, info, weight, |doc, factor| {
            all.push((doc, factor));
        })?;
        // The heaviest first, and of equal weights the first documents: the same list
        // whoever makes it.
        // The `keep`-th heaviest is found in a copy, and the list, in document order already,
        // keeps what is not lighter: no sort back into document order.
        let heavier =
            |a: &(DocId, Score), b: &(DocId, Score)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if self.keep > 0 && all.len() > self.keep {
            let mut order = all.clone();
            let (_, &mut last, _) = order.select_nth_unstable_by(self.keep - 1, heavier);
            all.retain(|a| heavier(a, &last) != Ordering::Greater);
        }
        let list: List = all.into();
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if held.entries + list.len() > HELD {
            *held = Held::default();
        }
        held.entries += list.len();
        if let Some(other) = held.lists.insert(key, Arc::clone(&list)) {
            // Made by another search at the same time: the same list.
            held.entries -= other.len();
        }
        Ok(list)
    }
}

/// A scored document, ordered worst first (lower score, then later document) for the heap.
#[derive(Debug, Clone, Copy)]
struct Scored(Score, DocAddress);

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap's top is the worst kept document.
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// The best `k` documents seen so far.
struct Top {
    k: usize,
    heap: BinaryHeap<Scored>,
}

impl Top {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// What a document must score above to be kept (below any score until `k` are kept).
    fn threshold(&self) -> Score {
        if self.heap.len() < self.k {
            0.0
        } else {
            self.heap.peek().map_or(0.0, |s| s.0)
        }
    }

    fn push(&mut self, score: Score, addr: DocAddress) {
        self.heap.push(Scored(score, addr));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    /// Best first; equal scores in document order.
    fn into_sorted(self) -> Vec<(Score, DocAddress)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Scored(s, a)| (s, a))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::postings::Postings;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{DocSet, Index, IndexWriter, TantivyDocument};

    use super::*;

    /// Two segments of made-up texts, some documents deleted, and the terms to look for.
    fn index() -> (Index, Field) {
        let mut sb = Schema::builder();
        let text = sb.add_text_field("text", TEXT);
        let index = Index::create_in_ram(sb.build());
        let mut writer: IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let words = [
            "card", "pin", "transfer", "fee", "atm", "cash", "blocked", "app",
        ];
        for segment in 0..2 {
            for i in 0..400usize {
                let mut doc = TantivyDocument::default();
                let body: Vec<&str> = (0..(3 + i % 11))
                    .map(|j| words[(i * 7 + j * (j + segment + 1)) % words.len()])
                    .collect();
                doc.add_text(text, body.join(" "));
                writer.add_document(doc).expect("add");
            }
            writer.commit().expect("commit");
        }
        writer.delete_term(Term::from_field_text(text, "blocked"));
        writer.commit().expect("commit");
        (index, text)
    }

    /// Each word as a term of `field` with its boost, looked up in every segment.
    fn looked_up(
        searcher: &Searcher,
        field: Field,
        words: &[(&str, Score)],
    ) -> Vec<(Term, Score, Found)> {
        words
            .iter()
            .map(|&(w, boost)| {
                let term = Term::from_field_text(field, w);
                let found = Found::look_up(searcher, &term).expect("look up");
                (term, boost, found)
            })
            .collect()
    }

    fn weighted(terms: &[(Term, Score, Found)]) -> Vec<Weighted<'_>> {
        terms
            .iter()
            .map(|(term, boost, found)| Weighted {
                term,
                found,
                boost: *boost,
            })
            .collect()
    }

    #[test]
    fn the_best_documents_and_scores_are_those_of_tantivys_boolean_query() {
        let (index, field) = index();
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let terms = looked_up(
            &searcher,
            field,
            &[("card", 3.0), ("fee", 1.0), ("atm", 0.6), ("zzz", 1.0)],
        );
        let weighted = weighted(&terms);
        let query = BooleanQuery::new(
            terms
                .iter()
                .map(|(t, b, _)| {
                    let q: Box<dyn Query> = Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
                        *b,
                    ));
                    (Occur::Should, q)
                })
                .collect(),
        );
        let lengths = FieldLengths::of(&searcher, [field]).expect("lengths");
        // From the postings, and from champions that keep every document.
        for (k, champions) in [1, 10, 50, 2_000]
            .into_iter()
            .flat_map(|k| [(k, Champions::new(0)), (k, Champions::new(100_000))])
        {
            let ours = best(&searcher, &lengths, &champions, &weighted, k).expect("first stage");
            let theirs = searcher
                .search(&query, &TopDocs::with_limit(k).order_by_score())
                .expect("search");
            assert_eq!(ours.len(), theirs.len(), "k = {k}");
            for ((a, _), (b, _)) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
            }
            // The same documents, whatever the order of equal scores.
            let mut ours: Vec<DocAddress> = ours.into_iter().map(|(_, a)| a).collect();
            let mut theirs: Vec<DocAddress> = theirs.into_iter().map(|(_, a)| a).collect();
            if k == 2_000 {
                ours.sort();
                theirs.sort();
                assert_eq!(ours, theirs);
                assert!(ours.len() > 300, "{} documents match", ours.len());
            }
            for addr in &ours {
                let reader = searcher.segment_reader(addr.segment_ord);
                assert!(
                    !reader.is_deleted(addr.doc_id),
                    "a deleted document is kept"
                );
            }
        }
    }

    /// With champions, a frequent term counts only in the documents of each segment where it
    /// weighs most (of equal weights, the first), and the result is the same whether its list
    /// is made by this search or held from an earlier one.
    #[test]
    fn a_frequent_term_counts_in_its_champions_only() {
        let (index, field) = index();
        let searcher = index.reader().expect("reader").searcher();
        let lengths = FieldLengths::of(&searcher, [field]).expect("lengths");
        let terms = looked_up(
            &searcher,
            field,
            &[("card", 3.0), ("fee", 1.0), ("atm", 0.6), ("pin", 1.5)],
        );
        let weighted = weighted(&terms);
        let keep = 40;
        // By hand: every posting's factor, the `keep` heaviest of each term and segment.
        let mut expected: FxHashMap<DocAddress, Score> = FxHashMap::default();
        let (mut truncated, mut entries) = (0, 0);
        for t in &weighted {
            let weight = lengths.weigh(field, t.found.doc_freq, t.boost);
            for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                let norms = reader.get_fieldnorms_reader(field).expect("norms");
                let mut postings = reader
                    .inverted_index(field)
                    .expect("inverted")
                    .read_postings(t.term, IndexRecordOption::WithFreqs)
                    .expect("read")
                    .expect("in every segment");
                let mut all = Vec::new();
                while postings.doc() != tantivy::TERMINATED {
                    let doc = postings.doc();
                    all.push((
                        doc,
                        weight.factor(norms.fieldnorm_id(doc), postings.term_freq()),
                    ));
                    postings.advance();
                }
                entries += all.len().min(keep);
                if all.len() > keep {
                    truncated += 1;
                    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    all.truncate(keep);
                }
                for (doc, factor) in all {
                    if !reader.is_deleted(doc) {
                        *expected
                            .entry(DocAddress::new(ord as u32, doc))
                            .or_default() += weight.score_of(factor);
                    }
                }
            }
        }
        assert!(
            truncated >= 6,
            "{truncated} lists cut: the test would not test"
        );
        let mut expected: Vec<(Score, DocAddress)> =
            expected.into_iter().map(|(a, s)| (s, a)).collect();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let champions = Champions::new(keep);
        let all_postings =
            best(&searcher, &lengths, &Champions::new(0), &weighted, 2_000).expect("first stage");
        for round in ["made", "held"] {
            let ours =
                best(&searcher, &lengths, &champions, &weighted, 2_000).expect("first stage");
            assert_eq!(ours.len(), expected.len(), "{round}");
            for ((a, x), (b, y)) in ours.iter().zip(&expected) {
                assert_eq!(x, y, "{round}");
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "{round}: {a} vs {b}"
                );
            }
            assert!(ours.len() < all_postings.len(), "nothing was left out");
        }
        // Each term's list in each segment, held once.
        assert_eq!(
            format!("{champions:?}"),
            format!("Champions {{ keep: 40, terms: 8, entries: {entries} }}")
        );
    }
}
