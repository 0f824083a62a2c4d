//! The suggestion decision: for a customer's message, answer with one article, suggest a few,
//! or hand off to a human — with a calibrated confidence, and never an article for small talk.
//!
//! The search engine ranks; this module weighs the evidence that the first article really
//! answers the message: how much of the message (by word rarity) the article contains, in its
//! strong fields too, how far it leads the second result, how many words had to be fixed or
//! were unknown to the knowledge base at all. A logistic model, fitted offline on labelled
//! questions (`examples/fit_suggest.rs`), turns that evidence into a probability.

mod evidence;
mod small_talk;

use serde::{Deserialize, Serialize};

use crate::content::Article;
use crate::learning::Model;
use crate::search::analysis;
use crate::search::{Hit, SearchEngine, SearchRequest};

pub use evidence::{COEFFICIENTS, Evidence, FEATURES, INTERCEPT};
#[cfg(test)]
use small_talk::looks_mashed;
pub use small_talk::{SmallTalk, small_talk};

/// `[suggest]` in deflect.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuggestConfig {
    /// Answer with the first article when the confidence is at least this.
    pub answer_threshold: f64,
    /// Below this, hand off instead of suggesting articles.
    pub suggest_threshold: f64,
    /// Articles listed with a suggestion (and under an answer).
    pub max_articles: usize,
    /// Customer tiers that skip the bot and go straight to a human.
    pub handoff_tiers: Vec<String>,
    /// How much an article gains when the page the widget is on names its category or a tag
    /// (0.2 = a 20 % higher score).
    pub page_boost: f32,
    /// Where the hand-off link points; the message is added as `subject` and `description`.
    pub contact_path: String,
    /// How far what traffic taught is trusted as evidence for the first article: a learned
    /// probability p removes `learned_trust × p² × matched` of the remaining doubt (at most
    /// all of it), where `matched` is the share of the message's words the article contains: a
    /// message about something else matches few words, whatever the model guesses, and p²
    /// lets only a confident model count. Measured with `deflect eval --warm`: higher answers
    /// more questions right, and more out-of-scope ones too.
    pub learned_trust: f64,
}

impl Default for SuggestConfig {
    fn default() -> Self {
        Self {
            answer_threshold: 0.75,
            suggest_threshold: 0.2,
            max_articles: 3,
            handoff_tiers: Vec::new(),
            page_boost: 0.2,
            contact_path: "/contact".into(),
            learned_trust: 1.4,
        }
    }
}

/// What the endpoint does with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Answer,
    Suggest,
    Handoff,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Answer => "answer",
            Action::Suggest => "suggest",
            Action::Handoff => "handoff",
        }
    }
}

/// Why nothing was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    Greeting,
    Thanks,
    AboutTheBot,
    Gibberish,
    /// Nothing in the knowledge base matched.
    NoMatch,
    /// Articles matched, but none well enough.
    LowConfidence,
    /// The customer's tier goes straight to a human.
    CustomerTier,
}

impl HandoffReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::Greeting => "greeting",
            HandoffReason::Thanks => "thanks",
            HandoffReason::AboutTheBot => "about_the_bot",
            HandoffReason::Gibberish => "gibberish",
            HandoffReason::NoMatch => "no_match",
            HandoffReason::LowConfidence => "low_confidence",
            HandoffReason::CustomerTier => "customer_tier",
        }
    }

    /// A friendly sentence for the customer.
    pub fn reply(self) -> &'static str {
        match self {
            HandoffReason::Greeting => {
                "Hi! Ask me a question about your account, cards or payments, in a sentence or two."
            }
            HandoffReason::Thanks => {
                "You're welcome! Ask another question any time, or talk to a person if you still need help."
            }
            HandoffReason::AboutTheBot => {
                "I'm an automated helper that searches our help articles. Ask a question, or talk to a person."
            }
            HandoffReason::Gibberish => {
                "Sorry, I didn't understand that. Could you rephrase your question, or talk to a person?"
            }
            HandoffReason::NoMatch | HandoffReason::LowConfidence => {
                "I couldn't find an article that answers this. Try rephrasing, or talk to a person."
            }
            HandoffReason::CustomerTier => "A member of our team will help you with this.",
        }
    }
}

