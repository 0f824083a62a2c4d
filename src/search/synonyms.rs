//! Query-time synonyms: the content's rules compiled to stemmed token sequences, and matched
//! against a query's words (longest key first, keys of any length).

use rustc_hash::FxHashMap;

use super::analysis;
use crate::content::SynonymRule;
use crate::content::synonyms::MAX_EXPANSIONS;

/// Stemmed key → stemmed expansions (each one a word or a phrase).
#[derive(Debug, Default)]
pub struct SynonymMap {
    /// Keyed by the key's stems joined by spaces (a stem has none): a query's words are
    /// looked up without a vector of strings per try.
    map: FxHashMap<String, Vec<Vec<String>>>,
    max_key_words: usize,
}

/// A synonym key found in a query: words `start..end` also search `expansions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymMatch<'a> {
    pub start: usize,
    pub end: usize,
    pub expansions: &'a [Vec<String>],
}

fn stems(term: &str) -> Vec<String> {
    analysis::words(term).into_iter().map(|w| w.stem).collect()
}

impl SynonymMap {
    pub fn new(rules: &[SynonymRule]) -> Self {
        let mut map: FxHashMap<String, Vec<Vec<String>>> = FxHashMap::default();
        let mut add = |from: &[String], to: &[String]| {
            for f in from {
                let key = stems(f);
                if key.is_empty() {
                    continue;
                }
                for t in to {
                    let exp = stems(t);
                    if exp.is_empty() || exp == key {
                        continue;
                    }
                    let slot = map.entry(key.join(" ")).or_default();
                    if slot.len() >= MAX_EXPANSIONS {
                        // `deflect check` warns; the rest are ignored, keeping queries small.
                        break;
                    }
                    if !slot.contains(&exp) {
                        slot.push(exp);
                    }
                }
            }
        };
        for rule in rules {
            match rule {
                SynonymRule::Equivalent { terms, .. } => add(terms, terms),
                SynonymRule::OneWay { from, to, .. } => add(from, to),
            }
        }
        let max_key_words = map.keys().map(|k| k.split(' ').count()).max().unwrap_or(0);
        Self { map, max_key_words }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every key occurrence in a query's stems, longest key at each position.
    pub fn find<'a>(&'a self, query_stems: &[&str]) -> Vec<SynonymMatch<'a>> {
        let mut out = Vec::new();
        if self.map.is_empty() {
            return out;
        }
        let mut key = String::new();
        // Where the key's first 1, 2, … words end.
        let mut ends: Vec<usize> = Vec::with_capacity(self.max_key_words);
        for start in 0..query_stems.len() {
            let longest = self.max_key_words.min(query_stems.len() - start);
            key.clear();
            ends.clear();
            for (i, stem) in query_stems[start..start + longest].iter().enumerate() {
                if i > 0 {
                    key.push(' ');
                }
                key.push_str(stem);
                ends.push(key.len());
            }
            for len in (1..=longest).rev() {
                if let Some(expansions) = self.map.get(&key[..ends[len - 1]]) {
                    out.push(SynonymMatch {
                        start,
                        end: start + len,
                        expansions,
                    });
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(src: &str) -> SynonymMap {
        let mut diags = Vec::new();
        let rules = crate::content::synonyms::parse(std::path::Path::new("s"), src, &mut diags);
        SynonymMap::new(&rules)
    }

    #[test]
    fn multi_way_and_one_way() {
        let m = map("atm, cash machine\niphone => ios\n");
        let found = m.find(&["where", "cash", "machin"]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (1, 3));
        assert_eq!(found[0].expansions, [vec!["atm".to_string()]]);
        assert_eq!(
            m.find(&["atm"])[0].expansions,
            [vec!["cash".to_string(), "machin".to_string()]]
        );
        assert_eq!(m.find(&["iphon"]).len(), 1);
        assert!(m.find(&["io"]).is_empty(), "one-way rules do not go back");
    }

    #[test]
    fn the_longest_key_at_a_word_wins_and_shorter_ones_still_match() {
        let m = map("cash machine fee, atm fee\ncash machine, atm\ncash, money\n");
        let spans = |q: &[&str]| -> Vec<(usize, usize)> {
            m.find(q).iter().map(|f| (f.start, f.end)).collect()
        };
        assert_eq!(spans(&["cash", "machin", "fee"]), [(0, 3)]);
        assert_eq!(spans(&["cash", "machin", "card"]), [(0, 2)]);
        assert_eq!(spans(&["cash", "out"]), [(0, 1)]);
        assert_eq!(spans(&["machin", "cash"]), [(1, 2)]);
        assert!(spans(&["cashmachin"]).is_empty(), "keys are whole words");
    }

    #[test]
    fn keys_match_on_stems() {
        let m = map("withdrawal, cash out\n");
        assert_eq!(m.find(&[&analysis::stem("withdrawals")]).len(), 1);
    }
}
