//! The learned model: from weighted behavioural examples (a wording and the label that answered
//! it, or did not) to a sparse linear softmax classifier over any label space — article slugs
//! for search, ticket type ids for triage — with decay, per-client caps and a minimum number of
//! distinct clients per label so no one session or client can move it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::features::{self, FeatureSpace, SparseVec};

/// One piece of evidence: people who worded things like `text` were (weight > 0) or were not
/// (weight < 0) answered by `label`.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: String,
    /// How strong the evidence is, before decay and caps; negative for "did not answer".
    pub weight: f32,
    pub session: String,
    pub client: String,
    pub at: DateTime<Utc>,
}

/// How examples become a model.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Evidence loses half its weight every this many days.
    pub half_life_days: f64,
    /// A label is learned only once this many distinct clients gave positive evidence for it.
    pub min_support: u32,
    /// The most absolute weight (after decay) one client can give one label, and give in all:
    /// a client replaying a thousand sessions weighs like one.
    pub per_client_cap: f32,
    /// Ages are measured from this instant.
    pub now: DateTime<Utc>,
    /// Passes over the examples.
    pub epochs: u32,
    /// Besides the true label, each update touches only the labels currently scoring highest,
    /// which keeps every feature's weights a short list.
    pub competitors: usize,
    pub learning_rate: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            half_life_days: 60.0,
            min_support: 3,
            per_client_cap: 3.0,
            now: Utc::now(),
            epochs: 6,
            competitors: 6,
            learning_rate: 2.0,
        }
    }
}

/// What a model was trained from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ModelStats {
    /// Examples that counted (non-zero weight, supported label).
    pub examples: usize,
    pub sessions: usize,
    pub clients: usize,
    /// Labels the model can return.
    pub labels: usize,
    /// Labels seen with too few distinct clients behind them.
    pub unsupported_labels: usize,
    pub features: usize,
    pub took: Duration,
}

/// A label's weight on one feature, with the running sum used for averaging.
#[derive(Debug, Clone, Copy)]
struct Cell {
    label: u32,
    weight: f32,
    /// Σ step·update, so the averaged weight is `weight - sum / steps` (averaged SGD).
    sum: f32,
}

/// A trained model; immutable, `Send + Sync`, share it with an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct Model {
    space: FeatureSpace,
    labels: Vec<String>,
    /// Per feature id: the labels it has a weight for.
    weights: Vec<Vec<(u32, f32)>>,
    bias: Vec<f32>,
    stats: ModelStats,
}

/// `weight · 0.5^(age / half-life)`; evidence from the future (clock skew) is not boosted.
pub fn decayed(weight: f32, at: DateTime<Utc>, now: DateTime<Utc>, half_life_days: f64) -> f32 {
    let age_days = (now - at).num_seconds().max(0) as f64 / 86_400.0;
    if half_life_days <= 0.0 {
        return weight;
    }
    weight * 0.5f64.powf(age_days / half_life_days) as f32
}

/// Each example's weight after decay and the per-(client, label) and per-client caps.
fn effective_weights(examples: &[Example], cfg: &TrainConfig) -> Vec<f32> {
    let decayed: Vec<f32> = examples
        .iter()
        .map(|e| decayed(e.weight, e.at, cfg.now, cfg.half_life_days))
        .collect();
    let cap = cfg.per_client_cap.max(0.0);
    let mut per_label: HashMap<(&str, &str), f32> = HashMap::new();
    for (e, w) in examples.iter().zip(&decayed) {
        *per_label.entry((&e.client, &e.label)).or_default() += w.abs();
    }
    let scale = |total: f32| if total > cap { cap / total } else { 1.0 };
    let capped: Vec<f32> = examples
        .iter()
        .zip(&decayed)
        .map(|(e, w)| w * scale(per_label[&(e.client.as_str(), e.label.as_str())]))
        .collect();
    let mut per_client: HashMap<&str, f32> = HashMap::new();
    for (e, w) in examples.iter().zip(&capped) {
        *per_client.entry(&e.client).or_default() += w.abs();
    }
    examples
        .iter()
        .zip(capped)
        .map(|(e, w)| w * scale(per_client[e.client.as_str()]))
        .collect()
}

/// Raw features of many texts, on every available core.
fn raw_all(texts: &[&str]) -> Vec<Vec<(u64, f32)>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = texts.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|t| features::raw(t)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// A small deterministic generator for the training order (xorshift64*).
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// One training row: features, label index, effective weight.
struct Row {
    x: SparseVec,
    label: u32,
    weight: f32,
}