/// A result with its score after the page context's bias.
#[derive(Debug, Clone)]
pub struct Scored<'a> {
    pub hit: Hit<'a>,
    pub score: f32,
}

/// Where the widget is and who the customer is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// The page (path or URL) the widget is on; articles whose category or tags it names rank higher.
    pub page: Option<String>,
    /// The customer's plan, e.g. `enterprise`; some tiers go straight to a human.
    pub customer_tier: Option<String>,
}

/// The decision for one message.
#[derive(Debug, Clone)]
pub struct Suggestion<'a> {
    pub action: Action,
    pub confidence: f64,
    pub evidence: Evidence,
    pub handoff: Option<HandoffReason>,
    /// The answer first (for `answer`), then the other articles worth reading, best first.
    pub articles: Vec<&'a Article>,
    /// The first result, whatever the action: what the confidence is about.
    pub top: Option<&'a Article>,
}

/// The decision, from the evidence alone.
pub fn decide(
    evidence: &Evidence,
    talk: Option<SmallTalk>,
    tier_handoff: bool,
    cfg: &SuggestConfig,
) -> (Action, f64, Option<HandoffReason>) {
    if let Some(t) = talk {
        let reason = match t {
            SmallTalk::Greeting => HandoffReason::Greeting,
            SmallTalk::Thanks => HandoffReason::Thanks,
            SmallTalk::AboutTheBot => HandoffReason::AboutTheBot,
            SmallTalk::Gibberish => HandoffReason::Gibberish,
        };
        return (Action::Handoff, 0.0, Some(reason));
    }
    let confidence = evidence.confidence();
    if tier_handoff {
        return (
            Action::Handoff,
            confidence,
            Some(HandoffReason::CustomerTier),
        );
    }
    if evidence.hits == 0 || evidence.matched == 0.0 {
        return (Action::Handoff, confidence, Some(HandoffReason::NoMatch));
    }
    if confidence >= cfg.answer_threshold {
        (Action::Answer, confidence, None)
    } else if confidence >= cfg.suggest_threshold {
        (Action::Suggest, confidence, None)
    } else {
        (
            Action::Handoff,
            confidence,
            Some(HandoffReason::LowConfidence),
        )
    }
}

/// Does `page` name the article's category (any level) or one of its tags?
fn page_names(page: &[String], a: &Article) -> bool {
    let named = |s: &str| {
        let words: Vec<String> = analysis::words(s).into_iter().map(|w| w.text).collect();
        !words.is_empty() && page.windows(words.len()).any(|win| win == words.as_slice())
    };
    a.category.split('/').filter(|c| !c.is_empty()).any(named)
        || a.front.tags.iter().any(|t| named(t))
}

/// Searches the message and decides.
pub fn suggest<'a>(
    engine: &'a SearchEngine,
    message: &str,
    ctx: &Context,
    cfg: &SuggestConfig,
) -> Suggestion<'a> {
    suggest_learned(engine, message, ctx, cfg, &Model::empty())
}

