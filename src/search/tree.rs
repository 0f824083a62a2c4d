//! A planned query as a tree of scoring rules, turned into a tantivy query to scan the index,
//! or evaluated directly on a few documents (the second of two ranking stages).
//!
//! Evaluating it directly is what makes the second stage cheap: tantivy's composite scorers,
//! asked to seek to a far document, refill unions window by window and walk phrase matches
//! forward to the next one; here each leaf (a term or a phrase) only checks the document it
//! is asked about, and the tree, flattened into a [`Program`], adds up the leaves as tantivy's
//! scorers would. A term is looked up once per query and segment and read once per document
//! however many leaves hold it, a term the index lacks opens nothing, and a phrase is only
//! checked where its words matched.

use rustc_hash::FxHashMap as HashMap;

use tantivy::postings::Postings;
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, BoostQuery, DisjunctionMaxQuery, EnableScoring, Occur,
    PhraseQuery, Query, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SeekDangerResult, SegmentReader, TERMINATED, Term};

use super::bm25::{Bm25, FieldLengths};
use super::first_stage::Found;

mod program;
mod short;
use program::Program;
use short::ShortWords;
pub use short::{ShortFields, ShortWordIds};

/// How a part of the query scores a document.
#[derive(Debug, Clone)]
pub enum Node {
    /// A word in a field (BM25 with term frequencies).
    Term(Term),
    /// Words at these offsets, up to `slop` positions apart.
    Phrase {
        terms: Vec<(usize, Term)>,
        slop: u32,
    },
    /// The score times a factor.
    Boost(Box<Node>, f32),
    /// The best matching child, plus `tie` times the others.
    Max(Vec<Node>, f32),
    /// The sum of the matching children; matches when any does.
    Sum(Vec<Node>),
    /// Matches when `must` does; scores it plus the matching `bonus` children.
    Required { must: Box<Node>, bonus: Vec<Node> },
}

impl Node {
    /// The node scaled by `b` (itself when `b` is 1).
    pub fn boosted(self, b: f32) -> Node {
        if (b - 1.0).abs() < f32::EPSILON {
            self
        } else {
            Node::Boost(Box::new(self), b)
        }
    }

    /// The tantivy query scoring the same, for scanning every matching document.
    pub fn to_query(&self) -> Box<dyn Query> {
        match self {
            Node::Term(t) => Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
            Node::Phrase { terms, .. } if terms.len() == 1 => Box::new(TermQuery::new(
                terms[0].1.clone(),
                IndexRecordOption::WithFreqs,
            )),
            Node::Phrase { terms, slop } => {
                Box::new(PhraseQuery::new_with_offset_and_slop(terms.clone(), *slop))
            }
            Node::Boost(inner, b) => Box::new(BoostQuery::new(inner.to_query(), *b)),
            Node::Max(children, tie) => Box::new(DisjunctionMaxQuery::with_tie_breaker(
                children.iter().map(Node::to_query).collect(),
                *tie,
            )),
            Node::Sum(children) => Box::new(BooleanQuery::new(
                children
                    .iter()
                    .map(|c| (Occur::Should, c.to_query()))
                    .collect(),
            )),
            Node::Required { must, bonus } => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = bonus
                    .iter()
                    .map(|c| (Occur::Should, c.to_query()))
                    .collect();
                clauses.push((Occur::Must, must.to_query()));
                Box::new(BooleanQuery::new(clauses))
            }
        }
    }

    fn leaves<'a>(&'a self, out: &mut Vec<&'a Node>) {
        match self {
            Node::Term(_) | Node::Phrase { .. } => out.push(self),
            Node::Boost(inner, _) => inner.leaves(out),
            Node::Max(children, _) | Node::Sum(children) => {
                children.iter().for_each(|c| c.leaves(out));
            }
            Node::Required { must, bonus } => {
                must.leaves(out);
                bonus.iter().for_each(|c| c.leaves(out));
            }
        }
    }
}

/// A leaf's score where it does not match: NaN, which no score is.
const MISS: Score = Score::NAN;

/// Whether a leaf matched (its score is not [`MISS`]).
#[inline]
fn hit(score: Score) -> bool {
    !score.is_nan()
}

