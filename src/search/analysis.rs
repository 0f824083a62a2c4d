//! English analysis shared by indexing and querying: split on non-alphanumerics, lowercase,
//! ASCII-fold, then (for the stemmed fields) Snowball English stemming via rust-stemmers.

use std::cell::RefCell;
use std::mem;

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;
use tantivy::Index;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// Analyzer name for exact (lowercased, folded) fields.
pub const EXACT: &str = "deflect_exact";
/// Analyzer name for stemmed fields.
pub const STEMMED: &str = "deflect_stem";

/// Longer tokens are dropped: nobody searches for a 40-letter word, and they bloat the index.
pub const MAX_TOKEN_LEN: usize = 40;

/// Words that carry little meaning on their own. They are kept in the index (so phrases and
/// "how do I …" questions still work) and only down-weighted at query time.
pub const STOP_WORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "get", "got", "had", "has", "have", "he", "her",
    "here", "hi", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "let",
    "ll", "m", "me", "might", "my", "of", "on", "or", "our", "please", "re", "s", "she", "should",
    "so", "some", "t", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "to", "too", "us", "ve", "was", "we", "were", "what", "when", "where",
    "which", "who", "will", "with", "would", "you", "your",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        // Folding can give an uppercase letter (`ꟽ` → `M`): lowercase again.
        .filter(LowerCaser)
        .build()
}

fn stemmed_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        // Folding can give an uppercase letter (`ꟽ` → `M`): lowercase again.
        .filter(LowerCaser)
        .filter(EnglishStemmer)
        .build()
}

/// Registers both analyzers on an index; call before indexing or querying it.
pub fn register(index: &Index) {
    index.tokenizers().register(EXACT, exact_analyzer());
    index.tokenizers().register(STEMMED, stemmed_analyzer());
}

/// Stems one lowercased word.
pub fn stem(word: &str) -> String {
    Stemmer::create(Algorithm::English).stem(word).into_owned()
}

/// A word of a query or text, with its byte range in the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Lowercased, ASCII-folded form.
    pub text: String,
    pub stem: String,
    pub start: usize,
    pub end: usize,
}

/// Splits text into words exactly as the index does.
pub fn words(text: &str) -> Vec<Word> {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut analyzer = exact_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        // "hasnt" is "hasn't" typed without the apostrophe: the same words as the index has.
        let parts: &[&str] = match contraction(&token.text) {
            Some(parts) => parts,
            None => &[],
        };
        if parts.is_empty() {
            out.push(Word {
                stem: remembered_stem(&stemmer, &token.text),
                text: token.text.clone(),
                start: token.offset_from,
                end: token.offset_to,
            });
        }
        // The first part spans the typed word; the others are empty ranges at its end, so
        // code walking the text by word ranges never goes backwards.
        for (i, part) in parts.iter().enumerate() {
            out.push(Word {
                stem: remembered_stem(&stemmer, part),
                text: (*part).to_string(),
                start: if i == 0 {
                    token.offset_from
                } else {
                    token.offset_to
                },
                end: token.offset_to,
            });
        }
    }
    out
}

/// Calls `f` with each word of `text` as the exact fields index it (lowercased, folded) and
/// its byte range: no stemming, no splitting of contractions, no allocation per word.
pub fn exact_tokens(text: &str, mut f: impl FnMut(&str, usize, usize)) {
    let mut analyzer = exact_analyzer();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        f(&token.text, token.offset_from, token.offset_to);
    }
}

/// Contractions customers type without the apostrophe, as the words the tokenizer makes of
/// the apostrophe form ("hasn't" → "hasn", "t"). Words that are also ordinary words ("its",
/// "ill", "well", "id", "shell") are left alone.
pub const CONTRACTIONS: &[(&str, &[&str])] = &[
    ("arent", &["aren", "t"]),
    ("cant", &["can", "t"]),
    ("couldnt", &["couldn", "t"]),
    ("didnt", &["didn", "t"]),
    ("doesnt", &["doesn", "t"]),
    ("dont", &["don", "t"]),
    ("hadnt", &["hadn", "t"]),
    ("hasnt", &["hasn", "t"]),
    ("havent", &["haven", "t"]),
    ("im", &["i", "m"]),
    ("isnt", &["isn", "t"]),
    ("ive", &["i", "ve"]),
    ("shouldnt", &["shouldn", "t"]),
    ("thats", &["that", "s"]),
    ("theyre", &["they", "re"]),
    ("wasnt", &["wasn", "t"]),
    ("werent", &["weren", "t"]),
    ("whats", &["what", "s"]),
    ("wont", &["won", "t"]),
    ("wouldnt", &["wouldn", "t"]),
    ("youre", &["you", "re"]),
];

/// The apostrophe form's words for a contraction typed without it.
pub fn contraction(word: &str) -> Option<&'static [&'static str]> {
    CONTRACTIONS
        .binary_search_by(|(w, _)| (*w).cmp(word))
        .ok()
        .map(|i| CONTRACTIONS[i].1)
}