/// [`suggest`] with what traffic taught: `model` re-ranks the articles and its probability for
/// the first one is evidence for the confidence. An empty model answers exactly as [`suggest`].
pub fn suggest_learned<'a>(
    engine: &'a SearchEngine,
    message: &str,
    ctx: &Context,
    cfg: &SuggestConfig,
    model: &Model,
) -> Suggestion<'a> {
    let learning = !model.is_empty();
    let (found, plan) = engine.search_with_plan(&SearchRequest {
        query: message,
        limit: 10,
        category: None,
    });
    // The evidence model was fitted on the engine's scores: keep them to judge the re-ranked
    // first article (a learned score's lead over the second is not the words' evidence).
    let mut engine_scores: std::collections::HashMap<&'a str, f32> = Default::default();
    // The model's scores for the message, asked once (twice only when the engine corrected it).
    let mut message_scores = Vec::new();
    let found = if learning {
        engine_scores = found
            .hits
            .iter()
            .map(|h| (h.article.slug.as_str(), h.score))
            .collect();
        let text = crate::learning::learned_text(&found);
        let scores = model.scores(text, 10);
        message_scores = if text == message {
            scores.iter().take(3).copied().collect()
        } else {
            model.scores(message, 3)
        };
        crate::learning::rerank_scored(engine, found, &scores, 10, None).results
    } else {
        found
    };
    let page: Vec<String> = ctx
        .page
        .as_deref()
        .map(|p| analysis::words(p).into_iter().map(|w| w.text).collect())
        .unwrap_or_default();
    let mut hits: Vec<Scored<'a>> = found
        .hits
        .into_iter()
        .map(|hit| {
            let bias = if !page.is_empty() && page_names(&page, hit.article) {
                1.0 + cfg.page_boost.max(0.0)
            } else {
                1.0
            };
            Scored {
                score: hit.score * bias,
                hit,
            }
        })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    let talk = small_talk(&plan);
    let mut evidence = if learning {
        let by_words: Vec<Scored<'a>> = hits
            .iter()
            .map(|s| Scored {
                hit: s.hit.clone(),
                score: engine_scores
                    .get(s.hit.article.slug.as_str())
                    .copied()
                    .unwrap_or(0.0),
            })
            .collect();
        Evidence::of(&plan, &by_words, engine)
    } else {
        Evidence::of(&plan, &hits, engine)
    };
    if learning && let Some(top) = hits.first() {
        let p = message_scores
            .iter()
            .find(|(slug, _)| *slug == top.hit.article.slug)
            .map_or(0.0, |(_, p)| f64::from(*p));
        evidence.learned = cfg.learned_trust * p * p * evidence.matched.clamp(0.0, 1.0);
    }
    let tier_handoff = ctx.customer_tier.as_deref().is_some_and(|t| {
        cfg.handoff_tiers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(t.trim()))
    });
    let (action, confidence, handoff) = decide(&evidence, talk, tier_handoff, cfg);
    let articles = match handoff {
        // Small talk never shows articles; a weak match may still list what came closest.
        Some(
            HandoffReason::Greeting
            | HandoffReason::Thanks
            | HandoffReason::AboutTheBot
            | HandoffReason::Gibberish
            | HandoffReason::NoMatch,
        ) => Vec::new(),
        _ => hits
            .iter()
            .take(cfg.max_articles)
            .map(|s| s.hit.article)
            .collect(),
    };
    Suggestion {
        action,
        confidence,
        evidence,
        handoff,
        articles,
        top: hits.first().map(|s| s.hit.article),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::QueryPlan;
    use crate::search::synonyms::SynonymMap;
    use crate::search::vocabulary::Vocabulary;
    use std::collections::HashMap;

    fn evidence(matched: f64, margin: f64, unknown: f64, hits: usize) -> Evidence {
        Evidence {
            content_words: 4,
            matched,
            strong: matched,
            fuzzy: 0.0,
            unknown,
            margin,
            second_agrees: false,
            hits,
            learned: 0.0,
        }
    }

    #[test]
    fn decisions_follow_the_evidence() {
        let cfg = SuggestConfig::default();
        let strong = evidence(1.0, 0.6, 0.0, 5);
        let close = evidence(0.6, 0.05, 0.0, 5);
        let nothing = evidence(0.0, 1.0, 1.0, 0);
        let foreign = evidence(0.2, 0.1, 0.75, 3);
        type Case = (
            &'static str,
            Evidence,
            Option<SmallTalk>,
            bool,
            Action,
            Option<HandoffReason>,
        );
        let cases: &[Case] = &[
            ("clear match", strong, None, false, Action::Answer, None),
            ("close call", close, None, false, Action::Suggest, None),
            (
                "no results",
                nothing,
                None,
                false,
                Action::Handoff,
                Some(HandoffReason::NoMatch),
            ),
            (
                "mostly unknown words",
                foreign,
                None,
                false,
                Action::Handoff,
                Some(HandoffReason::LowConfidence),
            ),
            (
                "greeting beats a match",
                strong,
                Some(SmallTalk::Greeting),
                false,
                Action::Handoff,
                Some(HandoffReason::Greeting),
            ),
            (
                "thanks",
                strong,
                Some(SmallTalk::Thanks),
                false,
                Action::Handoff,
                Some(HandoffReason::Thanks),
            ),
            (
                "gibberish",
                nothing,
                Some(SmallTalk::Gibberish),
                false,
                Action::Handoff,
                Some(HandoffReason::Gibberish),
            ),
            (
                "tier skips the bot",
                strong,
                None,
                true,
                Action::Handoff,
                Some(HandoffReason::CustomerTier),
            ),
        ];
        for (name, e, talk, tier, action, reason) in cases {
            let (a, c, r) = decide(e, *talk, *tier, &cfg);
            assert_eq!((a, r), (*action, *reason), "{name}: confidence {c}");
            assert!((0.0..=1.0).contains(&c), "{name}: {c}");
        }
    }

    #[test]
    fn confidence_grows_with_each_kind_of_evidence() {
        let base = evidence(0.6, 0.2, 0.0, 5);
        let c = base.confidence();
        for (name, better) in [
            (
                "more matched",
                Evidence {
                    matched: 0.9,
                    ..base
                },
            ),
            (
                "bigger margin",
                Evidence {
                    margin: 0.6,
                    ..base
                },
            ),
            (
                "second agrees",
                Evidence {
                    second_agrees: true,
                    ..base
                },
            ),
        ] {
            assert!(
                better.confidence() > c,
                "{name}: {} <= {c}",
                better.confidence()
            );
        }
        for (name, worse) in [
            (
                "unknown words",
                Evidence {
                    unknown: 0.5,
                    ..base
                },
            ),
            ("only fuzzy", Evidence { fuzzy: 1.0, ..base }),
        ] {
            assert!(
                worse.confidence() < c,
                "{name}: {} >= {c}",
                worse.confidence()
            );
        }
        assert_eq!(Evidence::default().confidence(), 0.0);
    }

    #[test]
    fn thresholds_are_configurable() {
        let e = evidence(0.6, 0.05, 0.0, 5);
        let c = e.confidence();
        let eager = SuggestConfig {
            answer_threshold: c - 0.01,
            ..SuggestConfig::default()
        };
        assert_eq!(decide(&e, None, false, &eager).0, Action::Answer);
        let shy = SuggestConfig {
            suggest_threshold: c + 0.01,
            answer_threshold: 0.99,
            ..SuggestConfig::default()
        };
        assert_eq!(decide(&e, None, false, &shy).0, Action::Handoff);
    }

    fn plan(text: &str, known: &[&str]) -> QueryPlan {
        let words: HashMap<String, u32> = known.iter().map(|w| ((*w).to_string(), 1)).collect();
        let stems = known.iter().map(|w| analysis::stem(w)).collect();
        QueryPlan::new(text, &Vocabulary::new(words, stems), &SynonymMap::default())
    }

    #[test]
    fn small_talk_is_recognised() {
        let known = ["card", "arrive", "robot", "transfer", "thanks"];
        let cases: &[(&str, Option<SmallTalk>)] = &[
            ("hi", Some(SmallTalk::Greeting)),
            ("Hello there!", Some(SmallTalk::Greeting)),
            ("good morning", Some(SmallTalk::Greeting)),
            ("thanks", Some(SmallTalk::Thanks)),
            ("Thank you so much", Some(SmallTalk::Thanks)),
            ("are you a robot?", Some(SmallTalk::AboutTheBot)),
            ("am I talking to a real person", None),
            ("asdfgh", Some(SmallTalk::Gibberish)),
            ("qwrtzp kjhgf", Some(SmallTalk::Gibberish)),
            ("", Some(SmallTalk::Gibberish)),
            ("hi, my card did not arrive", None),
            ("thanks, but how do I transfer money", None),
            ("what's the weather in Paris", None),
        ];
        for (text, want) in cases {
            assert_eq!(small_talk(&plan(text, &known)), *want, "{text:?}");
        }
    }

    #[test]
    fn mashed_words_are_not_real_words() {
        for w in ["asdfgh", "qwerty", "xkcdq", "zzzz", "hjklm"] {
            assert!(looks_mashed(w), "{w}");
        }
        for w in ["card", "strength", "transfer", "rhythm2", "pin"] {
            assert!(!looks_mashed(w), "{w}");
        }
    }
}
