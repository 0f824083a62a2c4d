//! YAML front matter: splitting it from the body, and validating every key while parsing.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde_yaml_ng::Value;

use super::diagnostic::Diagnostic;

/// Front-matter keys an article may use; anything else is a warning naming the nearest of these.
/// `slug`, `description`, `aliases` and `redirect_from` are the keys docs sites already use.
pub const KNOWN_KEYS: [&str; 15] = [
    "title",
    "summary",
    "description",
    "slug",
    "aliases",
    "redirect_from",
    "last_reviewed",
    "ticket_types",
    "keywords",
    "tags",
    "related",
    "owner",
    "featured",
    "status",
    "order",
];

/// At most this many ticket types per article (the content format).
pub const MAX_TICKET_TYPES: usize = 3;
/// Keywords are alternate phrasings, not a pasted list of questions.
pub const MAX_KEYWORDS: usize = 12;

/// Publication state: only `Published` articles are searchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }
}

/// The validated metadata of an article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FrontMatter {
    pub title: String,
    /// `summary`, or `description` when there is no `summary`.
    pub summary: String,
    /// `slug:`, when it overrides the file name's.
    #[serde(skip)]
    pub slug: Option<String>,
    /// Old paths that answer with a 301 to this article: `aliases` and `redirect_from`.
    #[serde(skip)]
    pub aliases: Vec<String>,
    #[serde(skip)]
    pub aliases_line: usize,
    pub last_reviewed: NaiveDate,
    pub ticket_types: Vec<String>,
    /// Line of `ticket_types:` in the file, for cross-file checks.
    #[serde(skip)]
    pub ticket_types_line: usize,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub related: Vec<String>,
    #[serde(skip)]
    pub related_line: usize,
    pub owner: Option<String>,
    pub featured: bool,
    pub status: ArticleStatus,
    /// Position among its category's articles (`sidebar_position`, `weight` elsewhere).
    #[serde(skip)]
    pub order: Option<i64>,
}

/// A file split into its front matter and body, with the 1-based lines where each starts.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    pub yaml: &'a str,
    pub yaml_first_line: usize,
    pub body: &'a str,
    pub body_first_line: usize,
}

