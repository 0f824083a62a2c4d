//! Snippets: the densest window of an article's text around what the query actually matched
//! (exact, stemmed, synonym, typo and prefix matches alike), HTML-escaped, matches in `<mark>`.

use std::collections::HashSet;

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

impl Highlights {
    fn matches(&self, word: &analysis::Word) -> bool {
        !analysis::is_stop_word(&word.text)
            && (self.exact.contains(&word.text) || self.stems.contains(&word.stem))
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// The best snippet of `text`, or `None` when nothing in it matches.
pub fn best(text: &str, highlights: &Highlights) -> Option<String> {
    let words = analysis::words(text);
    let matched: Vec<bool> = words.iter().map(|w| highlights.matches(w)).collect();
    if !matched.contains(&true) {
        return None;
    }
    // Score each window by distinct matched stems, then by total matches.
    let mut best = (0usize, 0usize, 0usize);
    for start in (0..words.len()).filter(|&i| matched[i]) {
        let from = start.saturating_sub(3);
        let to = (from + SNIPPET_WORDS).min(words.len());
        let mut distinct = HashSet::new();
        let mut total = 0;
        for i in from..to {
            if matched[i] {
                distinct.insert(words[i].stem.as_str());
                total += 1;
            }
        }
        if (distinct.len(), total) > (best.1, best.2) {
            best = (from, distinct.len(), total);
        }
    }
    let from = best.0;
    let to = (from + SNIPPET_WORDS).min(words.len());
    Some(render(
        text,
        &words[from..to],
        &matched[from..to],
        from > 0,
        to < words.len(),
    ))
}

/// The opening words of `text`, escaped, for results that matched only in the title.
pub fn lead(text: &str) -> String {
    let words = analysis::words(text);
    let to = SNIPPET_WORDS.min(words.len());
    render(
        text,
        &words[..to],
        &vec![false; to],
        false,
        to < words.len(),
    )
}

fn render(
    text: &str,
    words: &[analysis::Word],
    matched: &[bool],
    ellipsis_before: bool,
    ellipsis_after: bool,
) -> String {
    let mut out = String::new();
    if words.is_empty() {
        return out;
    }
    if ellipsis_before {
        out.push('…');
    }
    let mut pos = if ellipsis_before { words[0].start } else { 0 };
    for (w, &m) in words.iter().zip(matched) {
        escape_html(&text[pos..w.start], &mut out);
        if m {
            out.push_str("<mark>");
            escape_html(&text[w.start..w.end], &mut out);
            out.push_str("</mark>");
        } else {
            escape_html(&text[w.start..w.end], &mut out);
        }
        pos = w.end;
    }
    if ellipsis_after {
        out.push('…');
    } else {
        escape_html(&text[pos..], &mut out);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(exact: &[&str], stems: &[&str]) -> Highlights {
        Highlights {
            exact: exact.iter().map(ToString::to_string).collect(),
            stems: stems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn marks_exact_stemmed_and_escapes() {
        let s = best(
            "Cards <b>charged</b> twice & the charge.",
            &hl(&["twice"], &["charg"]),
        )
        .expect("match");
        assert_eq!(
            s,
            "Cards &lt;b&gt;<mark>charged</mark>&lt;/b&gt; <mark>twice</mark> &amp; the <mark>charge</mark>."
        );
    }

    #[test]
    fn picks_the_window_with_the_matches() {
        let filler = "word ".repeat(60);
        let text = format!("{filler}the refund arrives late {filler}");
        let s = best(&text, &hl(&[], &["refund"])).expect("match");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>refund</mark>"), "{s}");
        assert!(best(&text, &hl(&["nothing"], &[])).is_none());
    }

    #[test]
    fn stop_words_are_not_marked() {
        let s = best("how to top up", &hl(&["how", "top"], &[])).expect("match");
        assert_eq!(s, "how to <mark>top</mark> up");
    }
}
