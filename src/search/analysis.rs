//! English analysis shared by indexing and querying: split on non-alphanumerics, lowercase,
//! ASCII-fold, then (for the stemmed fields) Snowball English stemming via rust-stemmers.

use std::mem;

use rust_stemmers::{Algorithm, Stemmer};
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
const MAX_TOKEN_LEN: usize = 40;

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
        .build()
}

fn stemmed_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
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
        out.push(Word {
            stem: stemmer.stem(&token.text).into_owned(),
            text: token.text.clone(),
            start: token.offset_from,
            end: token.offset_to,
        });
    }
    out
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

impl<T: TokenStream> TokenStream for StemmerTokenStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        self.buffer.clear();
        self.buffer.push_str(&self.stemmer.stem(&token.text));
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
    fn stop_words_are_sorted_for_binary_search() {
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
}
