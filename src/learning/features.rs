//! Text → sparse weighted features for the learning model: stems, stem bigrams and character
//! n-grams of the words (so a misspelling shares most of its evidence with the right spelling),
//! hashed, then weighted by sublinear term frequency and inverse client frequency.

use std::collections::HashMap;

use crate::search::analysis;

/// Shortest and longest character n-gram taken inside a word (with its boundary markers).
const CHAR_MIN: usize = 3;
const CHAR_MAX: usize = 5;
/// Longer words only contribute n-grams from their first letters: their word feature already
/// identifies them, and a 40-letter token would otherwise add 100 features.
const CHAR_WORD_MAX: usize = 20;

/// How much each kind of feature weighs once its block is L2-normalized. Words carry the
/// meaning; character n-grams carry it through typos; bigrams carry word order ("card
/// declined" vs "declined card payment") and are sparser, so they count less.
const WORD_WEIGHT: f32 = 1.0;
const BIGRAM_WEIGHT: f32 = 0.6;
const CHAR_WEIGHT: f32 = 0.9;

/// The kind of a feature, mixed into its hash so a word and an n-gram with the same letters
/// stay apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word = 1,
    Bigram = 2,
    Char = 3,
}

impl Kind {
    fn weight(self) -> f32 {
        match self {
            Self::Word => WORD_WEIGHT,
            Self::Bigram => BIGRAM_WEIGHT,
            Self::Char => CHAR_WEIGHT,
        }
    }
}

/// FNV-1a, 64 bits: fast, stable across runs (unlike `RandomState`), and collisions among the
/// few hundred thousand features of one help center are negligible.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new(kind: Kind) -> Self {
        Self(0xcbf2_9ce4_8422_2325).byte(kind as u8)
    }
    fn byte(self, b: u8) -> Self {
        Self((self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    }
    fn bytes(self, bs: &[u8]) -> Self {
        bs.iter().fold(self, |h, b| h.byte(*b))
    }
}

/// Apostrophes are dropped before splitting, so "hasn't", "has'nt" and "hasnt" (typed without
/// one) all become the word "hasnt" instead of "hasn" + "t".
fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{b4}'))
        .collect()
}

/// A text's features as (hash, weight) before any learned weighting: each kind's block is
/// sublinear in term frequency, L2-normalized, then scaled by the kind's weight.
pub fn raw(text: &str) -> Vec<(u64, f32)> {
    let words = analysis::words(&normalize(text));
    let mut counts: HashMap<u64, (Kind, f32)> = HashMap::with_capacity(words.len() * 24);
    let mut add = |kind: Kind, hash: u64| counts.entry(hash).or_insert((kind, 0.0)).1 += 1.0;
    let mut marked = Vec::with_capacity(CHAR_WORD_MAX + 2);
    for (i, w) in words.iter().enumerate() {
        add(Kind::Word, Fnv::new(Kind::Word).bytes(w.stem.as_bytes()).0);
        if let Some(next) = words.get(i + 1) {
            let h = Fnv::new(Kind::Bigram)
                .bytes(w.stem.as_bytes())
                .byte(b' ')
                .bytes(next.stem.as_bytes());
            add(Kind::Bigram, h.0);
        }
        // Stop words' n-grams would only say "this text is English".
        if analysis::is_stop_word(&w.text) {
            continue;
        }
        marked.clear();
        marked.push(b'<');
        marked.extend(w.text.bytes().take(CHAR_WORD_MAX));
        marked.push(b'>');
        for n in CHAR_MIN..=CHAR_MAX {
            for gram in marked.windows(n) {
                add(Kind::Char, Fnv::new(Kind::Char).bytes(gram).0);
            }
        }
    }
    let mut out: Vec<(u64, Kind, f32)> = counts
        .into_iter()
        .map(|(h, (kind, tf))| (h, kind, 1.0 + tf.ln()))
        .collect();
    for kind in [Kind::Word, Kind::Bigram, Kind::Char] {
        let norm = out
            .iter()
            .filter(|f| f.1 == kind)
            .map(|f| f.2 * f.2)
            .sum::<f32>()
            .sqrt();
        if norm > 0.0 {
            for f in out.iter_mut().filter(|f| f.1 == kind) {
                f.2 *= kind.weight() / norm;
            }
        }
    }
    out.into_iter().map(|(h, _, w)| (h, w)).collect()
}

/// A sparse vector over interned feature ids, sorted by id.
pub type SparseVec = Vec<(u32, f32)>;

