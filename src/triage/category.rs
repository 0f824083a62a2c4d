//! The ticket's category (ticket type) from the knowledge base itself: the articles that best
//! match the customer's words vote with their `ticket_types`, weighted by rank and score, and
//! configured keyword rules add their weight; the winner's share of the vote is the confidence.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{find_phrase, normalize};
use crate::search::{SearchEngine, SearchRequest};

/// `[[triage.keyword_rules]]`: a phrase that points at a ticket type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    pub phrase: String,
    pub ticket_type: String,
    /// Votes the rule adds, as a multiple of the articles' whole vote (1.0 = twice what all
    /// the articles together cast, so a matching rule wins unless another rule matches too).
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

/// A search hit as the vote sees it.
#[derive(Debug, Clone, Copy)]
pub struct RankedArticle<'a> {
    pub score: f32,
    pub ticket_types: &'a [String],
}

/// The chosen ticket type and the share of the vote it got (0..1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryGuess {
    pub ticket_type: String,
    pub confidence: f64,
}

/// How much an article's first, second and third listed ticket type count: authors list the
/// type the article answers best first.
const TYPE_POSITION_WEIGHT: [f64; 3] = [1.0, 0.5, 0.35];

/// Votes over ranked articles (best first) and keyword rules.
pub fn categorize(
    text: &str,
    ranked: &[RankedArticle<'_>],
    rules: &[KeywordRule],
) -> Option<CategoryGuess> {
    categorize_with(text, ranked, rules, &[])
}

/// How much the learned ticket-type model's probability counts, against the articles' vote
/// (1.0: a certain model weighs as much as all the articles together).
pub const LEARNED_TYPE_WEIGHT: f64 = 1.5;

/// [`categorize`], plus the learned ticket-type model's (type, probability) as a vote.
pub fn categorize_with(
    text: &str,
    ranked: &[RankedArticle<'_>],
    rules: &[KeywordRule],
    learned: &[(&str, f32)],
) -> Option<CategoryGuess> {
    let mut votes: HashMap<&str, f64> = HashMap::new();
    let top = ranked.first().map_or(1.0, |r| f64::from(r.score).max(1e-6));
    for (rank, hit) in ranked.iter().enumerate() {
        let relative = (f64::from(hit.score) / top).clamp(0.0, 1.0);
        let w = relative * relative / (rank as f64 + 1.0);
        for (pos, t) in hit.ticket_types.iter().enumerate() {
            let p = TYPE_POSITION_WEIGHT
                .get(pos)
                .copied()
                .unwrap_or(TYPE_POSITION_WEIGHT[2]);
            *votes.entry(t.as_str()).or_default() += w * p;
        }
    }
    let articles_total: f64 = votes.values().sum();
    for (t, p) in learned {
        *votes.entry(t).or_default() +=
            LEARNED_TYPE_WEIGHT * f64::from(*p) * articles_total.max(1.0);
    }
    let normalized = normalize(text);
    for rule in rules {
        if find_phrase(&normalized, std::slice::from_ref(&rule.phrase)).is_some() {
            *votes.entry(rule.ticket_type.as_str()).or_default() +=
                2.0 * rule.weight * articles_total.max(1.0);
        }
    }
    let total: f64 = votes.values().sum();
    let (best, score) = votes
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))?;
    (score > 0.0).then(|| CategoryGuess {
        ticket_type: best.to_string(),
        confidence: score / total,
    })
}

/// Searches the knowledge base with the ticket's words and votes on the category.
pub fn from_search(
    engine: &SearchEngine,
    text: &str,
    hits: usize,
    rules: &[KeywordRule],
) -> Option<CategoryGuess> {
    let found = engine.search(&SearchRequest {
        query: text,
        limit: hits.max(1),
        category: None,
    });
    categorize(text, &ranked(&found), rules)
}

/// The articles found, best first, with their ticket types.
fn ranked<'a>(found: &crate::search::SearchResults<'a>) -> Vec<RankedArticle<'a>> {
    found
        .hits
        .iter()
        .map(|h| RankedArticle {
            score: h.score,
            ticket_types: &h.article.front.ticket_types,
        })
        .collect()
}

/// [`from_search`] with what traffic taught: the article model re-ranks the search, and the
/// ticket-type model (trained on agents' corrections) votes too. With nothing learned it is
/// exactly [`from_search`].
pub fn from_search_learned(
    engine: &SearchEngine,
    text: &str,
    hits: usize,
    rules: &[KeywordRule],
    learned: &crate::learning::Learned,
) -> Option<CategoryGuess> {
    if learned.is_empty() {
        return from_search(engine, text, hits, rules);
    }
    let found = engine.search(&SearchRequest {
        query: text,
        limit: hits.max(1),
        category: None,
    });
    let found =
        crate::learning::rerank(engine, found, &learned.articles, hits.max(1), None).results;
    let types = learned.ticket_types.scores(text, 3);
    categorize_with(text, &ranked(&found), rules, &types)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn the_articles_vote() {
        let a = types(&["card_arrival", "card_delivery_estimate"]);
        let b = types(&["card_delivery_estimate"]);
        let c = types(&["lost_or_stolen_card"]);
        let hit = |score, t: &'static [String]| RankedArticle {
            score,
            ticket_types: t,
        };
        // Leak for 'static in a test only.
        let (a, b, c): (&'static [String], &'static [String], &'static [String]) = (
            Box::leak(a.into_boxed_slice()),
            Box::leak(b.into_boxed_slice()),
            Box::leak(c.into_boxed_slice()),
        );
        // (ranked hits, expected type)
        let cases: Vec<(Vec<RankedArticle<'_>>, Option<&str>)> = vec![
            (vec![hit(10.0, a)], Some("card_arrival")),
            // Articles agreeing on the top one's second type tip the balance.
            (
                vec![hit(10.0, a), hit(10.0, b), hit(9.0, b)],
                Some("card_delivery_estimate"),
            ),
            // A weak second hit does not.
            (vec![hit(10.0, a), hit(2.0, b)], Some("card_arrival")),
            (vec![hit(10.0, c), hit(9.0, a)], Some("lost_or_stolen_card")),
            (vec![], None),
        ];
        for (ranked, want) in cases {
            let got = categorize("where is my card", &ranked, &[]);
            assert_eq!(got.as_ref().map(|g| g.ticket_type.as_str()), want);
            if let Some(g) = got {
                assert!(g.confidence > 0.0 && g.confidence <= 1.0, "{g:?}");
            }
        }
    }

    #[test]
    fn keyword_rules_outvote_the_articles() {
        let a: &'static [String] = Box::leak(types(&["card_arrival"]).into_boxed_slice());
        let ranked = [RankedArticle {
            score: 5.0,
            ticket_types: a,
        }];
        let rules = [KeywordRule {
            phrase: "chargeback".into(),
            ticket_type: "request_refund".into(),
            weight: 1.0,
        }];
        let g = categorize("I want a CHARGEBACK now", &ranked, &rules).expect("guess");
        assert_eq!(g.ticket_type, "request_refund");
        assert!(g.confidence > 0.5);
        let g = categorize("where is my card", &ranked, &rules).expect("guess");
        assert_eq!(g.ticket_type, "card_arrival");
        assert!((g.confidence - 1.0).abs() < 1e-9);
        // Rules alone decide when no article matched.
        let g = categorize("chargeback", &[], &rules).expect("guess");
        assert_eq!(g.ticket_type, "request_refund");
    }
}