/// Splits `---` front matter from the Markdown body.
pub fn split(src: &str) -> Result<Split<'_>, String> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut lines = src.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err("the file does not start with `---` front matter".into());
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        if line.trim_end() == "---" {
            return Ok(Split {
                yaml: &src[yaml_start..offset],
                yaml_first_line: 2,
                body: &src[offset + line.len()..],
                body_first_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err("the front matter is not closed by a `---` line".into())
}

/// The 1-based file line of each top-level `key:` of the front matter (its first occurrence),
/// found in one pass: a line per key looked up one by one would be quadratic in the keys.
fn key_lines(split_yaml: &str, first_line: usize) -> HashMap<&str, usize> {
    let mut lines = HashMap::new();
    for (i, l) in split_yaml.lines().enumerate() {
        if l.starts_with([' ', '\t', '-', '#']) {
            continue;
        }
        if let Some((key, _)) = l.split_once(':') {
            lines.entry(key.trim_end()).or_insert(first_line + i);
        }
    }
    lines
}

/// Front matter is a few lines; past this it is not parsed (the YAML parser slows down on
/// large pathological input).
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

/// `[` and `{` nested deeper than this are refused before parsing: the YAML parser takes
/// minutes over a deep enough nest.
const MAX_NESTING: usize = 32;

/// Refuses front matter too large or nested too deep to parse quickly: the line (0-based,
/// within the front matter), the message and the fix.
fn bounded(yaml: &str) -> Result<(), (usize, String, &'static str)> {
    if yaml.len() > MAX_FRONT_MATTER_BYTES {
        return Err((
            0,
            format!(
                "the front matter is {} KB; at most {} KB",
                yaml.len() / 1024,
                MAX_FRONT_MATTER_BYTES / 1024
            ),
            "keep the front matter to its keys (title, summary, ...); put text in the body",
        ));
    }
    let mut depth = 0usize;
    for (line, text) in yaml.lines().enumerate() {
        if text.trim_start().starts_with('#') {
            continue;
        }
        // Per line: an apostrophe in plain text (`hasn't`) does not hide the lines after it.
        let mut quote = None::<char>;
        for c in text.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err((
                            line,
                            format!("`[` or `{{` nested more than {MAX_NESTING} deep"),
                            "write lists as `[a, b]` or one `- item` per line; quote text that starts with `[` or `{`",
                        ));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Unknown keys warned about one by one in a file; past this, one warning counts the rest.
const UNKNOWN_KEYS_SHOWN: usize = 20;

/// Parses and validates front matter; every problem is pushed to `diags`.
/// Returns `None` when a required field is unusable.
pub fn parse(
    path: &Path,
    yaml: &str,
    first_line: usize,
    today: NaiveDate,
    diags: &mut Vec<Diagnostic>,
) -> Option<FrontMatter> {
    if let Err((line, message, fix)) = bounded(yaml) {
        diags.push(Diagnostic::error(path, first_line + line, message, fix));
        return None;
    }
    let value: Value = match serde_yaml_ng::from_str(yaml) {
        Ok(v) => v,
        Err(e) => {
            let line = e
                .location()
                .map_or(first_line, |l| first_line + l.line() - 1);
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            diags.push(Diagnostic::error(
                path,
                line,
                format!("front matter is not valid YAML: {msg}"),
                "write `key: value` pairs; quote values containing `: ` or starting with `[`, `{`, `*` or `#`",
            ));
            return None;
        }
    };
    let map = match value {
        Value::Mapping(m) => m,
        Value::Null => serde_yaml_ng::Mapping::new(),
        _ => {
            diags.push(Diagnostic::error(
                path,
                first_line,
                "front matter must be a set of `key: value` lines",
                "start with `title: ...` on its own line",
            ));
            return None;
        }
    };
    let key_lines = key_lines(yaml, first_line);
    let line = |key: &str| key_lines.get(key).copied().unwrap_or(first_line);
    let mut unknown = 0usize;
    let errors_before = diags.iter().filter(|d| d.is_error()).count();

    for key in map.keys() {
        let Some(key) = key.as_str() else {
            diags.push(Diagnostic::error(
                path,
                first_line,
                "a front-matter key is not text",
                "use plain names such as `title`",
            ));
            continue;
        };
        if !KNOWN_KEYS.contains(&key) {
            unknown += 1;
            if unknown > UNKNOWN_KEYS_SHOWN {
                continue;
            }
            let nearest = KNOWN_KEYS
                .iter()
                .min_by_key(|k| strsim::damerau_levenshtein(k, key))
                .copied()
                .unwrap_or("title");
            let fix = if strsim::damerau_levenshtein(nearest, key) <= 3 {
                format!("did you mean `{nearest}`?")
            } else {
                format!("remove it; known keys are {}", KNOWN_KEYS.join(", "))
            };
            // Docs sites carry keys of their own (`sidebar_position`, `weight`, ...): a warning
            // (an error with `deflect check --strict`), never a skipped article.
            diags.push(Diagnostic::warning(
                path,
                line(key),
                format!("unknown front-matter key `{key}`, ignored"),
                fix,
            ));
        }
    }

    if unknown > UNKNOWN_KEYS_SHOWN {
        diags.push(Diagnostic::warning(
            path,
            first_line,
            format!(
                "{} more unknown front-matter keys, ignored",
                unknown - UNKNOWN_KEYS_SHOWN
            ),
            format!("remove them; known keys are {}", KNOWN_KEYS.join(", ")),
        ));
    }

    let get = |key: &str| map.get(key).filter(|v| !v.is_null());
    let mut required_text = |key: &str, fix: &str| -> Option<String> {
        match map.get(key).map(|v| {
            if v.is_null() {
                Some(String::new())
            } else {
                scalar_text(v)
            }
        }) {
            None => {
                diags.push(Diagnostic::error(
                    path,
                    line(key),
                    format!("missing required field `{key}`"),
                    fix,
                ));
                None
            }
            Some(Some(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Some(_)) => {
                diags.push(Diagnostic::error(
                    path,
                    line(key),
                    format!("`{key}` is empty"),
                    fix,
                ));
                None
            }
            Some(None) => {
                diags.push(Diagnostic::error(
                    path,
                    line(key),
                    format!("`{key}` must be text, not a list or a map"),
                    fix,
                ));
                None
            }
        }
    };
    let title = required_text(
        "title",
        "add `title: <the customer's question in their words>`",
    );
    let summary_key = if map.contains_key("summary") || !map.contains_key("description") {
        "summary"
    } else {
        "description"
    };
    let summary = required_text(
        summary_key,
        "add `summary: <one sentence saying what the article answers>` (or `description:`)",
    );
    let reviewed_text = required_text(
        "last_reviewed",
        "add `last_reviewed: YYYY-MM-DD`, the day the article was last checked",
    );

    let last_reviewed =
        reviewed_text.and_then(|s| match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) if d > today => {
                diags.push(Diagnostic::error(
                    path,
                    line("last_reviewed"),
                    format!("`last_reviewed` {d} is in the future"),
                    format!("use the date the article was actually reviewed, {today} or earlier"),
                ));
                None
            }
            Ok(d) => {
                let age = (today - d).num_days();
                if age > 180 {
                    diags.push(Diagnostic::warning(
                        path,
                        line("last_reviewed"),
                        format!("`last_reviewed` {d} is {age} days ago (stale after 180)"),
                        "review the article and update `last_reviewed`",
                    ));
                }
                Some(d)
            }
            Err(_) => {
                diags.push(Diagnostic::error(
                    path,
                    line("last_reviewed"),
                    format!("`last_reviewed` `{s}` is not a date"),
                    "write it as YYYY-MM-DD, e.g. 2026-10-01",
                ));
                None
            }
        });

    let mut list = |key: &str| -> Vec<String> {
        match get(key) {
            None => Vec::new(),
            Some(Value::Sequence(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match scalar_text(item) {
                        Some(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        _ => diags.push(Diagnostic::error(
                            path,
                            line(key),
                            format!("`{key}` contains an empty or non-text item"),
                            format!("write `{key}: [first, second]` with plain text items"),
                        )),
                    }
                }
                out
            }
            Some(v) => match scalar_text(v) {
                Some(s) if !s.trim().is_empty() => vec![s.trim().to_string()],
                _ => {
                    diags.push(Diagnostic::error(
                        path,
                        line(key),
                        format!("`{key}` must be a list"),
                        format!("write `{key}: [first, second]`"),
                    ));
                    Vec::new()
                }
            },
        }
    };
    let ticket_types = list("ticket_types");
    let keywords = list("keywords");
    let tags = list("tags");
    let related = list("related");
    let alias_lists = [
        ("aliases", list("aliases")),
        ("redirect_from", list("redirect_from")),
    ];
    let slug = match get("slug").map(scalar_text) {
        None => None,
        Some(Some(s)) if is_slug(s.trim()) => Some(s.trim().to_string()),
        Some(s) => {
            diags.push(Diagnostic::error(
                path,
                line("slug"),
                format!(
                    "`slug` `{}` is not a valid slug",
                    s.unwrap_or_default().trim()
                ),
                "use lowercase letters, digits and hyphens, e.g. `slug: card-not-arrived`",
            ));
            None
        }
    };
    let mut aliases = Vec::new();
    let mut aliases_line = 0;
    for (key, given) in alias_lists {
        if map.contains_key(key) && aliases_line == 0 {
            aliases_line = line(key);
        }
        for alias in given {
            match normalize_path(&alias) {
                Some(p) => aliases.push(p),
                None => diags.push(Diagnostic::error(
                    path,
                    line(key),
                    format!("`{key}` entry `{alias}` is not a path on this site"),
                    "write the old path the article had, e.g. `/hc/en-us/articles/360001234-How-to`",
                )),
            }
        }
    }

    if ticket_types.len() > MAX_TICKET_TYPES {
        diags.push(Diagnostic::error(
            path,
            line("ticket_types"),
            format!(
                "{} ticket types listed, at most {MAX_TICKET_TYPES} allowed",
                ticket_types.len()
            ),
            "keep the ticket types this article answers best, or split the article",
        ));
    }
    if keywords.len() > MAX_KEYWORDS {
        diags.push(Diagnostic::warning(
            path,
            line("keywords"),
            format!("{} keywords, more than {MAX_KEYWORDS}", keywords.len()),
            "keep short alternate phrasings and misspellings; put the rest into the article or synonyms.txt",
        ));
    }

    let owner = match get("owner") {
        None => None,
        Some(v) => match scalar_text(v) {
            Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => {
                diags.push(Diagnostic::error(
                    path,
                    line("owner"),
                    "`owner` must be a team or person name",
                    "write `owner: payments-team`",
                ));
                None
            }
        },
    };
    let featured = match get("featured") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            diags.push(Diagnostic::error(
                path,
                line("featured"),
                "`featured` must be true or false",
                "write `featured: true` or `featured: false`",
            ));
            false
        }
    };
    let status = match get("status").map(scalar_text) {
        None => Some(ArticleStatus::Published),
        Some(Some(s)) => match s.trim() {
            "draft" => Some(ArticleStatus::Draft),
            "published" => Some(ArticleStatus::Published),
            "archived" => Some(ArticleStatus::Archived),
            other => {
                diags.push(Diagnostic::error(
                    path,
                    line("status"),
                    format!("unknown status `{other}`"),
                    "use draft, published or archived",
                ));
                None
            }
        },
        Some(None) => {
            diags.push(Diagnostic::error(
                path,
                line("status"),
                "`status` must be text",
                "use draft, published or archived",
            ));
            None
        }
    };

    let order = match get("order") {
        None => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(_) => {
            diags.push(Diagnostic::error(
                path,
                line("order"),
                "`order` must be a whole number",
                "write `order: 3`; lower numbers come first in the category",
            ));
            None
        }
    };

    let errors_after = diags.iter().filter(|d| d.is_error()).count();
    if errors_after > errors_before {
        return None;
    }
    Some(FrontMatter {
        title: title?,
        summary: summary?,
        slug,
        aliases,
        aliases_line,
        last_reviewed: last_reviewed?,
        ticket_types,
        ticket_types_line: line("ticket_types"),
        keywords,
        tags,
        related,
        related_line: line("related"),
        owner,
        featured,
        status: status?,
        order,
    })
}

/// Whether `s` is a valid slug: lowercase ASCII letters, digits and hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An old URL or path as the redirect table keys it: the path only (scheme, host, query and
/// fragment dropped), with a leading `/` and no trailing one. `None` when nothing is left or it
/// holds characters no path has.
pub fn normalize_path(raw: &str) -> Option<String> {
    let mut p = raw.trim();
    if let Some(rest) = p
        .strip_prefix("https://")
        .or_else(|| p.strip_prefix("http://"))
    {
        p = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let p = p.split(['?', '#']).next().unwrap_or_default();
    if p.is_empty() || p.contains("://") || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let mut out = String::with_capacity(p.len() + 1);
    if !p.starts_with('/') {
        out.push('/');
    }
    out.push_str(p);
    while out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    Some(out)
}

/// Text of a YAML scalar; numbers and booleans count as text (`title: 2026` is a title).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date")
    }

    fn run(yaml: &str) -> (Option<FrontMatter>, Vec<String>) {
        let mut diags = Vec::new();
        let fm = parse(Path::new("a.md"), yaml, 2, today(), &mut diags);
        (fm, diags.iter().map(ToString::to_string).collect())
    }

    const GOOD: &str = "title: My card hasn't arrived\nsummary: What to do.\nlast_reviewed: 2026-10-01\nticket_types: [card_arrival]\nkeywords: [card late]\nstatus: published\n";

    #[test]
    fn parses_a_good_front_matter() {
        let (fm, diags) = run(GOOD);
        assert!(diags.is_empty(), "{diags:?}");
        let fm = fm.expect("parsed");
        assert_eq!(fm.title, "My card hasn't arrived");
        assert_eq!(fm.ticket_types, vec!["card_arrival"]);
        assert_eq!(fm.ticket_types_line, 5);
        assert_eq!(fm.status, ArticleStatus::Published);
    }

    #[test]
    fn front_matter_too_big_or_too_deep_is_refused_before_parsing() {
        let deep = format!("title: t\nkeywords: {}{}\n", "[".repeat(40), "]".repeat(40));
        let (fm, diags) = run(&deep);
        assert!(fm.is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].starts_with("a.md:3: error: `[` or `{` nested more than 32"),
            "{diags:?}"
        );
        // Brackets inside quotes are text.
        let quoted = format!("{GOOD}description: \"{}\"\n", "[".repeat(40));
        let (fm, diags) = run(&quoted);
        assert!(fm.is_some(), "{diags:?}");
        let big = format!("{GOOD}keywords: [{}]\n", "word, ".repeat(20_000));
        let (fm, diags) = run(&big);
        assert!(fm.is_none());
        assert!(
            diags[0].starts_with("a.md:2: error: the front matter is 117 KB; at most 64 KB"),
            "{diags:?}"
        );
    }

    #[test]
    fn many_unknown_keys_are_warned_about_twenty_then_counted() {
        let extra: String = (0..30).map(|i| format!("extra{i}: v\n")).collect();
        let (fm, diags) = run(&format!("{GOOD}{extra}"));
        assert!(fm.is_some());
        assert_eq!(diags.len(), UNKNOWN_KEYS_SHOWN + 1, "{diags:?}");
        assert!(
            diags[0].starts_with("a.md:8: warning: unknown front-matter key `extra0`"),
            "{diags:?}"
        );
        assert!(
            diags[UNKNOWN_KEYS_SHOWN].contains("10 more unknown front-matter keys"),
            "{diags:?}"
        );
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let yaml = "title: \nsumary: x\nlast_reviewed: 2030-01-01\nticket_types: [a, b, c, d]\nstatus: live\n";
        let (fm, diags) = run(yaml);
        assert!(fm.is_none());
        let all = diags.join("\n");
        assert!(all.contains("a.md:2: error: `title` is empty"), "{all}");
        assert!(
            all.contains(
                "a.md:3: warning: unknown front-matter key `sumary`, ignored — did you mean `summary`?"
            ),
            "{all}"
        );
        assert!(all.contains("missing required field `summary`"), "{all}");
        assert!(
            all.contains("a.md:4: error: `last_reviewed` 2030-01-01 is in the future"),
            "{all}"
        );
        assert!(
            all.contains("a.md:5: error: 4 ticket types listed"),
            "{all}"
        );
        assert!(
            all.contains("a.md:6: error: unknown status `live`"),
            "{all}"
        );
    }

    #[test]
    fn bad_dates_and_stale_dates() {
        let (fm, diags) = run("title: t\nsummary: s\nlast_reviewed: 1st of May\n");
        assert!(fm.is_none());
        assert!(diags[0].contains("is not a date"), "{diags:?}");
        let (fm, diags) = run("title: t\nsummary: s\nlast_reviewed: 2025-01-01\n");
        assert!(fm.is_some());
        assert!(
            diags[0].contains("warning: `last_reviewed` 2025-01-01 is"),
            "{diags:?}"
        );
    }

    #[test]
    fn yaml_syntax_errors_name_the_file_line() {
        let (fm, diags) = run("title: t\nsummary: [unclosed\nlast_reviewed: 2026-01-01\n");
        assert!(fm.is_none());
        assert!(diags[0].starts_with("a.md:"), "{diags:?}");
        assert!(diags[0].contains("not valid YAML"), "{diags:?}");
    }

    #[test]
    fn split_finds_body_and_lines() {
        let s = split("---\ntitle: x\n---\n\nBody\n").expect("split");
        assert_eq!(s.yaml, "title: x\n");
        assert_eq!(s.body, "\nBody\n");
        assert_eq!(s.body_first_line, 4);
        assert!(split("no front matter").is_err());
        assert!(split("---\ntitle: x\n").is_err());
    }
}
