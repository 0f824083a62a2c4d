//! Small talk: greetings, thanks, "are you a robot?" and keyboard mashing, which never get an
//! article.

use crate::search::QueryPlan;

/// Messages that are not questions about the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    Greeting,
    Thanks,
    /// "Are you a robot?"
    AboutTheBot,
    /// Keyboard mashing: no word the knowledge base knows, and not shaped like words.
    Gibberish,
}

/// Words of small talk: a message made only of these (and with one of the markers) is not a
/// question about the product.
const GREETINGS: &[&str] = &[
    "afternoon",
    "day",
    "evening",
    "good",
    "greetings",
    "hallo",
    "hello",
    "helo",
    "hey",
    "heya",
    "hi",
    "hiya",
    "hola",
    "howdy",
    "morning",
    "sup",
    "yo",
];
const THANKS: &[&str] = &[
    "appreciate",
    "appreciated",
    "awesome",
    "bye",
    "cheers",
    "cool",
    "goodbye",
    "great",
    "helpful",
    "nice",
    "ok",
    "okay",
    "perfect",
    "thank",
    "thanks",
    "thx",
    "ty",
];
const BOT: &[&str] = &[
    "ai", "bot", "chatbot", "computer", "human", "machine", "person", "real", "robot",
];
const FILLER: &[&str] = &[
    "a", "all", "am", "an", "are", "doing", "going", "how", "i", "is", "it", "lot", "much",
    "really", "s", "so", "that", "the", "there", "very", "was", "what", "whats", "you", "your",
    "u", "r", "up",
];

/// Greetings, thanks, questions about the bot and gibberish.
pub fn small_talk(plan: &QueryPlan) -> Option<SmallTalk> {
    let words: Vec<&str> = plan.words.iter().map(|w| w.word.text.as_str()).collect();
    if words.is_empty() {
        return Some(SmallTalk::Gibberish);
    }
    let is = |set: &[&str], w: &str| set.contains(&w);
    if words.len() <= 8 {
        let chatty = words
            .iter()
            .all(|w| is(GREETINGS, w) || is(THANKS, w) || is(BOT, w) || is(FILLER, w));
        if chatty {
            if words.contains(&"you") && words.iter().any(|w| is(BOT, w)) {
                return Some(SmallTalk::AboutTheBot);
            }
            if words.iter().any(|w| is(THANKS, w)) {
                return Some(SmallTalk::Thanks);
            }
            if words.iter().any(|w| is(GREETINGS, w)) {
                return Some(SmallTalk::Greeting);
            }
        }
    }
    let anything_known = plan.words.iter().any(|w| {
        (w.known && !w.stop) || !w.typos.is_empty() || w.completions.iter().any(|(_, d)| *d == 0)
    }) || !plan.synonyms.is_empty();
    if !anything_known && plan.words.iter().any(|w| looks_mashed(&w.word.text)) {
        return Some(SmallTalk::Gibberish);
    }
    None
}

/// Keyboard mashing: a long run of consonants, no vowel in a long word, or a keyboard row.
pub(super) fn looks_mashed(word: &str) -> bool {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    if word.len() < 4 || word.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let vowel = |c: char| "aeiouy".contains(c);
    let mut run = 0;
    let mut longest = 0;
    for c in word.chars() {
        run = if vowel(c) { 0 } else { run + 1 };
        longest = longest.max(run);
    }
    let on_one_row = ROWS
        .iter()
        .any(|r| word.len() >= 5 && word.chars().all(|c| r.contains(c)));
    longest >= 5 || !word.chars().any(vowel) || on_one_row
}
