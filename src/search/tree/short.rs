//! The second stage's reading of the short text fields (title, keywords, summary, headings)
//! from each candidate's words instead of from the postings.
//!
//! A question's words are mostly missing from a candidate's short fields, and seeking a
//! posting list for a document it lacks still walks its skip list and decodes a block of
//! its postings: for a long question, a hundred lists sought for each of 32 candidates. A
//! candidate's short fields are a few dozen words, held as ids of the lexicon once its
//! article is first a candidate ([`ShortWordIds`]); counting the question's words and
//! phrases among them gives the same term frequencies and phrase counts as the postings,
//! and so the same scores (the fields' lengths still come from the index).

use rustc_hash::FxHashMap as HashMap;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::schema::Field;
use tantivy::{DocId, Score, SegmentReader};

use super::{Evaluator, Leaf, Statistics, hit};
use crate::search::bm25::Bm25;
use crate::search::index::TextField;
use crate::search::snippet::Lexicon;

/// The short text fields, and the lexicon their words' ids are of.
#[derive(Clone, Copy)]
pub struct ShortFields<'l> {
    /// In the order of [`ShortWordIds::new`]'s texts.
    pub fields: [TextField; 4],
    pub lexicon: &'l Lexicon,
}

/// The words of an article's short fields as ids of the lexicon, in order, field after field:
/// one allocation per article, the fields' ends first.
#[derive(Debug)]
pub struct ShortWordIds(Box<[u32]>);

impl ShortWordIds {
    /// The word ids of four fields, each given as pieces (tokenized as the index does, and
    /// one after the other as the index holds them joined).
    pub fn new(lexicon: &Lexicon, fields: &[Vec<&str>; 4]) -> Self {
        let mut ids: Vec<u32> = vec![0; 4];
        for (slot, pieces) in fields.iter().enumerate() {
            for piece in pieces {
                ids.extend(lexicon.word_ids(piece));
            }
            ids[slot] = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        }
        Self(ids.into())
    }

    /// The word ids of the field at `slot`.
    fn field(&self, slot: usize) -> &[u32] {
        let start = if slot == 0 {
            4
        } else {
            self.0[slot - 1] as usize
        };
        self.0.get(start..self.0[slot] as usize).unwrap_or_default()
    }
}

/// No leaf (in [`ShortWords::by_word`]).
const NO_LEAF: usize = usize::MAX;

/// A phrase leaf in a short field, found in the words' positions there: two words within a
/// slop, or more words next to each other.
struct ShortPhrase {
    leaf: usize,
    slot: usize,
    field: Field,
    /// Its words in order: each one's stem id, its term (`stats.terms`) and how many
    /// positions after the first word it is.
    words: Box<[(u32, usize, u32)]>,
    /// How far from there a word may be (two words only).
    slop: u32,
    weight: Bm25,
}

/// The short fields' term leaves of a tree, by the words they count.
pub(super) struct ShortWords<'l> {
    lexicon: &'l Lexicon,
    /// By leaf of the tree: the field a term leaf counted in the words is in.
    field_of: Vec<Option<Field>>,
    phrases: Vec<ShortPhrase>,
    /// By word id: the leaf counting it in each short field, as itself then by its stem
    /// ([`NO_LEAF`]: none).
    by_word: HashMap<u32, [[usize; 4]; 2]>,
    /// Whether each leaf of the tree is counted in the texts.
    pub(super) counted: Vec<bool>,
}

impl<'l> ShortWords<'l> {
    /// The term leaves of `leaves` in a short field whose word or stem the lexicon has.
    pub(super) fn of(short: ShortFields<'l>, leaves: &[Leaf], stats: &Statistics) -> Option<Self> {
        let lexicon = short.lexicon;
        let mut out = Self {
            lexicon,
            field_of: vec![None; leaves.len()],
            phrases: Vec::new(),
            by_word: HashMap::default(),
            counted: vec![false; leaves.len()],
        };
        for (i, leaf) in leaves.iter().enumerate() {
            if let Leaf::Phrase { terms, slop, .. } = leaf
                && let Some(phrase) = ShortPhrase::of(i, terms, *slop, short, stats)
            {
                out.phrases.push(phrase);
                out.counted[i] = true;
                continue;
            }
            let Leaf::Term { term, .. } = leaf else {
                continue;
            };
            let term = &stats.terms[*term].term;
            let field = term.field();
            let value = term.value();
            let Some(text) = value.as_str() else {
                continue;
            };
            let Some(slot) = short
                .fields
                .iter()
                .position(|f| f.exact == field || f.stemmed == field)
            else {
                continue;
            };
            let one: [u32; 1];
            let (kind, words): (usize, &[u32]) = if short.fields[slot].exact == field {
                let Some(id) = lexicon.word_id(text) else {
                    continue;
                };
                one = [id];
                (0, &one)
            } else {
                let Some(stem) = lexicon.stem_id(text) else {
                    continue;
                };
                (1, lexicon.words_of_stem(stem))
            };
            for &w in words {
                out.by_word.entry(w).or_insert([[NO_LEAF; 4]; 2])[kind][slot] = i;
            }
            out.field_of[i] = Some(field);
            out.counted[i] = true;
        }
        out.counted.contains(&true).then_some(out)
    }

