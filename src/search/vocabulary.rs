//! The index's own words, for typo tolerance, prefixes and "did you mean". Typo budget per word:
//! none under 5 characters, 1 for 5–8, 2 from 9; a transposition counts as one; a wrong first
//! letter costs two; no typos on words containing digits.

use std::collections::{HashMap, HashSet};

/// A word of the index and how many articles contain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub word: String,
    pub doc_freq: u32,
}

/// A vocabulary word close to a query word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub word: &'a str,
    pub distance: u32,
    pub doc_freq: u32,
}

/// Sorted words with lookup structures for fuzzy and prefix matching.
#[derive(Debug, Default)]
pub struct Vocabulary {
    entries: Vec<Entry>,
    /// Each entry's [`letters`].
    letters: Vec<u32>,
    stems: HashSet<String>,
    /// Entry indexes by first character.
    by_first: HashMap<char, Vec<u32>>,
    /// Entry indexes by the word without its first character (wrong-first-letter typos).
    by_tail: HashMap<String, Vec<u32>>,
}

/// The one typo budget, by length in characters: none under 5, one for 5–8, two from 9.
/// Search applies it per word; the gaps report to whole failing queries.
pub fn typos_allowed(chars: usize) -> u32 {
    match chars {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// How many typos a query word may have: [`typos_allowed`], and none in numbers.
pub fn typo_budget(word: &str) -> u32 {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return 0;
    }
    typos_allowed(word.chars().count())
}

/// Edit distance with transpositions costing one and a different first letter costing two.
pub fn typo_distance(a: &str, b: &str) -> u32 {
    let d = u32::try_from(strsim::osa_distance(a, b)).unwrap_or(u32::MAX);
    if a.chars().next() == b.chars().next() {
        d
    } else {
        d.saturating_add(1)
    }
}

/// The first `n` characters of `word`, if it has that many.
fn head(word: &str, n: usize) -> Option<&str> {
    match word.char_indices().nth(n) {
        Some((b, _)) => Some(&word[..b]),
        None => (word.chars().count() == n).then_some(word),
    }
}

/// Which letters a word has, as bits (a–z each its own, any other character one of six
/// more). An edit changes at most two letters of a word's set, so words within `n` edits of
/// each other differ in at most `2n` of these bits: most words of a bucket are ruled out by
/// a count of bits, not an edit distance.
fn letters(word: &str) -> u32 {
    word.chars().fold(0, |set, c| {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            _ => 26 + c as u32 % 6,
        };
        set | 1 << bit
    })
}

fn tail(word: &str) -> &str {
    word.char_indices().nth(1).map_or("", |(i, _)| &word[i..])
}