/// Scores chosen documents, segment by segment, by a tree: the second of two ranking stages.
///
/// Each distinct term is looked up once per segment, and its BM25 weight comes from that
/// lookup; a term in several leaves (two words with one stem, a typo of one word that is
/// another word) is read once per document and its score shared. A term the index does not
/// have never matches and opens nothing. A phrase is only checked on a document where each
/// of its words already matched as a term of the tree.
pub struct Evaluator<'l> {
    program: Program,
    leaves: Vec<Leaf>,
    stats: Statistics<'l>,
    /// The term leaves in short fields, counted in the candidates' words.
    short: Option<ShortWords<'l>>,
}

/// What a leaf of the tree needs to score documents.
enum Leaf {
    /// A word the index does not have, or a phrase with one: never matches.
    Never,
    /// A word, `stats.terms[term]`, with its BM25 weight; it can only match where the
    /// `gate` leaf does (a word's stem, in the stemmed field of the word's exact field).
    Term {
        term: usize,
        weight: Bm25,
        gate: Option<usize>,
    },
    /// The same word (and weight) as this earlier term leaf: its score, read once.
    Same(usize),
    /// A phrase, which matches on a document only where the term leaves `needs` do.
    Phrase {
        needs: Vec<usize>,
        /// Its terms (`stats.terms`), each with its offset.
        terms: Vec<(usize, usize)>,
        slop: u32,
    },
}

/// A distinct term of the tree: where it is in each segment.
struct TermStats<'l> {
    term: &'l Term,
    found: Found,
}

/// The tree's distinct terms and their BM25 statistics, looked up once: what the term leaves
/// and the phrases' weights use.
struct Statistics<'l> {
    lengths: &'l FieldLengths,
    terms: Vec<TermStats<'l>>,
    index_of: HashMap<&'l Term, usize>,
}

impl Bm25StatisticsProvider for Statistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        Ok(self.lengths.total_tokens(field))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.lengths.total_docs())
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self
            .index_of
            .get(term)
            .map_or(0, |&i| self.terms[i].found.doc_freq))
    }
}

