//! `synonyms.txt` in the Solr/Elasticsearch format: `a, b, c` (all equivalent) and
//! `a, b => c, d` (a query with a or b also searches c and d). `#` starts a comment.

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
    rules
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