impl Vocabulary {
    /// Builds from (word, document frequency, stem) triples.
    pub fn new(words: HashMap<String, u32>, stems: HashSet<String>) -> Self {
        let mut entries: Vec<Entry> = words
            .into_iter()
            .map(|(word, doc_freq)| Entry { word, doc_freq })
            .collect();
        entries.sort_unstable_by(|a, b| a.word.cmp(&b.word));
        let mut by_first: HashMap<char, Vec<u32>> = HashMap::new();
        let mut by_tail: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(c) = e.word.chars().next() {
                by_first.entry(c).or_default().push(i);
            }
            by_tail
                .entry(tail(&e.word).to_string())
                .or_default()
                .push(i);
        }
        Self {
            letters: entries.iter().map(|e| letters(&e.word)).collect(),
            entries,
            stems,
            by_first,
            by_tail,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn doc_freq(&self, word: &str) -> Option<u32> {
        self.entries
            .binary_search_by(|e| e.word.as_str().cmp(word))
            .ok()
            .map(|i| self.entries[i].doc_freq)
    }

    /// True when the index knows the word or its stem.
    pub fn knows(&self, word: &str, stem: &str) -> bool {
        self.doc_freq(word).is_some() || self.stems.contains(stem)
    }

    /// Index words within the typo budget of `word`, closest and most common first.
    pub fn fuzzy(&self, word: &str, limit: usize) -> Vec<Candidate<'_>> {
        let budget = typo_budget(word);
        if budget == 0 {
            return Vec::new();
        }
        let len = word.chars().count();
        let set = letters(word);
        let entries = &self.entries;
        let mut out: Vec<Candidate<'_>> = Vec::new();
        let mut push = |i: usize, distance: u32| {
            let e = &entries[i];
            if distance > 0 && distance <= budget && !out.iter().any(|c| c.word == e.word) {
                out.push(Candidate {
                    word: &e.word,
                    distance,
                    doc_freq: e.doc_freq,
                });
            }
        };
        if let Some(first) = word.chars().next()
            && let Some(bucket) = self.by_first.get(&first)
        {
            for &i in bucket {
                let e = &self.entries[i as usize];
                if (self.letters[i as usize] ^ set).count_ones() > 2 * budget
                    || e.word.chars().count().abs_diff(len) as u32 > budget
                {
                    continue;
                }
                push(i as usize, typo_distance(word, &e.word));
            }
        }
        if budget >= 2 {
            // A wrong first letter costs two, so the rest must be exact: substituted, dropped,
            // added or swapped with the second letter.
            let mut heads: Vec<&str> = vec![tail(word)];
            let mut swapped = String::new();
            let mut chars = word.chars();
            if let (Some(a), Some(b)) = (chars.next(), chars.next()) {
                swapped.push(b);
                swapped.push(a);
                swapped.push_str(chars.as_str());
            }
            let by_tail = self
                .by_tail
                .get(tail(word))
                .into_iter()
                .chain(self.by_tail.get(word))
                .flatten();
            for &i in by_tail {
                push(
                    i as usize,
                    typo_distance(word, &self.entries[i as usize].word),
                );
            }
            heads.push(&swapped);
            for h in heads {
                if let Ok(i) = self.entries.binary_search_by(|e| e.word.as_str().cmp(h)) {
                    push(i, typo_distance(word, &self.entries[i].word));
                }
            }
        }
        out.sort_by(|a, b| {
            a.distance
                .cmp(&b.distance)
                .then(b.doc_freq.cmp(&a.doc_freq))
                .then(a.word.cmp(b.word))
        });
        out.truncate(limit);
        out
    }