impl<'l> Evaluator<'l> {
    /// `gates` pairs terms of the tree: the first can only match a document where the second
    /// does (see [`crate::search::QueryPlan::gates`]). `look_up` finds a term in the
    /// index's dictionaries (the engine's held lookups, which have the first stage's).
    pub fn new(
        tree: &'l Node,
        look_up: &dyn Fn(&Term) -> tantivy::Result<Found>,
        lengths: &'l FieldLengths,
        gates: &[(Term, Term)],
        short: Option<ShortFields<'l>>,
    ) -> tantivy::Result<Self> {
        let mut nodes = Vec::new();
        tree.leaves(&mut nodes);
        let mut terms: Vec<TermStats> = Vec::new();
        let mut index_of: HashMap<&Term, usize> = HashMap::default();
        let mut term_index = |term: &'l Term| -> tantivy::Result<usize> {
            let next = terms.len();
            match index_of.entry(term) {
                std::collections::hash_map::Entry::Occupied(e) => Ok(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    terms.push(TermStats {
                        term,
                        found: look_up(term)?,
                    });
                    e.insert(next);
                    Ok(next)
                }
            }
        };
        // Each leaf's terms, looked up once.
        let mut leaf_terms: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
        for node in &nodes {
            leaf_terms.push(match node {
                Node::Term(t) => vec![term_index(t)?],
                Node::Phrase { terms, .. } => terms
                    .iter()
                    .map(|(_, t)| term_index(t))
                    .collect::<tantivy::Result<_>>()?,
                _ => Vec::new(),
            });
        }
        let stats = Statistics {
            lengths,
            terms,
            index_of,
        };
        // The leaf scoring a term alone, for each term: what gates the phrases.
        let mut alone: Vec<Option<usize>> = vec![None; stats.terms.len()];
        for (i, node) in nodes.iter().enumerate() {
            if let (Node::Term(_), [t]) = (node, leaf_terms[i].as_slice()) {
                alone[*t].get_or_insert(i);
            }
        }
        // The first term leaf of each term: later leaves of the same term share its score.
        let mut first: Vec<Option<usize>> = vec![None; stats.terms.len()];
        let mut leaves: Vec<Leaf> = nodes
            .iter()
            .zip(&leaf_terms)
            .enumerate()
            .map(|(i, (node, ts))| {
                if ts.is_empty() || ts.iter().any(|&t| stats.terms[t].found.doc_freq == 0) {
                    return Leaf::Never;
                }
                match node {
                    Node::Phrase { terms: pt, slop } if pt.len() > 1 => {
                        let needs = ts
                            .iter()
                            .map(|&t| alone[t])
                            .collect::<Option<Vec<usize>>>()
                            .unwrap_or_default();
                        Leaf::Phrase {
                            needs,
                            terms: pt
                                .iter()
                                .map(|(at, _)| *at)
                                .zip(ts.iter().copied())
                                .collect(),
                            slop: *slop,
                        }
                    }
                    // A term, or a phrase of one word (scored as that word).
                    _ => {
                        if let Some(leaf) = first[ts[0]] {
                            return Leaf::Same(leaf);
                        }
                        first[ts[0]] = Some(i);
                        let t = &stats.terms[ts[0]];
                        Leaf::Term {
                            term: ts[0],
                            weight: lengths.weigh(t.term.field(), t.found.doc_freq, 1.0),
                            gate: None,
                        }
                    }
                }
            })
            .collect();
        set_gates(&mut leaves, &stats, gates);
        let short = short.and_then(|s| ShortWords::of(s, &leaves, &stats));
        Ok(Self {
            program: Program::of(tree, nodes.len()),
            leaves,
            stats,
            short,
        })
    }

    /// The score of each of `docs` (sorted, increasing, of the segment `ord` of `searcher`)
    /// that the tree matches.
    ///
    /// Leaf by leaf: each term's postings are opened once and walked forward over all the
    /// documents while their decoded block is hot, then each phrase where its words matched,
    /// then the tree on each document's row of leaf scores.
    pub fn score<'t>(
        &self,
        searcher: &Searcher,
        ord: usize,
        docs: &[DocId],
        words: &dyn Fn(DocId) -> Option<&'t ShortWordIds>,
    ) -> tantivy::Result<Vec<(DocId, Score)>> {
        let reader = searcher.segment_reader(ord as u32);
        let width = self.leaves.len();
        // Row `d` holds every leaf's score on `docs[d]`.
        let mut scores: Vec<Score> = vec![MISS; width * docs.len()];
        // The short fields' words counted in the texts, where the documents have them.
        let counted = match &self.short {
            Some(short) => self.count_short(short, reader, ord, docs, words, &mut scores)?,
            None => vec![false; docs.len()],
        };
        // The ungated terms first: the gated ones skip the documents their gate missed.
        for gated in [false, true] {
            for (i, leaf) in self.leaves.iter().enumerate() {
                if let Leaf::Term { gate, .. } = leaf
                    && gate.is_some() == gated
                {
                    let skip: &[bool] = match &self.short {
                        Some(short) if short.counted[i] => &counted,
                        _ => &[],
                    };
                    self.read_term(reader, ord, i, docs, skip, &mut scores)?;
                }
            }
        }
        // The same term as an earlier leaf: its scores, read once.
        for (i, leaf) in self.leaves.iter().enumerate() {
            if let Leaf::Same(first) = leaf {
                for row in scores.chunks_exact_mut(width) {
                    row[i] = row[*first];
                }
            }
        }
        let scoring = EnableScoring::enabled_from_statistics_provider(&self.stats, searcher);
        for (i, leaf) in self.leaves.iter().enumerate() {
            let Leaf::Phrase {
                needs, terms, slop, ..
            } = leaf
            else {
                continue;
            };
            let counted_here = self.short.as_ref().is_some_and(|s| s.counted[i]);
            // Opened at the first document that needs it.
            let mut scorer: Option<Box<dyn Scorer>> = None;
            let mut weight: Option<Box<dyn Weight>> = None;
            let mut next: DocId = 0;
            for (d, (row, &doc)) in scores.chunks_exact_mut(width).zip(docs).enumerate() {
                if doc < next || (counted_here && counted[d]) || needs.iter().any(|&n| !hit(row[n]))
                {
                    continue;
                }
                let found = match &mut scorer {
                    Some(s) => s.seek_danger(doc),
                    None => {
                        let w = match &weight {
                            Some(w) => w,
                            None => weight.insert(self.phrase(terms, *slop).weight(scoring)?),
                        };
                        let (found, s) = w.scorer_danger(reader, doc, 1.0)?;
                        scorer = Some(s);
                        found
                    }
                };
                let Some(s) = scorer.as_mut() else { continue };
                (row[i], next) = outcome(found, s.as_mut(), doc);
            }
        }
        let mut stack = Vec::with_capacity(width);
        let mut out = Vec::with_capacity(docs.len());
        for (row, &doc) in scores.chunks_exact(width).zip(docs) {
            if let Some(s) = self.program.run(row, &mut stack) {
                out.push((doc, s));
            }
        }
        Ok(out)
    }

    /// The tantivy query of a phrase leaf's terms.
    fn phrase(&self, terms: &[(usize, usize)], slop: u32) -> PhraseQuery {
        let terms = terms
            .iter()
            .map(|&(at, t)| (at, self.stats.terms[t].term.clone()));
        PhraseQuery::new_with_offset_and_slop(terms.collect(), slop)
    }

    /// A term leaf's score on each document of `docs` (rows of `scores`, one leaf wide per
    /// leaf), walking its postings forward once; a gated leaf skips the documents its gate
    /// missed.
    fn read_term(
        &self,
        reader: &SegmentReader,
        ord: usize,
        leaf: usize,
        docs: &[DocId],
        skip: &[bool],
        scores: &mut [Score],
    ) -> tantivy::Result<()> {
        let Leaf::Term { term, weight, gate } = &self.leaves[leaf] else {
            return Ok(());
        };
        let width = self.leaves.len();
        let t = &self.stats.terms[*term];
        let Some(info) = t.found.infos.get(ord).and_then(Option::as_ref) else {
            return Ok(());
        };
        // Not opened at all where its gate missed every document (a word of a question in
        // the titles of none of the candidates), nor where it was counted in every one.
        let skipped = |d: usize| skip.get(d).copied().unwrap_or(false);
        if let Some(g) = gate
            && scores.chunks_exact(width).all(|row| !hit(row[*g]))
        {
            return Ok(());
        }
        if (0..docs.len()).all(skipped) {
            return Ok(());
        }
        let field = t.term.field();
        let mut postings = reader
            .inverted_index(field)?
            .read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
        let norms = reader.get_fieldnorms_reader(field)?;
        for (d, (row, &doc)) in scores.chunks_exact_mut(width).zip(docs).enumerate() {
            if gate.is_some_and(|g| !hit(row[g])) || skipped(d) {
                continue;
            }
            let at = if postings.doc() < doc {
                postings.seek(doc)
            } else {
                postings.doc()
            };
            if at == doc {
                row[leaf] = weight.score(norms.fieldnorm_id(doc), postings.term_freq());
            } else if at == TERMINATED {
                break;
            }
        }
        Ok(())
    }
}

