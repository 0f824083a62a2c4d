//! How learned scores combine with the search engine's ranked hits: a re-ranking
//! (`engine score / best engine score + λ · learned probability`) plus recall of articles the
//! words alone missed when the model is confident; with nothing learned, the engine's ranking
//! is returned untouched.

use std::collections::HashMap;

/// How much the learned model may change a ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlendConfig {
    /// λ: a learned probability of 1 is worth this many "best engine scores".
    pub learned_weight: f32,
    /// An article the engine did not return is added only at this learned probability or more.
    pub recall_min: f32,
    /// The most results returned.
    pub limit: usize,
}

impl Default for BlendConfig {
    fn default() -> Self {
        Self {
            learned_weight: 8.0,
            recall_min: 0.3,
            limit: crate::search::DEFAULT_LIMIT,
        }
    }
}

/// One blended result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blended<'a> {
    pub slug: &'a str,
    /// What the result is ranked by.
    pub score: f32,
    /// The part of `score` the learned model added (λ · probability), for explaining rankings.
    pub learned: f32,
}

/// Re-ranks `engine` hits (slug, score; best first) with `learned` (slug, probability).
///
/// With no learned scores the engine's hits come back in its order with its scores, so an
/// empty model changes nothing (cold start). Otherwise engine scores are divided by the best
/// one, so λ means the same on every query whatever the engine's scale.
pub fn blend<'a>(
    engine: &[(&'a str, f32)],
    learned: &[(&'a str, f32)],
    cfg: &BlendConfig,
) -> Vec<Blended<'a>> {
    if learned.is_empty() {
        return engine
            .iter()
            .take(cfg.limit)
            .map(|(slug, score)| Blended {
                slug,
                score: *score,
                learned: 0.0,
            })
            .collect();
    }
    let best = engine
        .iter()
        .map(|h| h.1)
        .fold(0.0f32, f32::max)
        .max(f32::MIN_POSITIVE);
    let probs: HashMap<&str, f32> = learned.iter().map(|(s, p)| (*s, *p)).collect();
    let mut out: Vec<Blended<'a>> = engine
        .iter()
        .map(|(slug, score)| {
            let learned = cfg.learned_weight * probs.get(slug).copied().unwrap_or(0.0);
            Blended {
                slug,
                score: score / best + learned,
                learned,
            }
        })
        .collect();
    for (slug, p) in learned {
        if *p >= cfg.recall_min && !engine.iter().any(|h| h.0 == *slug) {
            let learned = cfg.learned_weight * p;
            out.push(Blended {
                slug,
                score: learned,
                learned,
            });
        }
    }
    // Stable: ties keep the engine's order.
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(cfg.limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGINE: &[(&str, f32)] = &[("a", 9.0), ("b", 7.5), ("c", 7.5), ("d", 1.0)];

    fn slugs(v: &[Blended<'_>]) -> Vec<String> {
        v.iter().map(|b| b.slug.to_string()).collect()
    }

    #[test]
    fn empty_model_returns_the_engine_ranking_unchanged() {
        let out = blend(ENGINE, &[], &BlendConfig::default());
        let back: Vec<(&str, f32)> = out.iter().map(|b| (b.slug, b.score)).collect();
        assert_eq!(back, ENGINE);
        assert!(out.iter().all(|b| b.learned == 0.0));
        assert!(blend(&[], &[], &BlendConfig::default()).is_empty());
    }

    #[test]
    fn learned_scores_rerank_and_recall() {
        let cfg = BlendConfig {
            learned_weight: 1.0,
            recall_min: 0.3,
            limit: 10,
        };
        for (learned, want) in [
            // Weak evidence keeps the order.
            (vec![("c", 0.05)], vec!["a", "c", "b", "d"]),
            // Strong evidence lifts an article to the top.
            (vec![("d", 0.9)], vec!["d", "a", "b", "c"]),
            // A confident article the engine missed is added; an unconfident one is not.
            (vec![("z", 0.6), ("y", 0.2)], vec!["a", "b", "c", "z", "d"]),
        ] {
            let out = blend(ENGINE, &learned, &cfg);
            assert_eq!(slugs(&out), want, "{learned:?}");
        }
    }

    #[test]
    fn limit_applies_and_contribution_is_reported() {
        let cfg = BlendConfig {
            learned_weight: 2.0,
            recall_min: 0.5,
            limit: 2,
        };
        let out = blend(ENGINE, &[("b", 0.5)], &cfg);
        assert_eq!(slugs(&out), ["b", "a"]);
        assert!((out[0].learned - 1.0).abs() < 1e-6);
    }
}