    /// Index words that start with `prefix` (longer than it), most common first. From 5
    /// characters on, the prefix itself may carry one typo.
    pub fn completions(&self, prefix: &str, limit: usize) -> Vec<Candidate<'_>> {
        if prefix.is_empty() {
            return Vec::new();
        }
        let start = self.entries.partition_point(|e| e.word.as_str() < prefix);
        let mut out: Vec<Candidate<'_>> = self.entries[start..]
            .iter()
            .take_while(|e| e.word.starts_with(prefix))
            .filter(|e| e.word.len() > prefix.len())
            .map(|e| Candidate {
                word: &e.word,
                distance: 0,
                doc_freq: e.doc_freq,
            })
            .collect();
        let plen = prefix.chars().count();
        if typo_budget(prefix) >= 1
            && let Some(first) = prefix.chars().next()
            && let Some(bucket) = self.by_first.get(&first)
        {
            for &i in bucket {
                let e = &self.entries[i as usize];
                if e.word.starts_with(prefix) {
                    continue;
                }
                let best = [plen - 1, plen, plen + 1]
                    .into_iter()
                    .filter_map(|n| head(&e.word, n))
                    .map(|head| typo_distance(prefix, head))
                    .min()
                    .unwrap_or(u32::MAX);
                if best == 1 && e.word.chars().count() >= plen {
                    out.push(Candidate {
                        word: &e.word,
                        distance: 1,
                        doc_freq: e.doc_freq,
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            a.distance
                .cmp(&b.distance)
                .then(b.doc_freq.cmp(&a.doc_freq))
                .then(a.word.cmp(b.word))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[(&str, u32)]) -> Vocabulary {
        Vocabulary::new(
            words.iter().map(|(w, d)| ((*w).to_string(), *d)).collect(),
            HashSet::new(),
        )
    }

    #[test]
    fn budget_by_length_and_digits() {
        let cases = [
            ("card", 0),
            ("cards", 1),
            ("transfer", 1),
            ("transfers", 2),
            ("abc12345", 0),
            ("", 0),
        ];
        for (word, want) in cases {
            assert_eq!(typo_budget(word), want, "{word}");
        }
    }

    #[test]
    fn distance_rules() {
        let cases = [
            ("recieve", "receive", 1), // transposition counts once
            ("withdrawl", "withdrawal", 1),
            ("ransfer", "transfer", 2), // first letter dropped costs two
            ("pransfer", "transfer", 2),
            ("transfer", "transfer", 0),
        ];
        for (a, b, want) in cases {
            assert_eq!(typo_distance(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn fuzzy_respects_the_budget() {
        let v = vocab(&[
            ("receive", 10),
            ("transfer", 5),
            ("transfers", 3),
            ("card", 50),
            ("cart", 1),
            ("verification", 4),
        ]);
        let words = |q: &str| {
            v.fuzzy(q, 5)
                .iter()
                .map(|c| c.word.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(words("recieve"), ["receive"]);
        assert_eq!(
            words("crad"),
            Vec::<String>::new(),
            "no typos under 5 letters"
        );
        assert_eq!(words("transfr"), ["transfer"]);
        assert_eq!(words("verificaton"), ["verification"]);
        assert_eq!(
            words("erification"),
            ["verification"],
            "wrong first letter allowed from 9 letters"
        );
        assert_eq!(
            words("ransfer"),
            Vec::<String>::new(),
            "wrong first letter too costly for 7 letters"
        );
        assert!(v.fuzzy("12345678", 5).is_empty());
    }

    #[test]
    fn completions_with_and_without_typos() {
        let v = vocab(&[
            ("password", 9),
            ("passcode", 12),
            ("pass", 1),
            ("payment", 30),
            ("withdrawal", 7),
        ]);
        let words = |q: &str| {
            v.completions(q, 5)
                .iter()
                .map(|c| c.word.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(words("pas"), ["passcode", "password", "pass"]);
        assert_eq!(words("withdr"), ["withdrawal"]);
        assert_eq!(words("wihtdr"), ["withdrawal"], "typo in a 6-letter prefix");
        assert!(words("xyz").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn words_within_n_edits_differ_in_at_most_2n_letters(
            a in "[a-eé1-]{0,10}",
            b in "[a-eé1-]{0,10}",
        ) {
            let edits = u32::try_from(strsim::osa_distance(&a, &b)).unwrap_or(u32::MAX);
            proptest::prop_assert!((letters(&a) ^ letters(&b)).count_ones() <= 2 * edits);
        }

        #[test]
        fn fuzzy_finds_every_word_within_the_budget(
            word in "[a-hé]{5,10}",
            edits in proptest::collection::vec(
                proptest::collection::vec((0u8..4, 0usize..12, "[a-hé]"), 1..4),
                0..40,
            ),
        ) {
            // Words a few edits (substitutions, insertions, deletions, swaps) from `word`.
            let words: Vec<String> = edits
                .iter()
                .map(|e| {
                    let mut w: Vec<char> = word.chars().collect();
                    for (op, at, c) in e {
                        let (at, c) = (at % (w.len() + 1), c.chars().next().unwrap_or('a'));
                        match op {
                            0 if at < w.len() => w[at] = c,
                            1 => w.insert(at, c),
                            2 if at < w.len() => drop(w.remove(at)),
                            _ if at + 1 < w.len() => w.swap(at, at + 1),
                            _ => {}
                        }
                    }
                    w.into_iter().collect()
                })
                .collect();
            let v = vocab(&words.iter().map(|w| (w.as_str(), 1)).collect::<Vec<_>>());
            let budget = typo_budget(&word);
            let found: HashSet<&str> = v.fuzzy(&word, usize::MAX).iter().map(|c| c.word).collect();
            for w in &words {
                let d = typo_distance(&word, w);
                proptest::prop_assert_eq!(found.contains(w.as_str()), d > 0 && d <= budget, "{}", w);
            }
        }
    }
}
