//! BM25 as tantivy's `Bm25Weight` scores a term, bit for bit, with each field's length
//! factors computed once per version of the index instead of once per term of every search.
//!
//! tantivy computes a table of 256 length factors (one per field-length code) for every
//! term it weighs; a search's two stages weigh 70 terms or more, in a handful of fields.
//! Each field's table here also holds the whole term-frequency factor for the frequencies
//! most postings have, so that scoring a posting is a look-up and a multiplication instead
//! of a division.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::schema::Field;
use tantivy::{Score, Searcher};

/// tantivy's BM25 parameters.
const K1: Score = 1.2;
const B: Score = 0.75;

/// Term frequencies up to this one have their factors in a table.
const TABLED: usize = 4;

/// BM25's factors for a field of one average length, for each field-length code.
#[derive(Debug)]
struct Factors {
    /// The length factor: `K1 * (1 - B + B * length / average)`.
    norm: [Score; 256],
    /// `tf / (tf + norm)` for a term frequency `tf` of 1 to [`TABLED`] (row `tf - 1`).
    by_tf: [[Score; 256]; TABLED],
}

/// Per field of one version of the index: its token count and BM25's factors for each
/// field-length code.
#[derive(Debug, Default)]
pub struct FieldLengths {
    total_docs: u64,
    fields: FxHashMap<Field, (u64, Arc<Factors>)>,
}

impl FieldLengths {
    /// The lengths of `fields` in every segment of `searcher`.
    pub fn of(
        searcher: &Searcher,
        fields: impl IntoIterator<Item = Field>,
    ) -> tantivy::Result<Self> {
        let total_docs = searcher
            .segment_readers()
            .iter()
            .map(|r| u64::from(r.max_doc()))
            .sum();
        let mut lengths = Self {
            total_docs,
            fields: FxHashMap::default(),
        };
        for field in fields {
            let mut tokens = 0;
            for reader in searcher.segment_readers() {
                tokens += reader.inverted_index(field)?.total_num_tokens();
            }
            let cache = factors(tokens as Score / total_docs.max(1) as Score);
            lengths.fields.insert(field, (tokens, cache));
        }
        Ok(lengths)
    }

    /// Documents in the index, deleted ones included (as tantivy counts them for BM25).
    pub fn total_docs(&self) -> u64 {
        self.total_docs
    }

    /// Tokens of `field` in all documents (0 for a field not measured).
    pub fn total_tokens(&self, field: Field) -> u64 {
        self.fields.get(&field).map_or(0, |(tokens, _)| *tokens)
    }

    /// The BM25 weight of a term of `field` in `doc_freq` documents, times `boost`: what
    /// `Bm25Weight::for_one_term_without_explain(..).boost_by(boost)` computes.
    pub fn weigh(&self, field: Field, doc_freq: u64, boost: Score) -> Bm25 {
        let idf = idf(doc_freq, self.total_docs);
        Bm25 {
            weight: idf * (1.0 + K1) * boost,
            factors: self.factors_of(field),
        }
    }

    /// The BM25 weight of several words together in `field` (a phrase), each in so many
    /// documents: what `Bm25Weight::for_terms` computes for two terms or more, the sum of
    /// their inverse document frequencies.
    pub fn weigh_words(&self, field: Field, doc_freqs: impl IntoIterator<Item = u64>) -> Bm25 {
        let idf: Score = doc_freqs
            .into_iter()
            .map(|df| idf(df, self.total_docs))
            .sum();
        Bm25 {
            weight: idf * (1.0 + K1),
            factors: self.factors_of(field),
        }
    }

    /// The length factors of `field`.
    fn factors_of(&self, field: Field) -> Arc<Factors> {
        match self.fields.get(&field) {
            Some((_, factors)) => Arc::clone(factors),
            // A field not measured has no tokens, as tantivy would find.
            None => factors(0.0),
        }
    }
}

/// A term's BM25 weight: its score in a document from the document's field-length code and
/// the term's frequency there.
#[derive(Debug, Clone)]
pub struct Bm25 {
    weight: Score,
    factors: Arc<Factors>,
}

