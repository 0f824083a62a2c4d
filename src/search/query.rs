//! Query building: each word of the customer's text becomes its own clause over the exact and
//! stemmed fields, with typo, prefix and synonym alternatives at lower boosts, so the ranking
//! is exact > stemmed > synonym > typo, plus a bonus when words appear near each other.

use tantivy::Term;

use super::analysis::{self, Word};
use super::snippet::Highlights;
use super::synonyms::SynonymMap;
use super::tree::Node;
use super::vocabulary::Vocabulary;
use super::{Fields, MAX_QUERY_WORDS, TextField};

const STEM_BOOST: f32 = 0.9;
const SYNONYM_BOOST: f32 = 0.7;
const TYPO_BOOST: f32 = 0.6;
const PREFIX_BOOST: f32 = 0.5;
const STOP_WORD_BOOST: f32 = 0.4;
const PHRASE_BOOST: f32 = 0.3;
/// How much the weaker alternatives of a word add to its best one.
const TIE_BREAKER: f32 = 0.3;
/// How much a word's matches in other fields add to its best field: a word repeated in every
/// field of one article should not outweigh several words matched once.
const FIELD_TIE_BREAKER: f32 = 0.3;
const MAX_TYPO_EXPANSIONS: usize = 3;
const MAX_PREFIX_EXPANSIONS: usize = 8;
const MAX_PHRASE_PAIRS: usize = 12;
const MAX_WORDS_FOR_BODY_PHRASES: usize = 3;

/// A term of the first, cheap stage of a search, and the query word it stands for.
#[derive(Debug, Clone)]
pub struct CandidateTerm {
    pub term: Term,
    pub boost: f32,
    pub word: usize,
}

/// A query word and what it expands to.
#[derive(Debug, Clone)]
pub struct PlannedWord {
    pub word: Word,
    pub stop: bool,
    /// The index has this word or its stem.
    pub known: bool,
    /// Index words within the typo budget, with their distance (only for unknown words).
    pub typos: Vec<(String, u32)>,
    /// Completions of the last word while typing, with the typos in the prefix.
    pub completions: Vec<(String, u32)>,
}

/// Synonym expansions (stemmed words or phrases) for query words `start..end`.
#[derive(Debug, Clone)]
pub struct PlannedSynonym {
    pub start: usize,
    pub end: usize,
    pub expansions: Vec<Vec<String>>,
}

/// Where a question's stop words add their small bonus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopWords {
    /// In the title, summary and body.
    WithBody,
    /// In the title and summary only: a stop word is in nearly every article's body, where
    /// it is the costliest word to read (see [`crate::search::Stages::stop_words_in_body`]).
    NotInBody,
}

/// How a query will be matched.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    pub text: String,
    pub words: Vec<PlannedWord>,
    pub synonyms: Vec<PlannedSynonym>,
    /// Every word is a stop word, so they count as content.
    only_stop_words: bool,
}

impl QueryPlan {
    pub fn new(query: &str, vocab: &Vocabulary, synonyms: &SynonymMap) -> Self {
        let words: Vec<Word> = analysis::words(query)
            .into_iter()
            .take(MAX_QUERY_WORDS)
            .collect();
        let typing_last = words.last().is_some_and(|w| w.end == query.len());
        let count = words.len();
        let planned: Vec<PlannedWord> = words
            .into_iter()
            .enumerate()
            .map(|(i, word)| {
                let stop = analysis::is_stop_word(&word.text);
                let known = vocab.knows(&word.text, &word.stem);
                let completions: Vec<(String, u32)> =
                    if i + 1 == count && typing_last && word.text.len() >= 2 {
                        vocab
                            .completions(&word.text, MAX_PREFIX_EXPANSIONS)
                            .into_iter()
                            .map(|c| (c.word.to_string(), c.distance))
                            .collect()
                    } else {
                        Vec::new()
                    };
                // A word still being typed that starts a real word is not a typo: "passw" is
                // on its way to "password", not a misspelled "pass".
                let being_typed = completions.iter().any(|(_, d)| *d == 0);
                let typos = if stop || known || being_typed {
                    Vec::new()
                } else {
                    vocab
                        .fuzzy(&word.text, MAX_TYPO_EXPANSIONS)
                        .into_iter()
                        .map(|c| (c.word.to_string(), c.distance))
                        .collect()
                };
                PlannedWord {
                    word,
                    stop,
                    known,
                    typos,
                    completions,
                }
            })
            .collect();
        // Synonym keys are matched on what the customer meant: a misspelled word by its correction.
        let meant: Vec<String> = planned
            .iter()
            .map(|p| match p.typos.first() {
                Some((fixed, _)) if !p.known => analysis::stem(fixed),
                _ => p.word.stem.clone(),
            })
            .collect();
        let meant: Vec<&str> = meant.iter().map(String::as_str).collect();
        // A synonym key may itself be missing from the articles ("closest" when they say
        // "nearest"): match keys on the words as typed too, not only on their corrections.
        let typed: Vec<&str> = planned.iter().map(|p| p.word.stem.as_str()).collect();
        let mut found = synonyms.find(&typed);
        if meant != typed {
            for m in synonyms.find(&meant) {
                if !found.iter().any(|f| f.start == m.start && f.end == m.end) {
                    found.push(m);
                }
            }
        }
        let synonyms = found
            .into_iter()
            .map(|m| PlannedSynonym {
                start: m.start,
                end: m.end,
                expansions: m.expansions.to_vec(),
            })
            .collect();
        let only_stop_words = planned.iter().all(|p| p.stop);
        Self {
            text: query.to_string(),
            words: planned,
            synonyms,
            only_stop_words,
        }
    }