    /// Each short leaf's term frequency in an article's short fields, added to `tf` (by
    /// leaf); the leaves found are added to `touched`.
    fn count(&self, words: &ShortWordIds, tf: &mut [u32], touched: &mut Vec<usize>) {
        for slot in 0..4 {
            for id in words.field(slot) {
                if let Some(leaves) = self.by_word.get(id) {
                    for leaf in [leaves[0][slot], leaves[1][slot]] {
                        if let Some(n) = tf.get_mut(leaf) {
                            if *n == 0 {
                                touched.push(leaf);
                            }
                            *n += 1;
                        }
                    }
                }
            }
        }
    }
}

impl ShortPhrase {
    /// A phrase in the stemmed version of a short field, its first word at offset 0, all
    /// of its words stems the lexicon has: of two words, or of more with no slop.
    fn of(
        leaf: usize,
        terms: &[(usize, usize)],
        slop: u32,
        short: ShortFields<'_>,
        stats: &Statistics,
    ) -> Option<Self> {
        let [(0, first), rest @ ..] = terms else {
            return None;
        };
        // tantivy's count of three words or more within a slop is not reproduced here.
        if rest.is_empty() || (rest.len() > 1 && slop > 0) {
            return None;
        }
        let field = stats.terms[*first].term.field();
        let slot = short.fields.iter().position(|f| f.stemmed == field)?;
        if rest
            .iter()
            .any(|&(_, t)| stats.terms[t].term.field() != field)
        {
            return None;
        }
        let words = terms
            .iter()
            .map(|&(at, t)| {
                let stem = short
                    .lexicon
                    .stem_id(stats.terms[t].term.value().as_str()?)?;
                Some((stem, t, u32::try_from(at).ok()?))
            })
            .collect::<Option<Box<[_]>>>()?;
        // As tantivy weighs a phrase: the sum of its terms' inverse document frequencies.
        let doc_freqs = terms.iter().map(|&(_, t)| stats.terms[t].found.doc_freq);
        Some(Self {
            leaf,
            slot,
            field,
            words,
            slop,
            weight: stats.lengths.weigh_words(field, doc_freqs),
        })
    }

    /// How many times the phrase is in a field of these word ids, counted as tantivy's
    /// phrase scorer counts. Of two words: the positions of the word in fewer documents of
    /// the segment (the first on a tie), each matched with at most one of the other's, the
    /// first within `slop` of it; of more, the positions where every word is in its place.
    /// `positions` holds two words' positions, reused from phrase to phrase.
    fn count(
        &self,
        ids: &[u32],
        lexicon: &Lexicon,
        stats: &Statistics,
        ord: usize,
        positions: &mut [Vec<u32>; 2],
    ) -> u32 {
        let &[(stem_a, term_a, _), (stem_b, term_b, gap)] = &self.words[..] else {
            return in_place(ids, &self.words, lexicon);
        };
        let [first, second] = positions;
        first.clear();
        second.clear();
        for (at, &id) in (0u32..).zip(ids) {
            let stem = lexicon.stem_of(id);
            if stem == stem_a {
                first.push(at + gap);
            }
            if stem == stem_b {
                second.push(at);
            }
        }
        let in_segment = |t: usize| {
            let info = stats.terms[t].found.infos.get(ord).and_then(Option::as_ref);
            info.map_or(0, |i| i.doc_freq)
        };
        let (left, right) = if in_segment(term_a) <= in_segment(term_b) {
            (first, second)
        } else {
            (second, first)
        };
        matched_within(left, right, self.slop)
    }
}

/// How many positions of `ids` start the phrase of `words` (each a stem id, its term and its
/// offset), every word in its place: the phrase count of tantivy's scorer with no slop.
fn in_place(ids: &[u32], words: &[(u32, usize, u32)], lexicon: &Lexicon) -> u32 {
    let at = |p: usize| {
        words.iter().all(|&(stem, _, offset)| {
            ids.get(p + offset as usize)
                .is_some_and(|&id| lexicon.stem_of(id) == stem)
        })
    };
    u32::try_from((0..ids.len()).filter(|&p| at(p)).count()).unwrap_or(u32::MAX)
}

