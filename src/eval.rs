//! Relevance evaluation: labelled customer questions (`text,category`) run through a ranker;
//! a hit is a result whose `ticket_types` contains the question's category.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};

/// A labelled customer question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub text: String,
    pub category: String,
}

/// Reads a CSV with `text` and `category` columns (other columns are ignored).
pub fn read_questions(path: &Path) -> anyhow::Result<Vec<Question>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(text), Some(category)) = (col("text"), col("category")) else {
        bail!(
            "{}:1: the header must name the columns `text` and `category` (found: {}) — add a first line `text,category`",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(",")
        );
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        let line = record.position().map_or(0, csv::Position::line);
        let (Some(t), Some(c)) = (record.get(text), record.get(category)) else {
            bail!(
                "{}:{line}: the row has fewer columns than the header — quote fields that contain commas",
                path.display()
            );
        };
        if c.trim().is_empty() {
            bail!(
                "{}:{line}: the category is empty — every question needs its ticket type",
                path.display()
            );
        }
        out.push(Question {
            text: t.to_string(),
            category: c.trim().to_string(),
        });
    }
    Ok(out)
}

/// Hits for one ticket type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TypeScore {
    pub questions: usize,
    pub top1: usize,
    pub top3: usize,
}

/// Counts over a set of questions.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Scores {
    pub questions: usize,
    pub top1: usize,
    pub top3: usize,
    pub top10: usize,
    pub reciprocal_rank_sum: f64,
    pub zero_results: usize,
    pub per_type: BTreeMap<String, TypeScore>,
}

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

impl Scores {
    /// Records one question given the ticket types of its ranked results.
    pub fn add(&mut self, category: &str, ranked: &[Vec<String>]) {
        self.questions += 1;
        if ranked.is_empty() {
            self.zero_results += 1;
        }
        let position = ranked
            .iter()
            .take(10)
            .position(|types| types.iter().any(|t| t == category));
        let entry = self.per_type.entry(category.to_string()).or_default();
        entry.questions += 1;
        if let Some(p) = position {
            self.reciprocal_rank_sum += 1.0 / (p as f64 + 1.0);
            self.top10 += 1;
            if p < 3 {
                self.top3 += 1;
                entry.top3 += 1;
            }
            if p == 0 {
                self.top1 += 1;
                entry.top1 += 1;
            }
        }
    }

    fn merge(&mut self, other: Scores) {
        self.questions += other.questions;
        self.top1 += other.top1;
        self.top3 += other.top3;
        self.top10 += other.top10;
        self.reciprocal_rank_sum += other.reciprocal_rank_sum;
        self.zero_results += other.zero_results;
        for (k, v) in other.per_type {
            let e = self.per_type.entry(k).or_default();
            e.questions += v.questions;
            e.top1 += v.top1;
            e.top3 += v.top3;
        }
    }

    pub fn top1_rate(&self) -> f64 {
        rate(self.top1, self.questions)
    }
    pub fn top3_rate(&self) -> f64 {
        rate(self.top3, self.questions)
    }
    pub fn top10_rate(&self) -> f64 {
        rate(self.top10, self.questions)
    }
    pub fn mrr(&self) -> f64 {
        if self.questions == 0 {
            0.0
        } else {
            self.reciprocal_rank_sum / self.questions as f64
        }
    }
    pub fn zero_result_rate(&self) -> f64 {
        rate(self.zero_results, self.questions)
    }

    /// Ticket types by ascending top-1 rate (then top-3), the worst first.
    pub fn worst_types(&self, n: usize) -> Vec<(&str, TypeScore)> {
        let mut v: Vec<(&str, TypeScore)> = self
            .per_type
            .iter()
            .map(|(k, s)| (k.as_str(), *s))
            .collect();
        v.sort_by(|a, b| {
            let ka = (rate(a.1.top1, a.1.questions), rate(a.1.top3, a.1.questions));
            let kb = (rate(b.1.top1, b.1.questions), rate(b.1.top3, b.1.questions));
            ka.partial_cmp(&kb)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.0.cmp(b.0))
        });
        v.truncate(n);
        v
    }
}

/// Runs every question through `rank` (which returns each result's ticket types, best first)
/// on all cores.
pub fn evaluate<F>(questions: &[Question], rank: F) -> Scores
where
    F: Fn(&str) -> Vec<Vec<String>> + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = questions.len().div_ceil(threads).max(1);
    let mut total = Scores::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = questions
            .chunks(chunk)
            .map(|part| {
                let rank = &rank;
                scope.spawn(move || {
                    let mut s = Scores::default();
                    for q in part {
                        s.add(&q.category, &rank(&q.text));
                    }
                    s
                })
            })
            .collect();
        for h in handles {
            if let Ok(s) = h.join() {
                total.merge(s);
            }
        }
    });
    total
}

