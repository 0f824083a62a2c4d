//! Snippets: the densest window of an article's text around what the query actually matched
//! (exact, stemmed, synonym, typo and prefix matches alike), HTML-escaped, matches in `<mark>`.
//! Only the texts of the results shown are tokenized, at query time, into word ids of a
//! [`Lexicon`] (the index's words), so a search compares ids and holds no per-article tokens.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use super::analysis;

/// Words per snippet window.
pub const SNIPPET_WORDS: usize = 28;

/// What a query expanded to, for highlighting.
#[derive(Debug, Default, Clone)]
pub struct Highlights {
    /// Lowercased surface forms (typo and prefix expansions, the query's own words).
    pub exact: HashSet<String>,
    /// Stems (the query's words, synonyms).
    pub stems: HashSet<String>,
}

/// The id of a word the lexicon does not have.
pub const UNKNOWN: u32 = u32::MAX;

/// A word of an article text: its byte range and its id in the lexicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    start: u32,
    end: u32,
    word: u32,
}

/// Every distinct word of the indexed texts, with its stem and whether it is a stop word.
#[derive(Debug, Default)]
pub struct Lexicon {
    ids: FxHashMap<String, u32>,
    /// Each word id's word.
    words: Vec<Box<str>>,
    /// Stem id of each word id.
    stem_of: Vec<u32>,
    stop: Vec<bool>,
    stem_ids: FxHashMap<String, u32>,
    /// Word ids of each stem id.
    words_of_stem: Vec<Vec<u32>>,
}

impl Lexicon {
    /// A lexicon of the given words (lowercased, folded: the index's exact words).
    pub fn of_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
        let mut lexicon = Self::default();
        for word in words {
            if lexicon.ids.contains_key(word) {
                continue;
            }
            let id = to_u32(lexicon.stem_of.len());
            let next_stem = to_u32(lexicon.words_of_stem.len());
            let stem = *lexicon
                .stem_ids
                .entry(stemmer.stem(word).into_owned())
                .or_insert(next_stem);
            if stem == next_stem {
                lexicon.words_of_stem.push(Vec::new());
            }
            lexicon.words_of_stem[stem as usize].push(id);
            lexicon.stem_of.push(stem);
            lexicon.stop.push(analysis::is_stop_word(word));
            lexicon.words.push(word.into());
            lexicon.ids.insert(word.to_string(), id);
        }
        lexicon
    }

    /// Splits a text into words as the index does, each with its byte range; the words of
    /// `matched` also get their id, every other word [`UNKNOWN`]. Done at query time for the
    /// results shown only, so it compares each word with the few the query matched, not with
    /// the whole lexicon.
    pub fn tokenize(&self, text: &str, matched: &Matched<'_>) -> Vec<Token> {
        // About one word per six bytes of prose.
        let mut out = Vec::with_capacity(text.len() / 6 + 1);
        let mut push = |word: Option<&str>, start: usize, end: usize| {
            out.push(Token {
                start: to_u32(start),
                end: to_u32(end),
                word: word.map_or(UNKNOWN, |w| matched.id(w)),
            });
        };
        // Most words are ruled out by their shape before they are lowercased.
        scan(text, |b| matched.may_have(b), &mut push);
        out
    }

    /// The ids of the words of `text` as the index holds them, in order (words the lexicon
    /// lacks left out).
    pub fn word_ids(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 6 + 1);
        scan(text, |_| true, &mut |word, _, _| {
            if let Some(&id) = word.and_then(|w| self.ids.get(w)) {
                out.push(id);
            }
        });
        out
    }

    /// The id of a word of the index.
    pub fn word_id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// The id of a stem of the index's words.
    pub fn stem_id(&self, stem: &str) -> Option<u32> {
        self.stem_ids.get(stem).copied()
    }

    /// The stem id of a word id.
    pub fn stem_of(&self, word: u32) -> u32 {
        self.stem_of[word as usize]
    }

    /// The word ids of a stem id.
    pub fn words_of_stem(&self, stem: u32) -> &[u32] {
        &self.words_of_stem[stem as usize]
    }

    pub fn len(&self) -> usize {
        self.stem_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stem_of.is_empty()
    }

    /// Every word the highlights cover, stop words excluded.
    pub fn matching(&self, h: &Highlights) -> Matched<'_> {
        let exact = h.exact.iter().filter_map(|w| self.ids.get(w).copied());
        let stemmed = h
            .stems
            .iter()
            .filter_map(|s| self.stem_ids.get(s))
            .flat_map(|&s| self.words_of_stem[s as usize].iter().copied());
        let mut words: FxHashMap<&str, u32> = exact
            .chain(stemmed)
            .filter(|&id| !self.stop[id as usize])
            .map(|id| (&*self.words[id as usize], id))
            .collect();
        // A contraction typed without its apostrophe, where the index does not have it as a
        // word, is its first word ("dont" is "don").
        for (typed, parts) in analysis::CONTRACTIONS {
            if self.ids.contains_key(*typed) {
                continue;
            }
            if let Some(&id) = parts.first().and_then(|first| words.get(first)) {
                words.entry(typed).or_insert(id);
            }
        }
        let mut shapes = [0u64; 4];
        for word in words.keys() {
            let shape = shape(word.as_bytes());
            shapes[shape / 64] |= 1 << (shape % 64);
        }
        Matched { words, shapes }
    }
}

