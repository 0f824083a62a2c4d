//! Search results with what was learned: the engine's hits re-ranked by the article model, and
//! articles the words alone missed added when the model is confident — the one place search,
//! autocomplete, the suggestion endpoint and triage apply learning.

use super::{BlendConfig, Model, blend};
use crate::search::{Hit, SearchEngine, SearchResults, snippet};

/// Results and, per result, the part of its score that learning added (0 when none).
#[derive(Debug, Clone)]
pub struct Reranked<'a> {
    pub results: SearchResults<'a>,
    pub learned: Vec<f32>,
}

/// Re-ranks `found` (the engine's results for its query) with `model`, keeping at most
/// `limit`. With an empty model the engine's results come back as they were, cut to `limit`.
pub fn rerank<'a>(
    engine: &'a SearchEngine,
    found: SearchResults<'a>,
    model: &Model,
    limit: usize,
    category: Option<&str>,
) -> Reranked<'a> {
    let scores = if model.is_empty() || found.query.trim().is_empty() {
        Vec::new()
    } else {
        model.scores(learned_text(&found), 10)
    };
    rerank_scored(engine, found, &scores, limit, category)
}

/// The wording the model is asked about: the corrected query when there is one.
pub fn learned_text<'r>(found: &'r SearchResults<'_>) -> &'r str {
    found.corrected_query.as_deref().unwrap_or(&found.query)
}

/// [`rerank`] with the model's scores for [`learned_text`] already at hand (best first).
pub fn rerank_scored<'a>(
    engine: &'a SearchEngine,
    mut found: SearchResults<'a>,
    scores: &[(&str, f32)],
    limit: usize,
    category: Option<&str>,
) -> Reranked<'a> {
    if scores.is_empty() {
        found.hits.truncate(limit);
        let learned = vec![0.0; found.hits.len()];
        return Reranked {
            results: found,
            learned,
        };
    }
    // The engine's own category filter: the folder or one below it, blank meaning none.
    let category = category.map(str::trim).filter(|c| !c.is_empty());
    let in_category = |slug: &str| {
        category.is_none_or(|c| {
            engine
                .article(slug)
                .is_some_and(|a| a.category_ancestors().any(|x| x == c))
        })
    };
    let learned: Vec<(&str, f32)> = scores
        .iter()
        .filter(|(slug, _)| in_category(slug))
        .map(|(s, p)| (*s, *p))
        .collect();
    let ranked: Vec<(&str, f32)> = found
        .hits
        .iter()
        .map(|h| (h.article.slug.as_str(), h.score))
        .collect();
    let blended = blend(
        &ranked,
        &learned,
        &BlendConfig {
            limit,
            ..BlendConfig::default()
        },
    );
    let mut hits = Vec::with_capacity(blended.len());
    let mut contributions = Vec::with_capacity(blended.len());
    for b in &blended {
        let hit = match found.hits.iter().find(|h| h.article.slug == b.slug) {
            Some(h) => Hit {
                article: h.article,
                score: b.score,
                snippet: h.snippet.clone(),
            },
            None => {
                let Some(article) = engine.article(b.slug) else {
                    continue;
                };
                // Recalled by learning alone: no words matched, so the summary is the snippet.
                let mut text = String::new();
                snippet::escape_html(&article.front.summary, &mut text);
                Hit {
                    article,
                    score: b.score,
                    snippet: text,
                }
            }
        };
        hits.push(hit);
        contributions.push(b.learned);
    }
    found.total = found.total.max(hits.len());
    found.hits = hits;
    Reranked {
        results: found,
        learned: contributions,
    }
}