impl Model {
    /// A model that knows nothing: `scores` is always empty.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn stats(&self) -> &ModelStats {
        &self.stats
    }

    /// The labels the model can return.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Trains a model; examples with unsupported labels or no weight left are ignored.
    pub fn train(examples: &[Example], cfg: &TrainConfig) -> Self {
        let started = Instant::now();
        let weights = effective_weights(examples, cfg);
        // Distinct clients with positive evidence per label.
        let mut backers: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (e, w) in examples.iter().zip(&weights) {
            if *w > 0.0 {
                backers.entry(&e.label).or_default().insert(&e.client);
            }
        }
        let mut labels: Vec<String> = backers
            .iter()
            .filter(|(_, c)| c.len() as u64 >= u64::from(cfg.min_support.max(1)))
            .map(|(l, _)| (*l).to_string())
            .collect();
        labels.sort_unstable();
        let unsupported_labels = backers.len() - labels.len();
        let label_ids: HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let kept: Vec<(usize, u32)> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| weights[*i] != 0.0)
            .filter_map(|(i, e)| Some((i, *label_ids.get(e.label.as_str())?)))
            .collect();
        let mut client_ids: HashMap<&str, u32> = HashMap::new();
        let mut sessions: HashSet<&str> = HashSet::new();
        for (i, _) in &kept {
            let next = client_ids.len() as u32;
            client_ids.entry(&examples[*i].client).or_insert(next);
            sessions.insert(&examples[*i].session);
        }
        let texts: Vec<&str> = kept
            .iter()
            .map(|(i, _)| examples[*i].text.as_str())
            .collect();
        let raw = raw_all(&texts);
        let by_client: Vec<(u32, Vec<(u64, f32)>)> = kept
            .iter()
            .zip(raw)
            .map(|((i, _), r)| (client_ids[examples[*i].client.as_str()], r))
            .collect();
        let space = FeatureSpace::fit(&by_client);
        let rows: Vec<Row> = kept
            .iter()
            .zip(&by_client)
            .map(|((i, label), (_, r))| Row {
                x: space.vectorize(r),
                label: *label,
                weight: weights[*i],
            })
            .filter(|r| !r.x.is_empty())
            .collect();
        let mut model = Self {
            weights: Vec::new(),
            bias: vec![0.0; labels.len()],
            labels,
            stats: ModelStats {
                examples: rows.len(),
                sessions: sessions.len(),
                clients: client_ids.len(),
                unsupported_labels,
                features: space.len(),
                ..ModelStats::default()
            },
            space,
        };
        model.fit(&rows, cfg);
        model.stats.labels = model.labels.len();
        model.stats.took = started.elapsed();
        model
    }

    /// Averaged SGD on the softmax loss restricted to the true label and the current
    /// highest-scoring competitors. A negative example minimizes −log(1 − p(label)): it pushes
    /// its label down without saying which label is right instead.
    fn fit(&mut self, rows: &[Row], cfg: &TrainConfig) {
        let n_labels = self.labels.len();
        if n_labels == 0 || rows.is_empty() {
            return;
        }
        let mut cells: Vec<Vec<Cell>> = vec![Vec::new(); self.space.len()];
        let mut bias = vec![(0.0f32, 0.0f32); n_labels];
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut rng = Shuffle(0x9e37_79b9_7f4a_7c15);
        let mut scores = vec![0.0f32; n_labels];
        let mut slot = vec![usize::MAX; n_labels];
        let mut cands: Vec<u32> = Vec::with_capacity(cfg.competitors + 1);
        let mut grads: Vec<f32> = Vec::with_capacity(cfg.competitors + 1);
        let mut step = 1.0f32;
        for _ in 0..cfg.epochs.max(1) {
            rng.shuffle(&mut order);
            for &r in &order {
                let row = &rows[r];
                for (s, b) in scores.iter_mut().zip(&bias) {
                    *s = b.0;
                }
                for &(f, v) in &row.x {
                    for c in &cells[f as usize] {
                        scores[c.label as usize] += c.weight * v;
                    }
                }
                // The candidates: the label itself and its strongest competitors.
                cands.clear();
                cands.push(row.label);
                let mut others: Vec<u32> =
                    (0..n_labels as u32).filter(|l| *l != row.label).collect();
                // At most 62 competitors: `seen` below is a 64-bit mask of candidates.
                let k = cfg.competitors.min(62).min(others.len());
                if k > 0 && k < others.len() {
                    others.select_nth_unstable_by(k - 1, |a, b| {
                        scores[*b as usize].total_cmp(&scores[*a as usize])
                    });
                }
                cands.extend_from_slice(&others[..k]);
                let top = cands
                    .iter()
                    .map(|l| scores[*l as usize])
                    .fold(f32::NEG_INFINITY, f32::max);
                let z: f32 = cands
                    .iter()
                    .map(|l| (scores[*l as usize] - top).exp())
                    .sum();
                let p = |l: u32| (scores[l as usize] - top).exp() / z;
                let p_y = p(row.label);
                grads.clear();
                if row.weight > 0.0 {
                    for &l in &cands {
                        let target = if l == row.label { 1.0 } else { 0.0 };
                        grads.push(row.weight * (p(l) - target));
                    }
                } else {
                    let a = -row.weight;
                    let rest = (1.0 - p_y).max(1e-3);
                    for &l in &cands {
                        grads.push(if l == row.label {
                            a * p_y
                        } else {
                            -a * p_y * p(l) / rest
                        });
                    }
                }
                let lr = cfg.learning_rate;
                for (i, &l) in cands.iter().enumerate() {
                    slot[l as usize] = i;
                    let d = -lr * grads[i] * 0.1;
                    bias[l as usize].0 += d;
                    bias[l as usize].1 += step * d;
                }
                for &(f, v) in &row.x {
                    let list = &mut cells[f as usize];
                    let mut seen = 0u64;
                    for c in list.iter_mut() {
                        let i = slot[c.label as usize];
                        if i != usize::MAX {
                            let d = -lr * grads[i] * v;
                            c.weight += d;
                            c.sum += step * d;
                            seen |= 1 << i.min(63);
                        }
                    }
                    for (i, &l) in cands.iter().enumerate() {
                        let g = grads[i];
                        if seen & (1 << i.min(63)) == 0 && g.abs() > 1e-6 {
                            let d = -lr * g * v;
                            list.push(Cell {
                                label: l,
                                weight: d,
                                sum: step * d,
                            });
                        }
                    }
                }
                for &l in &cands {
                    slot[l as usize] = usize::MAX;
                }
                step += 1.0;
            }
        }
        self.bias = bias.iter().map(|(w, s)| w - s / step).collect();
        self.weights = cells
            .into_iter()
            .map(|list| {
                list.into_iter()
                    .map(|c| (c.label, c.weight - c.sum / step))
                    .filter(|(_, w)| w.abs() > 1e-5)
                    .collect()
            })
            .collect();
    }

    /// The `k` best labels for a text with their softmax probabilities, best first. Empty when
    /// the model knows nothing or none of the text's features: no evidence, no opinion.
    pub fn scores(&self, text: &str, k: usize) -> Vec<(&str, f32)> {
        if self.is_empty() || k == 0 {
            return Vec::new();
        }
        let x = self.space.features(text);
        if x.is_empty() {
            return Vec::new();
        }
        let mut s = self.bias.clone();
        for (f, v) in x {
            for (l, w) in &self.weights[f as usize] {
                s[*l as usize] += w * v;
            }
        }
        let top = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z: f32 = s.iter().map(|v| (v - top).exp()).sum();
        let mut out: Vec<(&str, f32)> = self
            .labels
            .iter()
            .zip(&s)
            .map(|(l, v)| (l.as_str(), (v - top).exp() / z))
            .collect();
        let k = k.min(out.len());
        out.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        out.truncate(k);
        out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn ex(text: &str, label: &str, weight: f32, client: &str) -> Example {
        Example {
            text: text.into(),
            label: label.into(),
            weight,
            session: format!("s-{client}"),
            client: client.into(),
            at: now(),
        }
    }

    fn cfg(min_support: u32) -> TrainConfig {
        TrainConfig {
            min_support,
            now: now(),
            ..TrainConfig::default()
        }
    }

    /// Several distinct clients each giving the same evidence once.
    fn crowd(text: &str, label: &str, clients: usize, tag: &str) -> Vec<Example> {
        (0..clients)
            .map(|i| ex(text, label, 1.0, &format!("{tag}{i}")))
            .collect()
    }

    fn first<'a>(m: &'a Model, text: &str) -> Option<&'a str> {
        m.scores(text, 1).first().map(|s| s.0)
    }

    fn prob(m: &Model, text: &str, label: &str) -> f32 {
        m.scores(text, 100)
            .iter()
            .find(|s| s.0 == label)
            .map_or(0.0, |s| s.1)
    }

    #[test]
    fn decay_halves_weight_at_each_half_life() {
        for (age_days, half_life, want) in [
            (0, 30.0, 1.0),
            (30, 30.0, 0.5),
            (60, 30.0, 0.25),
            (-5, 30.0, 1.0),
            (10, 0.0, 1.0),
        ] {
            let at = now() - chrono::Duration::days(age_days);
            let got = decayed(1.0, at, now(), half_life);
            assert!((got - want).abs() < 1e-6, "{age_days} {half_life}: {got}");
        }
    }

    #[test]
    fn one_client_with_a_thousand_examples_counts_like_one() {
        let mut examples: Vec<Example> = (0..1000)
            .map(|_| ex("card not arrived", "spam", 1.0, "hammer"))
            .collect();
        examples.extend(crowd("card not arrived", "card-arrival", 5, "c"));
        let w = effective_weights(&examples, &cfg(1));
        let hammer: f32 = w[..1000].iter().sum();
        let cap = cfg(1).per_client_cap;
        assert!((hammer - cap).abs() < 1e-3, "{hammer}");
        let m = Model::train(&examples, &cfg(1));
        assert_eq!(first(&m, "card not arrived"), Some("card-arrival"));
    }

    #[test]
    fn per_client_cap_spans_labels() {
        // One client spreading 100 examples over 100 labels still gives `cap` in all.
        let examples: Vec<Example> = (0..100)
            .map(|i| ex("anything", &format!("l{i}"), 1.0, "wide"))
            .collect();
        let total: f32 = effective_weights(&examples, &cfg(1)).iter().sum();
        assert!((total - cfg(1).per_client_cap).abs() < 1e-3, "{total}");
    }

    #[test]
    fn labels_need_min_support_distinct_clients() {
        for (clients, min_support, learned) in [(2, 3, false), (3, 3, true), (1, 1, true)] {
            let mut examples = crowd("reset my passcode", "passcode", clients, "c");
            examples.extend(crowd("top up failed", "top-up", 5, "d"));
            // Sessions of one client do not add support.
            examples.extend((0..10).map(|_| ex("reset my passcode", "passcode", 1.0, "c0")));
            let m = Model::train(&examples, &cfg(min_support));
            let has = m.labels().iter().any(|l| l == "passcode");
            assert_eq!(has, learned, "{clients} clients, min {min_support}");
        }
    }

    #[test]
    fn negative_evidence_lowers_a_label() {
        let mut base = crowd("exchange rate fee", "exchange-rate", 5, "a");
        base.extend(crowd("exchange rate fee", "exchange-fee", 5, "b"));
        base.extend(crowd("card arrived late", "card-arrival", 5, "c"));
        let before = Model::train(&base, &cfg(1));
        let mut with_negatives = base.clone();
        with_negatives.extend(
            (0..5).map(|i| ex("exchange rate fee", "exchange-rate", -0.5, &format!("n{i}"))),
        );
        let after = Model::train(&with_negatives, &cfg(1));
        let (b, a) = (
            prob(&before, "exchange rate fee", "exchange-rate"),
            prob(&after, "exchange rate fee", "exchange-rate"),
        );
        assert!(a < b, "{a} !< {b}");
        assert_eq!(first(&after, "exchange rate fee"), Some("exchange-fee"));
    }

    #[test]
    fn misspelled_query_benefits_from_correctly_spelled_examples() {
        let mut examples = crowd("my card has not been received", "card-arrival", 4, "a");
        examples.extend(crowd("why was my payment declined", "declined", 4, "b"));
        examples.extend(crowd("how do I change my PIN", "pin", 4, "c"));
        let m = Model::train(&examples, &cfg(1));
        assert_eq!(first(&m, "recieved"), Some("card-arrival"));
        assert_eq!(first(&m, "paymnet decliend"), Some("declined"));
    }

    #[test]
    fn empty_model_and_unknown_words_give_no_scores() {
        assert!(Model::empty().scores("anything", 5).is_empty());
        let m = Model::train(&crowd("card arrived", "card-arrival", 3, "a"), &cfg(1));
        assert!(m.scores("zzzz qqqq", 5).is_empty());
        assert_eq!(m.stats().labels, 1);
        assert_eq!(m.stats().clients, 3);
    }

    #[test]
    fn model_is_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Model>();
    }
}