    fn is_content(&self, w: &PlannedWord) -> bool {
        !w.stop || self.only_stop_words
    }

    /// How the query scores: every content word's alternatives (exact, stemmed, typo, prefix,
    /// synonym) in every field, stop words as a small bonus (in the fields `stop_words`
    /// says), and a bonus for neighbouring words found together. `None` when the text has no
    /// words at all.
    pub fn tree(&self, fields: &Fields, stop_words: StopWords) -> Option<Node> {
        let mut required: Vec<Node> = Vec::new();
        let mut bonus: Vec<Node> = Vec::new();
        for (i, w) in self.words.iter().enumerate() {
            if !self.is_content(w) {
                let with_body = [fields.title, fields.summary, fields.body];
                let fs = match stop_words {
                    StopWords::WithBody => &with_body[..],
                    StopWords::NotInBody => &with_body[..2],
                };
                bonus.push(
                    across(fs, Kind::Exact, std::slice::from_ref(&w.word.text))
                        .boosted(STOP_WORD_BOOST),
                );
                continue;
            }
            let all = fields.text_fields();
            let mut alternatives: Vec<Node> = vec![
                across(&all, Kind::Exact, std::slice::from_ref(&w.word.text)),
                across(&all, Kind::Stemmed, std::slice::from_ref(&w.word.stem)).boosted(STEM_BOOST),
            ];
            for (typo, distance) in &w.typos {
                let b = TYPO_BOOST / *distance as f32;
                alternatives.push(across(&all, Kind::Stemmed, &[analysis::stem(typo)]).boosted(b));
            }
            for (completion, distance) in &w.completions {
                let b = PREFIX_BOOST / (1 + *distance) as f32;
                alternatives
                    .push(across(&all, Kind::Exact, std::slice::from_ref(completion)).boosted(b));
            }
            for s in self
                .synonyms
                .iter()
                .filter(|s| s.start == i && s.end == i + 1)
            {
                for exp in &s.expansions {
                    alternatives.push(across(&all, Kind::Stemmed, exp).boosted(SYNONYM_BOOST));
                }
            }
            required.push(Node::Max(alternatives, TIE_BREAKER));
        }
        for s in self.synonyms.iter().filter(|s| s.end > s.start + 1) {
            let all = fields.text_fields();
            let alternatives: Vec<Node> = s
                .expansions
                .iter()
                .map(|exp| across(&all, Kind::Stemmed, exp))
                .collect();
            required.push(Node::Max(alternatives, 0.0).boosted(SYNONYM_BOOST));
        }
        if required.is_empty() {
            return None;
        }
        let content: Vec<(usize, &PlannedWord)> = self
            .words
            .iter()
            .enumerate()
            .filter(|(_, w)| self.is_content(w))
            .collect();
        // The body only for short, search-box queries: for long questions, phrase checks over
        // long texts cost more than they gain (10k-article corpus: a 3-word query 2.6 ms with
        // body phrases, 1.6 ms without; BANKING77 top-1 76.5% with, 76.4% without).
        let short = content.len() <= MAX_WORDS_FOR_BODY_PHRASES;
        let phrase_fields: &[TextField] = if short {
            &[fields.title, fields.summary, fields.keywords, fields.body]
        } else {
            &[fields.title, fields.summary, fields.keywords]
        };
        for pair in content.windows(2).take(MAX_PHRASE_PAIRS) {
            let [(i, a), (j, b)] = pair else { continue };
            let gap = j - i;
            let phrases: Vec<Node> = phrase_fields
                .iter()
                .map(|f| {
                    Node::Phrase {
                        terms: vec![
                            (0, Term::from_field_text(f.stemmed, &a.word.stem)),
                            (gap, Term::from_field_text(f.stemmed, &b.word.stem)),
                        ],
                        slop: 1,
                    }
                    .boosted(f.weight)
                })
                .collect();
            bonus.push(Node::Sum(phrases).boosted(PHRASE_BOOST));
        }
        let matching = Node::Sum(required);
        if bonus.is_empty() {
            return Some(matching);
        }
        Some(Node::Required {
            must: Box::new(matching),
            bonus,
        })
    }

    /// The words that only add a small bonus (stop words in a question with other words):
    /// they decide no match, but the full query reads their postings on every match.
    pub fn bonus_words(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(|w| !self.is_content(w))
            .map(|w| w.word.text.as_str())
    }

