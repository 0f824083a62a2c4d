//! The "learned phrasings" view for the KB manager: per article, the customer wordings that
//! now lead to it, and the ones drifting towards a different article — often a sign that two
//! articles overlap or that one is missing.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::signals::same_wording;
use super::{Example, Model, rerank};
use crate::search::{SearchEngine, SearchRequest};

/// One wording customers used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phrasing {
    pub wording: String,
    /// Distinct sessions behind it.
    pub sessions: usize,
    /// Its net evidence for the article (after the session cap, before decay).
    pub weight: f32,
    /// The first result from the words alone.
    pub engine_first: Option<String>,
    /// The first result with learning.
    pub learned_first: Option<String>,
    /// For a drifting wording: the other article it goes to.
    pub towards: Option<String>,
}

/// One article's learned wordings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticlePhrasings {
    pub slug: String,
    pub title: String,
    /// Wordings whose evidence points here and that learning now answers with this article.
    pub leading: Vec<Phrasing>,
    /// Wordings whose evidence points here but whose first result is another article, or whose
    /// evidence is split with another article.
    pub drifting: Vec<Phrasing>,
}

/// Per article: net weight and the sessions behind it.
type Evidence<'a> = HashMap<&'a str, (f32, HashSet<&'a str>)>;

/// Wordings looked at, the most evidenced first (each costs two searches).
const MAX_WORDINGS: usize = 400;
/// A second article with at least this share of the first's evidence makes a wording drift.
const SPLIT: f32 = 0.5;

/// The learned phrasings, articles with the most evidence first, at most `per_article`
/// wordings of each kind per article.
pub fn phrasings(
    examples: &[Example],
    model: &Model,
    engine: &SearchEngine,
    per_article: usize,
) -> Vec<ArticlePhrasings> {
    // wording (as first seen) → label → (weight, sessions)
    let mut by_wording: Vec<(String, Evidence<'_>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for e in examples.iter().filter(|e| e.weight > 0.0) {
        let key = crate::search::analysis::normalize(&e.text);
        if key.is_empty() {
            continue;
        }
        let i = *index.entry(key).or_insert_with(|| {
            by_wording.push((e.text.trim().to_string(), HashMap::new()));
            by_wording.len() - 1
        });
        let slot = by_wording[i].1.entry(e.label.as_str()).or_default();
        slot.0 += e.weight;
        slot.1.insert(e.session.as_str());
    }
    let total = |m: &Evidence<'_>| m.values().map(|v| v.0).sum::<f32>();
    by_wording.sort_by(|a, b| total(&b.1).total_cmp(&total(&a.1)).then(a.0.cmp(&b.0)));
    by_wording.truncate(MAX_WORDINGS);

    let mut out: BTreeMap<String, ArticlePhrasings> = BTreeMap::new();
    for (wording, labels) in &by_wording {
        let mut ranked: Vec<(&str, f32, usize)> =
            labels.iter().map(|(l, (w, s))| (*l, *w, s.len())).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let Some(&(slug, weight, sessions)) = ranked.first() else {
            continue;
        };
        let Some(article) = engine.article(slug) else {
            continue;
        };
        let req = SearchRequest {
            query: wording,
            limit: 20,
            category: None,
        };
        let found = engine.search(&req);
        let engine_first = found.hits.first().map(|h| h.article.slug.clone());
        let learned_first = rerank(engine, found, model, 1, None)
            .results
            .hits
            .first()
            .map(|h| h.article.slug.clone());
        let split = ranked
            .get(1)
            .filter(|second| second.1 >= SPLIT * weight)
            .map(|second| second.0.to_string());
        let towards = match &learned_first {
            Some(first) if first != slug => Some(first.clone()),
            _ => split,
        };
        let entry = out
            .entry(slug.to_string())
            .or_insert_with(|| ArticlePhrasings {
                slug: slug.to_string(),
                title: article.front.title.clone(),
                leading: Vec::new(),
                drifting: Vec::new(),
            });
        let p = Phrasing {
            wording: wording.clone(),
            sessions,
            weight,
            engine_first,
            learned_first,
            towards: towards.clone(),
        };
        let list = if towards.is_some() {
            &mut entry.drifting
        } else {
            &mut entry.leading
        };
        if list.len() < per_article && !list.iter().any(|q| same_wording(&q.wording, wording)) {
            list.push(p);
        }
    }
    let mut v: Vec<ArticlePhrasings> = out.into_values().collect();
    let evidence = |a: &ArticlePhrasings| -> f32 {
        a.leading.iter().chain(&a.drifting).map(|p| p.weight).sum()
    };
    v.sort_by(|a, b| {
        evidence(b)
            .total_cmp(&evidence(a))
            .then(a.slug.cmp(&b.slug))
    });
    v
}