/// The words of the lexicon a query matched, by their text: what snippets mark.
#[derive(Debug, Default)]
pub struct Matched<'l> {
    words: FxHashMap<&'l str, u32>,
    /// Which [`shape`]s the words have: most words of a text are ruled out by it without
    /// hashing them.
    shapes: [u64; 4],
}

impl Matched<'_> {
    /// The word's id if the query matched it, else [`UNKNOWN`].
    fn id(&self, word: &str) -> u32 {
        if !self.may_have(word.as_bytes()) {
            return UNKNOWN;
        }
        self.words.get(word).copied().unwrap_or(UNKNOWN)
    }

    /// Whether an ASCII word, in any case, has the shape of one of the words.
    #[inline]
    fn may_have(&self, word: &[u8]) -> bool {
        let shape = shape(word);
        self.shapes[shape / 64] & (1 << (shape % 64)) != 0
    }
}

/// One of 256 classes of words by their length and first and last bytes, ASCII letters
/// lowercased (the same for a word and its lowercase).
#[inline]
fn shape(b: &[u8]) -> usize {
    let (first, last) = (
        b.first().map_or(0, u8::to_ascii_lowercase),
        b.last().map_or(0, u8::to_ascii_lowercase),
    );
    (b.len() * 31 + usize::from(first) * 7 + usize::from(last)) % 256
}

/// [`scan`] with every word wanted: what the tests hold to the analyzer.
#[cfg(test)]
fn fast_tokens(text: &str, f: &mut impl FnMut(&str, usize, usize)) {
    scan(text, |_| true, &mut |w, s, e| {
        f(w.unwrap_or_default(), s, e);
    });
}

/// Whether an ASCII byte is a letter or digit, by table: the test [`scan`] makes of every
/// byte of a text.
static ASCII_ALPHANUMERIC: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// Characters below this one have [`char::is_alphanumeric`] in a table: Latin, Greek,
/// Cyrillic and the general punctuation prose uses (’ “ ” — …), whose look-up in the Unicode
/// tables costs more than the rest of a word's scan.
const TABLED_CHARS: u32 = 0x2070;

/// Whether a character is a letter or digit, as [`char::is_alphanumeric`] says.
fn is_alphanumeric(c: char) -> bool {
    static TABLE: std::sync::LazyLock<Box<[bool]>> = std::sync::LazyLock::new(|| {
        (0..TABLED_CHARS)
            .map(|c| char::from_u32(c).is_some_and(char::is_alphanumeric))
            .collect()
    });
    match TABLE.get(c as usize) {
        Some(&alphanumeric) => alphanumeric,
        None => c.is_alphanumeric(),
    }
}