/// How many of the positions `right` a position of `left` is within `slop` of, both sorted,
/// each position matched once: the phrase count of tantivy's two-term phrase scorer.
fn matched_within(left: &[u32], right: &[u32], slop: u32) -> u32 {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        let (l, r) = (left[i], right[j]);
        if l.abs_diff(r) <= slop {
            // The last position of the left word not past the right one.
            while i + 1 < left.len() && left[i + 1] <= r {
                i += 1;
            }
            n += 1;
            i += 1;
            j += 1;
        } else if l < r {
            i += 1;
        } else {
            j += 1;
        }
    }
    n
}

impl Evaluator<'_> {
    /// The scores of the short fields' leaves on each of `docs` whose word ids `words`
    /// gives; which documents had them (the others are left to the postings).
    pub(super) fn count_short<'t>(
        &self,
        short: &ShortWords<'_>,
        reader: &SegmentReader,
        ord: usize,
        docs: &[DocId],
        words: &dyn Fn(DocId) -> Option<&'t ShortWordIds>,
        scores: &mut [Score],
    ) -> tantivy::Result<Vec<bool>> {
        let width = self.leaves.len();
        let mut norms: HashMap<Field, FieldNormReader> = HashMap::default();
        let fields = short.field_of.iter().flatten().copied();
        for field in fields.chain(short.phrases.iter().map(|p| p.field)) {
            if let std::collections::hash_map::Entry::Vacant(e) = norms.entry(field) {
                e.insert(reader.get_fieldnorms_reader(field)?);
            }
        }
        let mut counted = vec![false; docs.len()];
        let mut tf = vec![0u32; width];
        let mut touched = Vec::new();
        let mut positions = [Vec::new(), Vec::new()];
        for ((row, &doc), had) in scores.chunks_exact_mut(width).zip(docs).zip(&mut counted) {
            let Some(ids) = words(doc) else { continue };
            *had = true;
            touched.clear();
            short.count(ids, &mut tf, &mut touched);
            for &leaf in &touched {
                let n = std::mem::take(&mut tf[leaf]);
                if let Leaf::Term { weight, .. } = &self.leaves[leaf]
                    && let Some(norm) = short.field_of[leaf].and_then(|f| norms.get(&f))
                {
                    row[leaf] = weight.score(norm.fieldnorm_id(doc), n);
                }
            }
            for p in &short.phrases {
                // Only where each of its words is in the field.
                if let Leaf::Phrase { needs, .. } = &self.leaves[p.leaf]
                    && needs.iter().any(|&n| !hit(row[n]))
                {
                    continue;
                }
                let n = p.count(
                    ids.field(p.slot),
                    short.lexicon,
                    &self.stats,
                    ord,
                    &mut positions,
                );
                if n > 0
                    && let Some(norm) = norms.get(&p.field)
                {
                    row[p.leaf] = p.weight.score(norm.fieldnorm_id(doc), n);
                }
            }
        }
        Ok(counted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_articles_word_ids_are_split_by_field() {
        let lexicon = Lexicon::of_words(["card", "lost", "my", "pin", "atm"]);
        let ids = ShortWordIds::new(
            &lexicon,
            &[
                vec!["Lost card"],
                vec!["PIN", "atm | card"],
                vec![],
                vec!["My unknownword card"],
            ],
        );
        let id = |w: &str| lexicon.word_id(w).expect("in the lexicon");
        assert_eq!(ids.field(0), [id("lost"), id("card")]);
        assert_eq!(ids.field(1), [id("pin"), id("atm"), id("card")]);
        assert!(ids.field(2).is_empty());
        // A word the lexicon lacks is left out (the index has every word it holds).
        assert_eq!(ids.field(3), [id("my"), id("card")]);
    }

    #[test]
    fn phrase_positions_match_within_the_slop_once_each() {
        // Next to each other, one apart, and too far.
        assert_eq!(matched_within(&[3], &[3], 1), 1);
        assert_eq!(matched_within(&[3], &[4], 1), 1);
        assert_eq!(matched_within(&[3], &[2], 1), 1);
        assert_eq!(matched_within(&[3], &[5], 1), 0);
        // Two left positions near one right one count once; two pairs count twice.
        assert_eq!(matched_within(&[2, 3], &[3], 1), 1);
        assert_eq!(matched_within(&[2, 8], &[3, 9], 1), 2);
        assert_eq!(matched_within(&[], &[1], 1), 0);
    }
}
