//! The evidence that the first result answers a message, and the fitted logistic model that
//! turns it into a probability.

use super::Scored;
use crate::search::analysis;
use crate::search::{ArticleWords, QueryPlan, SearchEngine};

/// How a message's content word was found in an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// The word or its stem.
    Exact,
    /// Only through a typo correction, a completion or a synonym.
    Fuzzy,
    Missing,
}

/// The evidence that the first result answers the message: the features of the model.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// Content (non-stop) words of the message.
    pub content_words: usize,
    /// Share of the content words, weighted by rarity, found in the first article.
    pub matched: f64,
    /// The same, in its title, keywords or summary only.
    pub strong: f64,
    /// Share of the matched weight found only through typos, completions or synonyms.
    pub fuzzy: f64,
    /// Share of the content words the knowledge base does not know in any form.
    pub unknown: f64,
    /// How far the first result leads the second: `1 - second / first` (1 with one result).
    pub margin: f64,
    /// The second result answers the same ticket type as the first.
    pub second_agrees: bool,
    /// Results found.
    pub hits: usize,
    /// What learning vouches for the first article (0: nothing learned): its probability for
    /// this wording, discounted by `[suggest] learned_trust` and by how little of the message
    /// the article matches. Not a feature of the fitted model: it raises the model's
    /// confidence as independent evidence (see [`Evidence::confidence`]).
    pub learned: f64,
}

/// Model features, in the order of [`COEFFICIENTS`].
pub const FEATURES: [&str; 8] = [
    "matched",
    "strong",
    "fuzzy",
    "unknown",
    "margin",
    "second_agrees",
    "ln(1+content_words)",
    "matched*margin",
];

/// Logistic model: `confidence = 1 / (1 + exp(-(INTERCEPT + Σ COEFFICIENTS[i] · feature[i])))`.
///
/// Fitted by `cargo run --example fit_suggest` (Newton's method, small L2 penalty, 7 iterations)
/// against the sample content on 80 % of `tests/data/banking77_train.csv` (8,001 rows with a
/// result; label: the first result answers the question's ticket type) plus the out-of-scope
/// questions of `tests/data/clinc150_oos_train.csv` (11,470 rows, label: wrong, weighted to
/// count as 30 % of the in-scope rows). Every 5th banking row is held out: there, confidence
/// ≥ 0.8 → 93.6 % right, ≥ 0.9 → 96.9 % (fitted rows: 93.0 %, 96.1 %).
pub const INTERCEPT: f64 = -5.1997;
pub const COEFFICIENTS: [f64; 8] = [
    0.0193, 3.0231, -1.2655, -4.2322, 3.1632, 1.3631, 1.8666, 2.7851,
];

impl Evidence {
    /// The features, in the order of [`FEATURES`].
    pub fn features(&self) -> [f64; 8] {
        [
            self.matched,
            self.strong,
            self.fuzzy,
            self.unknown,
            self.margin,
            if self.second_agrees { 1.0 } else { 0.0 },
            (1.0 + self.content_words as f64).ln(),
            self.matched * self.margin,
        ]
    }

    /// The probability that the first result answers the message.
    pub fn confidence(&self) -> f64 {
        if self.hits == 0 || self.content_words == 0 {
            return 0.0;
        }
        let z = INTERCEPT
            + self
                .features()
                .iter()
                .zip(COEFFICIENTS)
                .map(|(x, w)| x * w)
                .sum::<f64>();
        let words = 1.0 / (1.0 + (-z).exp());
        // Noisy-or with the learned probability: with nothing learned, the words alone.
        let learned = self.learned.clamp(0.0, 1.0);
        1.0 - (1.0 - words) * (1.0 - learned)
    }

    /// Weighs the results of a search for `plan`.
    pub fn of(plan: &QueryPlan, hits: &[Scored<'_>], engine: &SearchEngine) -> Self {
        let (vocab, articles) = (engine.vocabulary(), engine.articles().len());
        let content: Vec<usize> = (0..plan.words.len())
            .filter(|&i| !plan.words[i].stop)
            .collect();
        let mut e = Evidence {
            content_words: content.len(),
            hits: hits.len(),
            ..Evidence::default()
        };
        let (Some(first), false) = (hits.first(), content.is_empty()) else {
            return e;
        };
        let n = articles.max(1) as f64;
        // Inverse document frequency; a word the index lacks weighs like the rarest.
        let idf = |i: usize| {
            let w = &plan.words[i];
            let df = vocab
                .doc_freq(&w.word.text)
                .or_else(|| w.typos.first().and_then(|(t, _)| vocab.doc_freq(t)))
                .unwrap_or(0);
            ((n + 1.0) / (f64::from(df) + 0.5)).ln().max(0.1)
        };
        // Collected on demand from the text the index stores (every hit is one of the
        // engine's articles).
        let Some(words) = engine.article_words(&first.hit.article.slug) else {
            return e;
        };
        let (all, strong) = (&words.all, &words.strong);
        let (mut total, mut found, mut fuzzy, mut found_strong, mut unknown) =
            (0.0, 0.0, 0.0, 0.0, 0usize);
        for &i in &content {
            let w = idf(i);
            total += w;
            let p = &plan.words[i];
            let has_synonym = plan.synonyms.iter().any(|s| s.start <= i && i < s.end);
            if !p.known && p.typos.is_empty() && p.completions.is_empty() && !has_synonym {
                unknown += 1;
            }
            match all.find(plan, i) {
                Found::Exact => found += w,
                Found::Fuzzy => {
                    found += w;
                    fuzzy += w;
                }
                Found::Missing => {}
            }
            if strong.find(plan, i) != Found::Missing {
                found_strong += w;
            }
        }
        e.matched = found / total;
        e.strong = found_strong / total;
        e.fuzzy = if found > 0.0 { fuzzy / found } else { 0.0 };
        e.unknown = unknown as f64 / content.len() as f64;
        e.margin = match hits.get(1) {
            Some(second) if first.score > 0.0 => {
                f64::from(1.0 - second.score / first.score).clamp(0.0, 1.0)
            }
            _ => 1.0,
        };
        e.second_agrees = hits.get(1).is_some_and(|s| {
            s.hit
                .article
                .front
                .ticket_types
                .iter()
                .any(|t| first.hit.article.front.ticket_types.contains(t))
        });
        e
    }
}

/// Which of a message's words an article contains.
impl ArticleWords {
    fn find(&self, plan: &QueryPlan, i: usize) -> Found {
        let p = &plan.words[i];
        if self.exact.contains(&p.word.text) || self.stems.contains(&p.word.stem) {
            return Found::Exact;
        }
        let typo = p
            .typos
            .iter()
            .any(|(t, _)| self.exact.contains(t) || self.stems.contains(&analysis::stem(t)));
        let completion = p.completions.iter().any(|(c, _)| self.exact.contains(c));
        let synonym = plan.synonyms.iter().any(|s| {
            s.start <= i
                && i < s.end
                && s.expansions
                    .iter()
                    .any(|exp| exp.iter().all(|stem| self.stems.contains(stem)))
        });
        if typo || completion || synonym {
            Found::Fuzzy
        } else {
            Found::Missing
        }
    }
}