/// [`analysis::exact_tokens`], split the same way (runs of letters and digits, lowercased,
/// folded, those of 40 bytes or more left out) but several times faster on mostly-ASCII text:
/// an ASCII word is cut and lowercased byte by byte, and only a word with another character
/// goes through the analyzer. An ASCII word that `wanted` rules out (given its bytes as
/// typed) is passed as `None`, not lowercased.
fn scan(
    text: &str,
    wanted: impl Fn(&[u8]) -> bool,
    f: &mut impl FnMut(Option<&str>, usize, usize),
) {
    let bytes = text.as_bytes();
    let mut lower = String::new();
    // The character at byte `i` (not ASCII): whether it is a letter or digit, and its length.
    let wide = |i: usize| -> (bool, usize) {
        let c = text.get(i..).and_then(|t| t.chars().next()).unwrap_or(' ');
        (is_alphanumeric(c), c.len_utf8())
    };
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        // ASCII between words, byte by byte.
        if b < 128 {
            if !ASCII_ALPHANUMERIC[usize::from(b)] {
                i += 1;
                continue;
            }
        } else {
            let (alphanumeric, len) = wide(i);
            if !alphanumeric {
                i += len;
                continue;
            }
        }
        let start = i;
        let mut ascii = true;
        while let Some(&b) = bytes.get(i) {
            // ASCII letters and digits, byte by byte.
            if b < 128 {
                if ASCII_ALPHANUMERIC[usize::from(b)] {
                    i += 1;
                    continue;
                }
                break;
            }
            let (alphanumeric, len) = wide(i);
            if !alphanumeric {
                break;
            }
            ascii = false;
            i += len;
        }
        if i - start >= analysis::MAX_TOKEN_LEN {
            continue;
        }
        // Most words are ruled out by their bytes, before they are cut out as text.
        if ascii && !wanted(&bytes[start..i]) {
            f(None, start, i);
            continue;
        }
        let word = &text[start..i];
        if !ascii {
            analysis::exact_tokens(word, |w, s, e| f(Some(w), start + s, start + e));
        } else if word.bytes().any(|b| b.is_ascii_uppercase()) {
            lower.clear();
            lower.push_str(word);
            lower.make_ascii_lowercase();
            f(Some(&lower), start, i);
        } else {
            f(Some(word), start, i);
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str, out: &mut String) {
    // Runs without a character to escape are copied whole; those characters are all ASCII,
    // so every cut is at a character boundary.
    let mut from = 0;
    for (i, b) in text.bytes().enumerate() {
        let escaped = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            b'\n' | b'\r' | b'\t' => " ",
            _ => continue,
        };
        out.push_str(text.get(from..i).unwrap_or_default());
        out.push_str(escaped);
        from = i + 1;
    }
    out.push_str(text.get(from..).unwrap_or_default());
}

/// The best snippet of a text tokenized for a query's matches, or `None` when none occurs in it.
///
/// The best window of [`SNIPPET_WORDS`] words, starting three words before a match, has the
/// most distinct matched stems, then the most matches; the first such window wins. Windows
/// are visited in order, so the matches inside one are kept as a sliding count: one pass
/// over the matches, however many there are (each window was counted from scratch before).
pub fn best(text: &str, tokens: &[Token], lexicon: &Lexicon) -> Option<String> {
    // Each match's word position, and its stem as a number among the text's matched stems.
    let mut stems: Vec<u32> = Vec::new();
    let hits: Vec<(usize, usize)> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.word != UNKNOWN)
        .map(|(i, t)| {
            let stem = lexicon.stem_of[t.word as usize];
            let slot = match stems.iter().position(|&s| s == stem) {
                Some(slot) => slot,
                None => {
                    stems.push(stem);
                    stems.len() - 1
                }
            };
            (i, slot)
        })
        .collect();
    if hits.is_empty() {
        return None;
    }
    let mut count = vec![0u32; stems.len()];
    let (mut distinct, mut total) = (0usize, 0usize);
    // `hits[first..last]` are the matches in the current window.
    let (mut first, mut last) = (0, 0);
    let mut best = (0usize, 0usize, 0usize);
    for &(at, _) in &hits {
        let from = at.saturating_sub(3);
        let to = (from + SNIPPET_WORDS).min(tokens.len());
        while let Some(&(_, slot)) = hits.get(last).filter(|(i, _)| *i < to) {
            if count[slot] == 0 {
                distinct += 1;
            }
            count[slot] += 1;
            total += 1;
            last += 1;
        }
        while let Some(&(_, slot)) = hits[..last].get(first).filter(|(i, _)| *i < from) {
            count[slot] -= 1;
            if count[slot] == 0 {
                distinct -= 1;
            }
            total -= 1;
            first += 1;
        }
        if (distinct, total) > (best.1, best.2) {
            best = (from, distinct, total);
        }
    }
    let from = best.0;
    let to = (from + SNIPPET_WORDS).min(tokens.len());
    Some(render(
        text,
        &tokens[from..to],
        true,
        from > 0,
        to < tokens.len(),
    ))
}

