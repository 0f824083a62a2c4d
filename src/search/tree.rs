//! A planned query as a tree of scoring rules, turned into a tantivy query to scan the index,
//! or evaluated directly on a few documents (the second of two ranking stages).
//!
//! Evaluating it directly is what makes the second stage cheap: tantivy's composite scorers,
//! asked to seek to a far document, refill unions window by window and walk phrase matches
//! forward to the next one; here each leaf (a term or a phrase) only checks the document it
//! is asked about (`scorer_danger`, then `seek_danger`), and the tree adds up the leaves as
//! tantivy's scorers would.

use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, EnableScoring, Occur, PhraseQuery, Query,
    Scorer, TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Searcher, SegmentReader, Term};

use tantivy::SeekDangerResult;

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

    /// The score from the leaves' scores, in leaf order; `None` when it does not match.
    fn combine(&self, leaves: &[Option<Score>], next: &mut usize) -> Option<Score> {
        match self {
            Node::Term(_) | Node::Phrase { .. } => {
                let s = leaves[*next];
                *next += 1;
                s
            }
            Node::Boost(inner, b) => inner.combine(leaves, next).map(|s| s * b),
            Node::Max(children, tie) => {
                let (mut max, mut sum, mut any) = (Score::MIN, 0.0, false);
                for c in children {
                    if let Some(s) = c.combine(leaves, next) {
                        max = max.max(s);
                        sum += s;
                        any = true;
                    }
                }
                any.then(|| max + tie * (sum - max))
            }
            Node::Sum(children) => {
                let (mut sum, mut any) = (0.0, false);
                for c in children {
                    if let Some(s) = c.combine(leaves, next) {
                        sum += s;
                        any = true;
                    }
                }
                any.then_some(sum)
            }
            Node::Required { must, bonus } => {
                let m = must.combine(leaves, next);
                let mut extra = 0.0;
                for c in bonus {
                    extra += c.combine(leaves, next).unwrap_or(0.0);
                }
                m.map(|m| m + extra)
            }
        }
    }
}

/// Scores chosen documents of one segment, in increasing order, by a tree.
pub struct Evaluator<'t> {
    tree: &'t Node,
    weights: Vec<Box<dyn Weight>>,
}

impl<'t> Evaluator<'t> {
    pub fn new(tree: &'t Node, searcher: &Searcher) -> tantivy::Result<Self> {
        let mut leaves = Vec::new();
        tree.leaves(&mut leaves);
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let weights = leaves
            .iter()
            .map(|leaf| leaf.to_query().weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Self { tree, weights })
    }

    /// The score of each of `docs` (sorted, increasing) that the tree matches.
    pub fn score(
        &self,
        reader: &SegmentReader,
        docs: &[DocId],
    ) -> tantivy::Result<Vec<(DocId, Score)>> {
        let Some(&first) = docs.first() else {
            return Ok(Vec::new());
        };
        // Each leaf's scorer is opened at the first document asked about (`scorer_danger`): a
        // phrase opened with `scorer` would walk its words' postings to its first match, which
        // on a large index can be most of them. `next` is each leaf's next possible match.
        let mut scorers: Vec<Box<dyn Scorer>> = Vec::with_capacity(self.weights.len());
        let mut next: Vec<DocId> = Vec::with_capacity(self.weights.len());
        let mut leaf_scores: Vec<Option<Score>> = Vec::with_capacity(self.weights.len());
        for w in &self.weights {
            let (found, mut scorer) = w.scorer_danger(reader, first, 1.0)?;
            let (score, at) = outcome(found, scorer.as_mut(), first);
            leaf_scores.push(score);
            next.push(at);
            scorers.push(scorer);
        }
        let mut out = Vec::with_capacity(docs.len());
        for (k, &doc) in docs.iter().enumerate() {
            // The first document's leaf scores come from opening the scorers.
            if k > 0 {
                for ((scorer, slot), next) in scorers
                    .iter_mut()
                    .zip(leaf_scores.iter_mut())
                    .zip(next.iter_mut())
                {
                    if doc < *next {
                        *slot = None;
                        continue;
                    }
                    (*slot, *next) = outcome(scorer.seek_danger(doc), scorer.as_mut(), doc);
                }
            }
            if let Some(s) = self.tree.combine(&leaf_scores, &mut 0) {
                out.push((doc, s));
            }
        }
        Ok(out)
    }
}

/// A leaf's score at `doc` after a danger-zone seek there, and its next possible match.
fn outcome(found: SeekDangerResult, scorer: &mut dyn Scorer, doc: DocId) -> (Option<Score>, DocId) {
    match found {
        SeekDangerResult::Found => (Some(scorer.score()), doc + 1),
        SeekDangerResult::SeekLowerBound(at) => (None, at),
    }
}