/// Gates each term leaf that `gates` names first on the term leaf of the term it names
/// second, when the tree has one: its postings are then not read where the gate missed. A
/// gate that is itself gated is left out, so the terms are read in two passes: the ungated,
/// then the gated.
fn set_gates(leaves: &mut [Leaf], stats: &Statistics, gates: &[(Term, Term)]) {
    // By term of the tree: whether `gates` gates it, and by which term of the tree.
    let mut gated: Vec<bool> = vec![false; stats.terms.len()];
    let mut gate_of: Vec<Option<usize>> = vec![None; stats.terms.len()];
    for (term, by) in gates {
        if let Some(&t) = stats.index_of.get(term) {
            gated[t] = true;
            gate_of[t] = stats.index_of.get(by).copied();
        }
    }
    let mut leaf_of: Vec<Option<usize>> = vec![None; stats.terms.len()];
    for (i, leaf) in leaves.iter().enumerate() {
        if let Leaf::Term { term, .. } = leaf {
            leaf_of[*term] = Some(i);
        }
    }
    for leaf in leaves.iter_mut() {
        let Leaf::Term { term, gate, .. } = leaf else {
            continue;
        };
        let Some(by) = gate_of[*term] else {
            continue;
        };
        if gated[by] {
            continue;
        }
        *gate = leaf_of[by];
    }
}

/// A leaf's score at `doc` after a danger-zone seek there, and its next possible match.
fn outcome(found: SeekDangerResult, scorer: &mut dyn Scorer, doc: DocId) -> (Score, DocId) {
    match found {
        SeekDangerResult::Found => (scorer.score(), doc + 1),
        SeekDangerResult::SeekLowerBound(at) => (MISS, at),
    }
}