impl Bm25 {
    #[inline]
    pub fn score(&self, fieldnorm_id: u8, term_freq: u32) -> Score {
        self.weight * self.factor(fieldnorm_id, term_freq)
    }

    /// The score's part that depends on the document, the same for every weight of a term:
    /// the score is the weight times this.
    #[inline]
    pub fn factor(&self, fieldnorm_id: u8, term_freq: u32) -> Score {
        let id = usize::from(fieldnorm_id);
        match self.factors.by_tf.get((term_freq as usize).wrapping_sub(1)) {
            Some(row) => row[id],
            None => tf_factor(term_freq, self.factors.norm[id]),
        }
    }

    /// The score of a document whose [`Bm25::factor`] is `factor`.
    #[inline]
    pub fn score_of(&self, factor: Score) -> Score {
        self.weight * factor
    }

    /// What a document's [`Bm25::factor`] is multiplied by: its score is this times that.
    #[inline]
    pub fn weight(&self) -> Score {
        self.weight
    }
}

/// BM25's term-frequency factor, as tantivy computes it.
#[inline]
fn tf_factor(term_freq: u32, norm: Score) -> Score {
    let term_freq = term_freq as Score;
    term_freq / (term_freq + norm)
}

/// BM25's inverse document frequency, as tantivy computes it (in `f32`).
fn idf(doc_freq: u64, doc_count: u64) -> Score {
    let x = (doc_count.saturating_sub(doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
    (1.0 + x).ln()
}

/// The factors of each field-length code for a field of this average length.
fn factors(average: Score) -> Arc<Factors> {
    let mut norm = [0.0; 256];
    for (id, factor) in norm.iter_mut().enumerate() {
        let length = FieldNormReader::id_to_fieldnorm(id as u8);
        *factor = K1 * (1.0 - B + B * length as Score / average);
    }
    let mut by_tf = [[0.0; 256]; TABLED];
    for (row, tf) in by_tf.iter_mut().zip(1u32..) {
        for (factor, &norm) in row.iter_mut().zip(&norm) {
            *factor = tf_factor(tf, norm);
        }
    }
    Arc::new(Factors { norm, by_tf })
}

#[cfg(test)]
mod tests {
    use tantivy::query::Bm25Weight;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    #[test]
    fn scores_are_tantivys_to_the_bit() {
        let mut sb = Schema::builder();
        let short = sb.add_text_field("short", TEXT);
        let long = sb.add_text_field("long", TEXT);
        let index = Index::create_in_ram(sb.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("w");
        for i in 0..300usize {
            let mut doc = TantivyDocument::default();
            doc.add_text(short, "card pin ".repeat(1 + i % 3));
            doc.add_text(long, "transfer fee atm ".repeat(1 + i % 40));
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let lengths = FieldLengths::of(&searcher, [short, long]).expect("lengths");
        assert_eq!(lengths.total_docs(), 300);
        assert_eq!(lengths.total_tokens(short), 2 * (100 + 200 + 300));
        for field in [short, long] {
            let average = lengths.total_tokens(field) as Score / 300.0;
            for doc_freq in [0, 1, 7, 150, 299, 300] {
                for boost in [1.0, 0.35, 2.5] {
                    let ours = lengths.weigh(field, doc_freq, boost);
                    let theirs = Bm25Weight::for_one_term_without_explain(doc_freq, 300, average)
                        .boost_by(boost);
                    for id in 0..=255u8 {
                        for tf in [0, 1, 2, 3, 4, 5, 17, 1000] {
                            let (a, b) = (ours.score(id, tf), theirs.score(id, tf));
                            assert_eq!(a.to_bits(), b.to_bits(), "{doc_freq} {boost} {id} {tf}");
                        }
                    }
                }
            }
        }
        // A field not measured weighs as one with no tokens, without failing.
        assert!(
            lengths
                .weigh(Field::from_field_id(9), 3, 1.0)
                .score(4, 1)
                .is_finite()
        );
    }
}
