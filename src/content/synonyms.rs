//! `synonyms.txt` in the Solr/Elasticsearch format: `a, b, c` (all equivalent) and
//! `a, b => c, d` (a query with a or b also searches c and d). `#` starts a comment.

use std::collections::HashMap;
use std::path::Path;

use super::diagnostic::Diagnostic;

/// One synonym line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SynonymRule {
    /// Every term stands for every other.
    Equivalent { terms: Vec<String>, line: usize },
    /// Each `from` term also searches every `to` term, not the other way round.
    OneWay {
        from: Vec<String>,
        to: Vec<String>,
        line: usize,
    },
}

/// Terms on one line at most: each term of a group searches every other, so a line of
/// thousands would make every query that meets it enormous.
pub const MAX_TERMS_PER_LINE: usize = 64;

/// Expansions one term gets at most, over all lines; the rest are ignored (with a warning).
pub const MAX_EXPANSIONS: usize = 64;

fn terms(side: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    for t in side.split(',') {
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.is_empty() {
            return Err("an empty term between commas");
        }
        if !t.chars().any(char::is_alphanumeric) {
            return Err("a term with no letters or digits");
        }
        out.push(t.to_lowercase());
    }
    Ok(out)
}

/// Parses the whole file, reporting every malformed line and keeping the good ones.
pub fn parse(path: &Path, src: &str, diags: &mut Vec<Diagnostic>) -> Vec<SynonymRule> {
    let mut rules = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let line = i + 1;
        let content = match raw.find('#') {
            Some(pos) => &raw[..pos],
            None => raw,
        }
        .trim();
        if content.is_empty() {
            continue;
        }
        let fix_format = "write `a, b, c` for equivalent terms or `a => b, c` for a one-way rule";
        let count = content.split([',', '=']).count();
        if count > MAX_TERMS_PER_LINE + 1 {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("a synonym line of about {count} terms; at most {MAX_TERMS_PER_LINE}"),
                "split it into small groups of words that mean the same: each term searches every other",
            ));
            continue;
        }
        let parts: Vec<&str> = content.split("=>").collect();
        match parts.as_slice() {
            [group] => match terms(group) {
                Ok(t) if t.len() >= 2 => rules.push(SynonymRule::Equivalent { terms: t, line }),
                Ok(_) => diags.push(Diagnostic::error(
                    path,
                    line,
                    "a synonym group needs at least two terms",
                    fix_format,
                )),
                Err(e) => diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("malformed synonym line: {e}"),
                    fix_format,
                )),
            },
            [from, to] => match (terms(from), terms(to)) {
                (Ok(from), Ok(to)) => rules.push(SynonymRule::OneWay { from, to, line }),
                (Err(e), _) | (_, Err(e)) => {
                    let e = if from.trim().is_empty() || to.trim().is_empty() {
                        "one side of `=>` is empty"
                    } else {
                        e
                    };
                    diags.push(Diagnostic::error(
                        path,
                        line,
                        format!("malformed synonym line: {e}"),
                        fix_format,
                    ));
                }
            },
            _ => diags.push(Diagnostic::error(
                path,
                line,
                "more than one `=>` on a line",
                "split it into one rule per line",
            )),
        }
    }
    warn_over_expanded(path, &rules, diags);
    rules
}

/// Warns, once per term, where a term passes [`MAX_EXPANSIONS`] (the search ignores the rest).
fn warn_over_expanded(path: &Path, rules: &[SynonymRule], diags: &mut Vec<Diagnostic>) {
    let mut expansions: HashMap<&str, usize> = HashMap::new();
    for rule in rules {
        let (from, more, line) = match rule {
            SynonymRule::Equivalent { terms, line } => (terms, terms.len() - 1, *line),
            SynonymRule::OneWay { from, to, line } => (from, to.len(), *line),
        };
        for term in from {
            let n = expansions.entry(term).or_default();
            let before = *n;
            *n += more;
            if before <= MAX_EXPANSIONS && *n > MAX_EXPANSIONS {
                diags.push(Diagnostic::warning(
                    path,
                    line,
                    format!("`{term}` has more than {MAX_EXPANSIONS} synonyms here; the rest are ignored"),
                    "keep a term's synonyms to the few words customers really use for it",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_comments() {
        let src = "# comment\nlog in, login, Sign  In\n\niphone => ios, apple phone # trailing\n";
        let mut diags = Vec::new();
        let rules = parse(Path::new("s.txt"), src, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            rules,
            vec![
                SynonymRule::Equivalent {
                    terms: vec!["log in".into(), "login".into(), "sign in".into()],
                    line: 2
                },
                SynonymRule::OneWay {
                    from: vec!["iphone".into()],
                    to: vec!["ios".into(), "apple phone".into()],
                    line: 4
                },
            ]
        );
    }

    #[test]
    fn long_lines_are_errors_and_over_expanded_terms_warned() {
        let group: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
        let one_way: String = (0..70).map(|i| format!("card => c{i}\n")).collect();
        let src = format!("{}\nok, fine\n{one_way}", group.join(", "));
        let mut diags = Vec::new();
        let rules = parse(Path::new("s.txt"), &src, &mut diags);
        assert_eq!(rules.len(), 71, "the long line is skipped, the rest kept");
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags[0].is_error() && diags[0].line == 1, "{diags:?}");
        assert!(!diags[1].is_error(), "{diags:?}");
        assert_eq!(diags[1].line, 2 + MAX_EXPANSIONS + 1, "{diags:?}");
        assert!(diags[1].message.contains("`card`"), "{diags:?}");
    }

    #[test]
    fn reports_each_malformed_line() {
        let src = "a,,b\nlonely\n=> b\na => b => c\n!!, ok\ngood, fine\n";
        let mut diags = Vec::new();
        let rules = parse(Path::new("s.txt"), src, &mut diags);
        assert_eq!(rules.len(), 1);
        let lines: Vec<usize> = diags.iter().map(|d| d.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
        assert!(diags[2].message.contains("one side of `=>` is empty"));
    }
}