/// The opening words of a pre-tokenized text, escaped, for results that matched only in the title.
pub fn lead(text: &str, tokens: &[Token]) -> String {
    let to = SNIPPET_WORDS.min(tokens.len());
    render(text, &tokens[..to], false, false, to < tokens.len())
}

/// The text of `tokens`, escaped; with `marked`, the matched words in `<mark>`.
fn render(
    text: &str,
    tokens: &[Token],
    marked: bool,
    ellipsis_before: bool,
    ellipsis_after: bool,
) -> String {
    let Some(first) = tokens.first() else {
        return String::new();
    };
    // The words' text, a little over for the marks and escapes.
    let words = (tokens.last().map_or(0, |t| t.end as usize)).saturating_sub(first.start as usize);
    let mut out = String::with_capacity(words + 64);
    if ellipsis_before {
        out.push('…');
    }
    // `text[pos..upto]` is written as it is, in one piece, when a mark or the end comes.
    let mut pos = if ellipsis_before {
        first.start as usize
    } else {
        0
    };
    let mut upto = pos;
    for t in tokens {
        let (start, end) = (t.start as usize, t.end as usize);
        // A contraction's later parts are empty ranges within what is already passed.
        if start >= end || start < upto {
            continue;
        }
        if marked && t.word != UNKNOWN {
            escape_html(text.get(pos..start).unwrap_or_default(), &mut out);
            out.push_str("<mark>");
            escape_html(text.get(start..end).unwrap_or_default(), &mut out);
            out.push_str("</mark>");
            pos = end;
        }
        upto = end;
    }
    if ellipsis_after {
        escape_html(text.get(pos..upto).unwrap_or_default(), &mut out);
        out.push('…');
    } else {
        escape_html(text.get(pos..).unwrap_or_default(), &mut out);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon_of(text: &str) -> Lexicon {
        let words = analysis::words(text);
        Lexicon::of_words(words.iter().map(|w| w.text.as_str()))
    }

    fn snippet(text: &str, exact: &[&str], stems: &[&str]) -> Option<String> {
        let lexicon = lexicon_of(text);
        let h = Highlights {
            exact: exact.iter().map(ToString::to_string).collect(),
            stems: stems.iter().map(ToString::to_string).collect(),
        };
        let tokens = lexicon.tokenize(text, &lexicon.matching(&h));
        best(text, &tokens, &lexicon)
    }

    #[test]
    fn marks_exact_stemmed_and_escapes() {
        let s = snippet(
            "Cards <b>charged</b> twice & the charge.",
            &["twice"],
            &["charg"],
        )
        .expect("match");
        assert_eq!(
            s,
            "Cards &lt;b&gt;<mark>charged</mark>&lt;/b&gt; <mark>twice</mark> &amp; the <mark>charge</mark>."
        );
    }

    #[test]
    fn only_the_matched_words_are_marked_among_words_of_the_same_shape() {
        // "cord" and "card", "cart" and "cast" share their length and first letter, some
        // their last: each is told apart by the word itself.
        assert_eq!(shape(b"cord"), shape(b"card"));
        let s = snippet("Cord CARD cart cast card.", &["card", "cast"], &[]).expect("match");
        assert_eq!(
            s,
            "Cord <mark>CARD</mark> cart <mark>cast</mark> <mark>card</mark>."
        );
        assert!(snippet("cord cart", &["card"], &[]).is_none());
    }

    proptest::proptest! {
        /// Shapes rule out no word the query matched, in any case: a text's words are marked
        /// exactly when the query matched them.
        #[test]
        fn every_matched_word_is_marked_whatever_its_shape(
            matched in proptest::collection::vec("[a-eA-E]{1,7}", 1..40),
            others in proptest::collection::vec("[a-eA-E]{1,7}", 0..40),
        ) {
            let text = format!("{} {}", others.join(" "), matched.join(", "));
            let lexicon = lexicon_of(&text);
            let exact: HashSet<String> = matched.iter().map(|w| w.to_lowercase()).collect();
            let h = Highlights { exact: exact.clone(), stems: HashSet::new() };
            for t in lexicon.tokenize(&text, &lexicon.matching(&h)) {
                let word = text[t.start as usize..t.end as usize].to_lowercase();
                let wanted = exact.contains(&word) && !analysis::is_stop_word(&word);
                proptest::prop_assert_eq!(t.word != UNKNOWN, wanted, "{}", word);
            }
        }
    }

    #[test]
    fn picks_the_window_with_the_matches() {
        let filler = "word ".repeat(60);
        let text = format!("{filler}the refund arrives late {filler}");
        let s = snippet(&text, &[], &["refund"]).expect("match");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>refund</mark>"), "{s}");
        assert!(snippet(&text, &["nothing"], &[]).is_none());
    }

    /// A word's shape is that of its lowercase: capitals are not ruled out before they are
    /// lowercased.
    #[test]
    fn words_typed_in_capitals_are_marked() {
        let s = snippet("Charged TWICE, Twice over", &["twice"], &[]).expect("match");
        assert_eq!(s, "Charged <mark>TWICE</mark>, <mark>Twice</mark> over");
    }

    #[test]
    fn stop_words_are_not_marked() {
        let s = snippet("how to top up", &["how", "top"], &[]).expect("match");
        assert_eq!(s, "how to <mark>top</mark> up");
    }

    /// Words with their byte ranges.
    type Words = Vec<(String, usize, usize)>;

    /// A text's words as snippets split it, and as the index's analyzer does.
    fn split_both_ways(text: &str) -> (Words, Words) {
        let mut fast = Vec::new();
        fast_tokens(text, &mut |w: &str, s, e| fast.push((w.to_string(), s, e)));
        let mut slow = Vec::new();
        analysis::exact_tokens(text, |w, s, e| slow.push((w.to_string(), s, e)));
        (fast, slow)
    }

    proptest::proptest! {
        /// Snippets split texts exactly as the index's analyzer does.
        #[test]
        fn texts_split_as_the_analyzer_does(text in "[a-zA-Z0-9 .,'<>&£’éÉßİﬁ٣Ⅻ-]{0,60}( [a-zé]{37,42})?") {
            let (fast, slow) = split_both_ways(&text);
            proptest::prop_assert_eq!(fast, slow);
        }

        /// Every ASCII character, and words of the longest lengths kept and left out.
        #[test]
        fn any_ascii_text_splits_as_the_analyzer_splits_it(
            text in "[\\x00-\\x7f£’éßİ٣]{0,120}( [a-z]{38,41})?[ -~]{0,20}",
        ) {
            let (fast, slow) = split_both_ways(&text);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    /// The window [`best`] keeps, found by scoring every window from scratch.
    fn best_window_by_brute_force(tokens: &[Token], lexicon: &Lexicon) -> Option<usize> {
        let hit = |i: usize| tokens[i].word != UNKNOWN;
        let mut best: Option<(usize, usize, usize)> = None;
        for start in (0..tokens.len()).filter(|&i| hit(i)) {
            let from = start.saturating_sub(3);
            let to = (from + SNIPPET_WORDS).min(tokens.len());
            let stems: HashSet<u32> = (from..to)
                .filter(|&i| hit(i))
                .map(|i| lexicon.stem_of[tokens[i].word as usize])
                .collect();
            let total = (from..to).filter(|&i| hit(i)).count();
            if best.is_none_or(|b| (stems.len(), total) > (b.1, b.2)) {
                best = Some((from, stems.len(), total));
            }
        }
        best.map(|b| b.0)
    }

    proptest::proptest! {
        /// The sliding count finds the window that scoring each window from scratch finds.
        #[test]
        fn the_best_window_is_the_one_with_most_stems_then_matches(
            words in proptest::collection::vec(0usize..12, 0..200),
        ) {
            // Twelve words, four of them unmatched, pairs sharing a stem ("card", "cards").
            let vocabulary = [
                "card", "cards", "fee", "fees", "pin", "top", "topping", "limit", "a", "b", "c",
                "d",
            ];
            let lexicon = Lexicon::of_words(vocabulary);
            let h = Highlights {
                exact: ["pin", "limit"].iter().map(ToString::to_string).collect(),
                stems: ["card", "fee", "top"].iter().map(ToString::to_string).collect(),
            };
            let text: Vec<&str> = words.iter().map(|&w| vocabulary[w]).collect();
            let text = text.join(" ");
            let tokens = lexicon.tokenize(&text, &lexicon.matching(&h));
            proptest::prop_assert_eq!(tokens.len(), words.len());
            let expected = best_window_by_brute_force(&tokens, &lexicon).map(|from| {
                let to = (from + SNIPPET_WORDS).min(tokens.len());
                render(&text, &tokens[from..to], true, from > 0, to < tokens.len())
            });
            proptest::prop_assert_eq!(best(&text, &tokens, &lexicon), expected);
        }
    }

    /// Escaped character by character: what [`escape_html`] must write.
    fn escaped_by_char(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                '\'' => "&#39;".to_string(),
                '\n' | '\r' | '\t' => " ".to_string(),
                c => c.to_string(),
            })
            .collect()
    }

    /// A window rendered token by token, each gap and word escaped on its own: what
    /// [`render`], which writes the runs between marks whole, must write.
    fn rendered_by_token(
        text: &str,
        tokens: &[Token],
        marked: bool,
        before: bool,
        after: bool,
    ) -> String {
        let mut out = String::new();
        if before {
            out.push('…');
        }
        let mut pos = if before { tokens[0].start as usize } else { 0 };
        for t in tokens {
            let (start, end) = (t.start as usize, t.end as usize);
            if start >= end || start < pos {
                continue;
            }
            out.push_str(&escaped_by_char(&text[pos..start]));
            let word = escaped_by_char(&text[start..end]);
            if !marked || t.word == UNKNOWN {
                out.push_str(&word);
            } else {
                out.push_str(&format!("<mark>{word}</mark>"));
            }
            pos = end;
        }
        if after {
            out.push('…');
        } else {
            out.push_str(&escaped_by_char(&text[pos..]));
        }
        out.trim().to_string()
    }

    proptest::proptest! {
        /// Escaping copies the runs between special characters whole, as escaping each
        /// character would write them.
        #[test]
        fn escaping_writes_what_escaping_each_character_writes(text in "[a-z &<>\"'\n\t£’é-]{0,40}") {
            let mut out = String::new();
            escape_html(&text, &mut out);
            proptest::prop_assert_eq!(out, escaped_by_char(&text));
        }

        /// Any window of a text, marked or not, renders as it does token by token.
        #[test]
        fn a_window_renders_as_it_does_token_by_token(
            text in "(a|e|b|don|ab|x)([ &<>'’\n-]{1,2}(a|e|b|don|ab|x|é)){0,15}",
            window in (0usize..20, 0usize..20),
            marked in proptest::bool::ANY,
        ) {
            let lexicon = lexicon_of("a b e ab x don é");
            let h = Highlights {
                exact: ["a", "e", "o", "don"].iter().map(ToString::to_string).collect(),
                stems: HashSet::new(),
            };
            let tokens = lexicon.tokenize(&text, &lexicon.matching(&h));
            proptest::prop_assume!(!tokens.is_empty());
            let from = window.0.min(tokens.len() - 1);
            let to = (from + 1 + window.1).min(tokens.len());
            let (before, after) = (from > 0, to < tokens.len());
            proptest::prop_assert_eq!(
                render(&text, &tokens[from..to], marked, before, after),
                rendered_by_token(&text, &tokens[from..to], marked, before, after)
            );
        }
    }

    #[test]
    fn a_contraction_typed_without_apostrophe_is_marked_as_its_first_word() {
        let text = "I dont know why don is here";
        let lexicon = lexicon_of("i know why don is here");
        let h = Highlights {
            exact: ["don".to_string()].into(),
            stems: HashSet::new(),
        };
        let tokens = lexicon.tokenize(text, &lexicon.matching(&h));
        let s = best(text, &tokens, &lexicon).expect("match");
        assert_eq!(s, "I <mark>dont</mark> know why <mark>don</mark> is here");
    }

    #[test]
    fn lead_is_escaped() {
        let text = "Fees & <limits>";
        let lexicon = lexicon_of(text);
        let tokens = lexicon.tokenize(text, &Matched::default());
        assert_eq!(lead(text, &tokens), "Fees &amp; &lt;limits&gt;");
    }
}