/// A text's words, lowercased and folded, joined by spaces: how searches are grouped in
/// reports and how learning tells one wording from another.
pub fn normalize(text: &str) -> String {
    words(text)
        .into_iter()
        .map(|w| w.text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Snowball English stemmer as a tantivy token filter.
#[derive(Clone, Copy)]
pub struct EnglishStemmer;

impl TokenFilter for EnglishStemmer {
    type Tokenizer<T: Tokenizer> = StemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> StemmerFilter<T> {
        StemmerFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct StemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for StemmerFilter<T> {
    type TokenStream<'a> = StemmerTokenStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        StemmerTokenStream {
            tail: self.inner.token_stream(text),
            stemmer: Stemmer::create(Algorithm::English),
            buffer: String::new(),
        }
    }
}

pub struct StemmerTokenStream<T> {
    tail: T,
    stemmer: Stemmer,
    buffer: String,
}

/// How many words' stems a thread remembers; past this it forgets them all and starts over.
const STEM_CACHE_WORDS: usize = 1 << 15;

thread_local! {
    /// Stems already computed on this thread, by word. Snowball stemming was over a third of
    /// indexing time, and a help center's prose repeats a few thousand words: at 100,000
    /// generated articles nearly every word is found here.
    static STEMS: RefCell<FxHashMap<Box<str>, Box<str>>> = RefCell::new(FxHashMap::default());
}

/// The word's stem, from the thread's [`STEMS`] when it is there, else made and kept there;
/// written to `out`.
fn stem_into(stemmer: &Stemmer, word: &str, out: &mut String) {
    STEMS.with_borrow_mut(|stems| match stems.get(word) {
        Some(stem) => out.push_str(stem),
        None => {
            let stem = stemmer.stem(word);
            out.push_str(&stem);
            if stems.len() >= STEM_CACHE_WORDS {
                stems.clear();
            }
            stems.insert(word.into(), stem.into());
        }
    });
}

/// The word's stem, remembered on this thread (a question's words recur from search to
/// search as an article's do from article to article).
fn remembered_stem(stemmer: &Stemmer, word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    stem_into(stemmer, word, &mut out);
    out
}

impl<T: TokenStream> TokenStream for StemmerTokenStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        self.buffer.clear();
        stem_into(&self.stemmer, &token.text, &mut self.buffer);
        mem::swap(&mut token.text, &mut self.buffer);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_and_contractions_are_sorted_and_contractions_split() {
        let mut c: Vec<&str> = CONTRACTIONS.iter().map(|(w, _)| *w).collect();
        c.sort_unstable();
        assert_eq!(
            c,
            CONTRACTIONS.iter().map(|(w, _)| *w).collect::<Vec<_>>(),
            "sorted"
        );
        let text = |s: &str| words(s).into_iter().map(|w| w.text).collect::<Vec<_>>();
        assert_eq!(
            text("my card hasnt arrived"),
            text("my card hasn't arrived")
        );
        assert_eq!(text("I cant log in"), text("I can't log in"));
        assert_eq!(text("its late"), ["its", "late"]);
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
        assert!(is_stop_word("how"));
        assert!(!is_stop_word("card"));
    }

    #[test]
    fn words_lowercase_fold_and_stem() {
        let w = words("Café WITHDRAWALS, top-up!");
        let texts: Vec<_> = w.iter().map(|w| w.text.as_str()).collect();
        let stems: Vec<_> = w.iter().map(|w| w.stem.as_str()).collect();
        assert_eq!(texts, ["cafe", "withdrawals", "top", "up"]);
        assert_eq!(stems, ["cafe", "withdraw", "top", "up"]);
        assert_eq!((w[1].start, w[1].end), (6, 17));
        // A letter that folds to an uppercase one is still lowercase in the end.
        assert_eq!(words("\u{a7fd}")[0].text, "m");
    }

    #[test]
    fn stemmed_analyzer_matches_stem() {
        let mut a = stemmed_analyzer();
        let mut s = a.token_stream("Charged charges");
        let mut out = Vec::new();
        while let Some(t) = s.next() {
            out.push(t.text.clone());
        }
        assert_eq!(out, ["charg", "charg"]);
        assert_eq!(stem("charged"), "charg");
    }

    /// The stems the analyzer remembers are the stemmer's: a word seen before, and a word
    /// seen before it remembered too many and started over.
    #[test]
    fn remembered_stems_are_the_stemmers() {
        let stemmed = |text: &str| {
            let mut a = stemmed_analyzer();
            let mut s = a.token_stream(text);
            let mut out = Vec::new();
            while let Some(t) = s.next() {
                out.push(t.text.clone());
            }
            out
        };
        // The second of each pair is remembered.
        assert_eq!(
            stemmed("Charging charges charging CHARGES"),
            ["charg", "charg", "charg", "charg"]
        );
        let words: Vec<String> = (0..STEM_CACHE_WORDS + 500)
            .map(|i| format!("paying{i}ments"))
            .collect();
        let expected: Vec<String> = words.iter().map(|w| stem(w)).collect();
        assert!(
            expected.iter().zip(&words).all(|(s, w)| s != w),
            "the words change when stemmed"
        );
        // More words than it remembers: it starts over once, midway.
        assert_eq!(stemmed(&words.join(" ")), expected);
        // The last ones, remembered since it started over.
        let last = STEM_CACHE_WORDS..words.len();
        assert_eq!(stemmed(&words[last.clone()].join(" ")), expected[last]);
        assert_eq!(stemmed("charges"), ["charg"]);
    }
}