/// The features a model knows: hash → dense id, and each id's inverse client frequency.
#[derive(Debug, Clone, Default)]
pub struct FeatureSpace {
    ids: HashMap<u64, u32>,
    idf: Vec<f32>,
}

impl FeatureSpace {
    /// Interns every feature of the texts and computes idf = ln((1 + C) / (1 + c_f)) + 1 where
    /// C is the number of distinct clients and c_f those whose texts had the feature: counting
    /// clients rather than texts keeps one client repeating a phrase from making it look common
    /// (or rare). `texts` are (client index, raw features), grouped or not.
    pub fn fit(texts: &[(u32, Vec<(u64, f32)>)]) -> Self {
        let mut ids: HashMap<u64, u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        let mut last_client: Vec<u32> = Vec::new();
        let mut clients = std::collections::HashSet::new();
        for (client, feats) in texts {
            clients.insert(*client);
            for (h, _) in feats {
                let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                let id = *ids.entry(*h).or_insert(next) as usize;
                if id == df.len() {
                    df.push(0);
                    last_client.push(u32::MAX);
                }
                // Counts a client once per feature even when texts are not grouped by client
                // (the rare interleaving only over-counts, which is harmless for idf).
                if last_client[id] != *client {
                    last_client[id] = *client;
                    df[id] += 1;
                }
            }
        }
        let n = clients.len() as f32;
        let idf = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        Self { ids, idf }
    }

    /// How many features are known.
    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// Weights raw features by idf, drops unknown ones and L2-normalizes.
    pub fn vectorize(&self, raw: &[(u64, f32)]) -> SparseVec {
        let mut out: SparseVec = raw
            .iter()
            .filter_map(|(h, w)| {
                let id = *self.ids.get(h)?;
                Some((id, w * self.idf[id as usize]))
            })
            .collect();
        let norm = out.iter().map(|f| f.1 * f.1).sum::<f32>().sqrt();
        if norm > 0.0 {
            for f in &mut out {
                f.1 /= norm;
            }
        }
        out.sort_unstable_by_key(|f| f.0);
        out
    }

    /// `raw` then `vectorize`.
    pub fn features(&self, text: &str) -> SparseVec {
        self.vectorize(&raw(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(text: &str) -> std::collections::HashSet<u64> {
        raw(text).into_iter().map(|f| f.0).collect()
    }

    fn overlap(a: &str, b: &str) -> f32 {
        let (a, b) = (hashes(a), hashes(b));
        a.intersection(&b).count() as f32 / a.union(&b).count() as f32
    }

    #[test]
    fn contractions_with_and_without_apostrophes_are_the_same_features() {
        for (typed, written) in [
            ("my card hasnt arrived", "my card hasn't arrived"),
            ("it didnt work", "it didn\u{2019}t work"),
            ("I cant log in", "I can't log in"),
            ("card has'nt come", "card hasn't come"),
        ] {
            assert_eq!(hashes(typed), hashes(written), "{typed} vs {written}");
        }
    }

    #[test]
    fn misspellings_share_character_ngrams_unrelated_words_do_not() {
        let close = overlap("recieved", "received");
        let far = overlap("recieved", "declined");
        assert!(close > 0.1, "{close}");
        assert!(far < 0.05, "{far}");
    }

    #[test]
    fn case_and_accents_do_not_matter() {
        assert_eq!(hashes("Café PIN"), hashes("cafe pin"));
    }

    #[test]
    fn blocks_are_normalized_and_weighted() {
        let f = raw("card card card declined");
        let total: f32 = f.iter().map(|x| x.1 * x.1).sum();
        let expected =
            WORD_WEIGHT * WORD_WEIGHT + BIGRAM_WEIGHT * BIGRAM_WEIGHT + CHAR_WEIGHT * CHAR_WEIGHT;
        assert!((total - expected).abs() < 1e-4, "{total} vs {expected}");
    }

    #[test]
    fn space_drops_unknown_features_and_normalizes() {
        let space = FeatureSpace::fit(&[(0, raw("card declined")), (1, raw("card arrived"))]);
        let v = space.features("card lost");
        assert!(!v.is_empty());
        let norm: f32 = v.iter().map(|x| x.1 * x.1).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(space.features("zzzz").is_empty());
        // "card" is in both clients' texts, "declined" in one: the rarer word weighs more.
        let idf = |word: &[u8]| {
            let id = space.ids[&Fnv::new(Kind::Word).bytes(word).0];
            space.idf[id as usize]
        };
        assert!(idf(b"card") < idf(b"declin"));
    }
}