/// What the suggestion endpoint replied to one question, reduced to what is scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub action: crate::suggest::Action,
    pub confidence: f64,
    /// Ticket types of the first result (what the confidence is about), if any.
    pub top: Option<Vec<String>>,
    /// Ticket types of the listed articles, best first.
    pub articles: Vec<Vec<String>>,
    /// Time taken, in milliseconds.
    pub millis: f64,
}

/// Confidence buckets of the calibration table: `[i/10, (i+1)/10)`.
pub const BUCKETS: usize = 10;

/// Outcomes of the suggestion endpoint over a set of questions.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SuggestScores {
    pub questions: usize,
    pub answered_right: usize,
    pub answered_wrong: usize,
    pub suggested_right: usize,
    pub suggested_wrong: usize,
    pub handed_off: usize,
    /// Per confidence bucket: questions with a first result, and how many it answers.
    pub buckets: [(usize, usize); BUCKETS],
    /// (confidence, first result right) per question with a result, for "≥ c" shares.
    #[serde(skip)]
    pub confident: Vec<(f64, bool)>,
    #[serde(skip)]
    pub millis: Vec<f64>,
}

impl SuggestScores {
    /// Records one reply to a question of ticket type `category`.
    pub fn add(&mut self, category: &str, r: &Reply) {
        use crate::suggest::Action;
        let fits = |types: &Vec<String>| types.iter().any(|t| t == category);
        self.questions += 1;
        self.millis.push(r.millis);
        let top_right = r.top.as_ref().is_some_and(fits);
        match r.action {
            Action::Answer if top_right => self.answered_right += 1,
            Action::Answer => self.answered_wrong += 1,
            Action::Suggest if r.articles.iter().any(fits) => self.suggested_right += 1,
            Action::Suggest => self.suggested_wrong += 1,
            Action::Handoff => self.handed_off += 1,
        }
        if r.top.is_some() {
            let b = ((r.confidence * BUCKETS as f64) as usize).min(BUCKETS - 1);
            self.buckets[b].0 += 1;
            self.buckets[b].1 += usize::from(top_right);
            self.confident.push((r.confidence, top_right));
        }
    }

    fn merge(&mut self, o: SuggestScores) {
        self.questions += o.questions;
        self.answered_right += o.answered_right;
        self.answered_wrong += o.answered_wrong;
        self.suggested_right += o.suggested_right;
        self.suggested_wrong += o.suggested_wrong;
        self.handed_off += o.handed_off;
        for (a, b) in self.buckets.iter_mut().zip(o.buckets) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.confident.extend(o.confident);
        self.millis.extend(o.millis);
    }

    pub fn rate(&self, n: usize) -> f64 {
        rate(n, self.questions)
    }

    /// Share answered (right or wrong): for out-of-scope questions, every one is wrong.
    pub fn answered_rate(&self) -> f64 {
        rate(self.answered_right + self.answered_wrong, self.questions)
    }

    /// Among questions whose confidence is at least `c`: how many, and the share whose first
    /// result is right.
    pub fn at_least(&self, c: f64) -> (usize, f64) {
        let above: Vec<bool> = self
            .confident
            .iter()
            .filter(|(x, _)| *x >= c)
            .map(|(_, r)| *r)
            .collect();
        (
            above.len(),
            rate(above.iter().filter(|r| **r).count(), above.len()),
        )
    }

    /// The `p`-th percentile (0..100) of the time per question, in milliseconds.
    pub fn percentile_millis(&self, p: f64) -> f64 {
        let mut v = self.millis.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return 0.0;
        }
        let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        v[i.min(v.len() - 1)]
    }
}