    /// Pairs of the tree's terms where the first can only match a document the second
    /// matches: each content word in a field's exact version, and its stem in the same
    /// field's stemmed version. The two index the same text and the stemmed analyzer stems
    /// each of the exact analyzer's tokens, so an article without the stem in a field has not
    /// the word there either; the second ranking stage reads the word only where the stem is.
    pub fn gates(&self, fields: &Fields) -> Vec<(Term, Term)> {
        let mut out = Vec::new();
        for w in self.words.iter().filter(|w| self.is_content(w)) {
            for f in fields.text_fields() {
                out.push((
                    Term::from_field_text(f.exact, &w.word.text),
                    Term::from_field_text(f.stemmed, &w.word.stem),
                ));
            }
        }
        out
    }

    /// The first stage of a search over a large index: every content word's stem and the
    /// stems of its typo, prefix and synonym alternatives, as plain terms over all the text
    /// and the title, keywords and summary, weighted like the full query. A pure disjunction
    /// of terms is cheap to score from the postings alone; the full query then scores only
    /// the candidates. Each term says which query word it stands for.
    pub fn candidate_terms(&self, fields: &Fields) -> Vec<CandidateTerm> {
        let mut alternatives: Vec<(usize, String, f32)> = Vec::new();
        for (i, w) in self.words.iter().enumerate() {
            if !self.is_content(w) {
                continue;
            }
            alternatives.push((i, w.word.stem.clone(), 1.0));
            for (typo, distance) in &w.typos {
                alternatives.push((i, analysis::stem(typo), TYPO_BOOST / *distance as f32));
            }
            for (completion, distance) in &w.completions {
                let b = PREFIX_BOOST / (1 + *distance) as f32;
                alternatives.push((i, analysis::stem(completion), b));
            }
        }
        for s in &self.synonyms {
            for stem in s.expansions.iter().flatten() {
                alternatives.push((s.start, stem.clone(), SYNONYM_BOOST));
            }
        }
        // One term in all the text at once, and again in the short fields that weigh most:
        // a match there is what the full query ranks first. Without the keywords and the
        // summary, 64 candidates kept fewer of the full query's best than these 32 do.
        let targets = [
            (fields.all, 1.0),
            (fields.title.stemmed, fields.title.weight),
            (fields.keywords.stemmed, fields.keywords.weight),
            (fields.summary.stemmed, fields.summary.weight),
        ];
        let mut out: Vec<CandidateTerm> = Vec::new();
        for (word, stem, b) in alternatives {
            for (field, weight) in targets {
                let term = Term::from_field_text(field, &stem);
                let boost = b * weight;
                match out.iter_mut().find(|c| c.term == term) {
                    Some(c) => c.boost = c.boost.max(boost),
                    None => out.push(CandidateTerm { term, boost, word }),
                }
            }
        }
        out
    }

    /// What to highlight in snippets: everything the content words expanded to.
    pub fn highlights(&self) -> Highlights {
        let mut h = Highlights::default();
        for w in self.words.iter().filter(|w| self.is_content(w)) {
            h.exact.insert(w.word.text.clone());
            h.stems.insert(w.word.stem.clone());
            for (t, _) in w.typos.iter().chain(&w.completions) {
                h.exact.insert(t.clone());
                if w.typos.iter().any(|(typo, _)| typo == t) {
                    h.stems.insert(analysis::stem(t));
                }
            }
        }
        for s in &self.synonyms {
            for exp in &s.expansions {
                h.stems.extend(exp.iter().cloned());
            }
        }
        h
    }

    /// The query with each unknown word replaced by its closest index word (the typo
    /// expansion already planned for it), if any changed.
    pub fn correction(&self) -> Option<String> {
        let mut out = String::new();
        let mut pos = 0;
        let mut changed = false;
        for w in &self.words {
            // A contraction's later parts are empty ranges: nothing of the text to replace.
            if w.word.start >= w.word.end {
                continue;
            }
            out.push_str(self.text.get(pos..w.word.start).unwrap_or_default());
            // Typos are only planned for unknown, non-stop words that are not being typed.
            match w.typos.first() {
                Some((best, _)) => {
                    out.push_str(best);
                    changed = true;
                }
                None => out.push_str(self.text.get(w.word.start..w.word.end).unwrap_or_default()),
            }
            pos = pos.max(w.word.end);
        }
        out.push_str(self.text.get(pos..).unwrap_or_default());
        changed.then_some(out)
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Exact,
    Stemmed,
}

/// A word (or phrase) in any of the fields, each field weighted.
fn across(fields: &[TextField], kind: Kind, words: &[String]) -> Node {
    let clauses = fields
        .iter()
        .map(|f| {
            let field = match kind {
                Kind::Exact => f.exact,
                Kind::Stemmed => f.stemmed,
            };
            term_or_phrase(field, words).boosted(f.weight)
        })
        .collect();
    Node::Max(clauses, FIELD_TIE_BREAKER)
}

fn term_or_phrase(field: tantivy::schema::Field, words: &[String]) -> Node {
    if let [word] = words {
        Node::Term(Term::from_field_text(field, word))
    } else {
        Node::Phrase {
            terms: words
                .iter()
                .enumerate()
                .map(|(i, w)| (i, Term::from_field_text(field, w)))
                .collect(),
            slop: 0,
        }
    }
}