/// Runs every question through `reply` on all cores.
pub fn evaluate_suggest<F>(questions: &[Question], reply: F) -> SuggestScores
where
    F: Fn(&str) -> Reply + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = questions.len().div_ceil(threads).max(1);
    let mut total = SuggestScores::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = questions
            .chunks(chunk)
            .map(|part| {
                let reply = &reply;
                scope.spawn(move || {
                    let mut s = SuggestScores::default();
                    for q in part {
                        s.add(&q.category, &reply(&q.text));
                    }
                    s
                })
            })
            .collect();
        for h in handles {
            if let Ok(s) = h.join() {
                total.merge(s);
            }
        }
    });
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(t: &[&str]) -> Vec<String> {
        t.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn scores_positions() {
        let mut s = Scores::default();
        s.add("a", &[types(&["a"]), types(&["b"])]);
        s.add("a", &[types(&["b"]), types(&["c"]), types(&["x", "a"])]);
        s.add("b", &[]);
        assert_eq!(
            (s.questions, s.top1, s.top3, s.top10, s.zero_results),
            (3, 1, 2, 2, 1)
        );
        assert!((s.mrr() - (1.0 + 1.0 / 3.0) / 3.0).abs() < 1e-9);
        assert_eq!(s.worst_types(1)[0].0, "b");
    }

    #[test]
    fn evaluate_runs_every_question() {
        let qs: Vec<Question> = (0..25)
            .map(|i| Question {
                text: format!("q{i}"),
                category: if i % 2 == 0 {
                    "even".into()
                } else {
                    "odd".into()
                },
            })
            .collect();
        let s = evaluate(&qs, |_| vec![types(&["even"])]);
        assert_eq!(s.questions, 25);
        assert_eq!(s.top1, 13);
    }

    #[test]
    fn suggestion_outcomes_and_calibration() {
        use crate::suggest::Action;
        let reply = |action, confidence, top: &[&str], articles: &[&[&str]]| Reply {
            action,
            confidence,
            top: (!top.is_empty()).then(|| types(top)),
            articles: articles.iter().map(|a| types(a)).collect(),
            millis: 1.0,
        };
        let mut s = SuggestScores::default();
        s.add("a", &reply(Action::Answer, 0.95, &["a"], &[&["a"]]));
        s.add("a", &reply(Action::Answer, 0.91, &["b"], &[&["b"]]));
        s.add("a", &reply(Action::Suggest, 0.5, &["b"], &[&["b"], &["a"]]));
        s.add("a", &reply(Action::Suggest, 0.4, &["b"], &[&["b"]]));
        s.add("a", &reply(Action::Handoff, 0.0, &[], &[]));
        assert_eq!(
            (
                s.answered_right,
                s.answered_wrong,
                s.suggested_right,
                s.suggested_wrong,
                s.handed_off
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(s.buckets[9], (2, 1));
        assert_eq!(s.buckets[5], (1, 0));
        assert_eq!(s.at_least(0.9), (2, 0.5));
        assert!((s.answered_rate() - 0.4).abs() < 1e-9);
    }

    #[test]
    fn csv_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("q.csv");
        std::fs::write(&p, "question,label\nhi,x\n").expect("write");
        let e = read_questions(&p).expect_err("bad header").to_string();
        assert!(e.contains("q.csv:1: the header must name"), "{e}");
        std::fs::write(&p, "text,category\n\"a, b\",card_arrival\n").expect("write");
        assert_eq!(read_questions(&p).expect("ok")[0].text, "a, b");
    }
}

/// A triaged category counts as confident at or above this share of the vote.
pub const CONFIDENT: f64 = 0.5;

/// How often triage picked the labelled ticket type.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TriageScore {
    pub questions: usize,
    pub correct: usize,
    pub uncategorized: usize,
    pub confident: usize,
    pub confident_correct: usize,
    /// Ticket type → (questions, correct).
    pub per_type: BTreeMap<String, (usize, usize)>,
}

impl TriageScore {
    pub fn add(&mut self, label: &str, guess: Option<&crate::triage::CategoryGuess>) {
        self.questions += 1;
        let ok = guess.is_some_and(|g| g.ticket_type == label);
        self.correct += usize::from(ok);
        self.uncategorized += usize::from(guess.is_none());
        if guess.is_some_and(|g| g.confidence >= CONFIDENT) {
            self.confident += 1;
            self.confident_correct += usize::from(ok);
        }
        let e = self.per_type.entry(label.to_string()).or_default();
        e.0 += 1;
        e.1 += usize::from(ok);
    }

    fn merge(&mut self, o: TriageScore) {
        self.questions += o.questions;
        self.correct += o.correct;
        self.uncategorized += o.uncategorized;
        self.confident += o.confident;
        self.confident_correct += o.confident_correct;
        for (k, (n, c)) in o.per_type {
            let e = self.per_type.entry(k).or_default();
            e.0 += n;
            e.1 += c;
        }
    }

    pub fn accuracy(&self) -> f64 {
        rate(self.correct, self.questions)
    }
    pub fn confident_share(&self) -> f64 {
        rate(self.confident, self.questions)
    }
    pub fn confident_accuracy(&self) -> f64 {
        rate(self.confident_correct, self.confident)
    }

    /// Ticket types by ascending accuracy, the worst first: (type, questions, correct).
    pub fn worst(&self, n: usize) -> Vec<(&str, usize, usize)> {
        let mut v: Vec<(&str, usize, usize)> = self
            .per_type
            .iter()
            .map(|(k, (q, c))| (k.as_str(), *q, *c))
            .collect();
        v.sort_by(|a, b| rate(a.2, a.1).total_cmp(&rate(b.2, b.1)).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}

/// Triages every question (as a ticket description) on all cores.
pub fn evaluate_triage<F>(questions: &[Question], categorize: F) -> TriageScore
where
    F: Fn(&str) -> Option<crate::triage::CategoryGuess> + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = questions.len().div_ceil(threads).max(1);
    let mut total = TriageScore::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = questions
            .chunks(chunk)
            .map(|part| {
                let categorize = &categorize;
                scope.spawn(move || {
                    let mut s = TriageScore::default();
                    for q in part {
                        s.add(&q.category, categorize(&q.text).as_ref());
                    }
                    s
                })
            })
            .collect();
        for h in handles {
            if let Ok(s) = h.join() {
                total.merge(s);
            }
        }
    });
    total
}
