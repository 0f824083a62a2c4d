//! `ticket-types.toml`: the ticket taxonomy with routing tier and default priority.

use std::fmt;
use std::path::Path;

use super::diagnostic::{Diagnostic, LineIndex, line_of_offset};

/// Who handles a ticket type: front line, specialists or engineering/compliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum RoutingTier {
    L1,
    L2,
    L3,
}

/// Default priority, P1 (critical) to P5 (request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
    P5,
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for RoutingTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One ticket type of the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketType {
    pub id: String,
    pub name: String,
    pub tier: RoutingTier,
    pub priority: Priority,
    /// Line of its `[[ticket_type]]` entry.
    #[serde(skip)]
    pub line: usize,
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    ticket_type: Vec<toml::Spanned<toml::Table>>,
}

const FIELDS: [&str; 4] = ["id", "name", "tier", "priority"];

/// Parses the taxonomy, reporting every problem; valid entries are kept.
pub fn parse(path: &Path, src: &str, diags: &mut Vec<Diagnostic>) -> Vec<TicketType> {
    let file: File = match toml::from_str(src) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().map_or(1, |s| line_of_offset(src, s.start));
            diags.push(Diagnostic::error(
                path,
                line,
                format!("not valid TOML: {}", e.message()),
                "each entry is `[[ticket_type]]` followed by id, name, tier and priority lines",
            ));
            return Vec::new();
        }
    };
    let mut out: Vec<TicketType> = Vec::new();
    let lines = LineIndex::new(src);
    for entry in &file.ticket_type {
        let line = lines.line(entry.span().start);
        let table = entry.get_ref();
        let mut ok = true;
        for key in table.keys() {
            if !FIELDS.contains(&key.as_str()) {
                let nearest = FIELDS
                    .iter()
                    .min_by_key(|f| strsim::levenshtein(f, key))
                    .copied()
                    .unwrap_or("id");
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("unknown key `{key}` in a ticket type"),
                    format!("did you mean `{nearest}`?"),
                ));
                ok = false;
            }
        }
        let mut text = |key: &str, fix: &str| -> Option<String> {
            match table.get(key).and_then(toml::Value::as_str) {
                Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => {
                    diags.push(Diagnostic::error(
                        path,
                        line,
                        format!("ticket type is missing `{key}` (or it is not text)"),
                        fix,
                    ));
                    ok = false;
                    None
                }
            }
        };
        let id = text("id", "add `id = \"card_arrival\"`");
        let name = text("name", "add `name = \"Card hasn't arrived\"`");
        let tier = text("tier", "add `tier = \"L1\"` (L1, L2 or L3)");
        let priority = text("priority", "add `priority = \"P4\"` (P1 to P5)");
        let tier = tier.and_then(|t| match t.as_str() {
            "L1" => Some(RoutingTier::L1),
            "L2" => Some(RoutingTier::L2),
            "L3" => Some(RoutingTier::L3),
            other => {
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("unknown tier `{other}`"),
                    "use L1, L2 or L3",
                ));
                None
            }
        });
        let priority = priority.and_then(|p| match p.as_str() {
            "P1" => Some(Priority::P1),
            "P2" => Some(Priority::P2),
            "P3" => Some(Priority::P3),
            "P4" => Some(Priority::P4),
            "P5" => Some(Priority::P5),
            other => {
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("unknown priority `{other}`"),
                    "use P1, P2, P3, P4 or P5",
                ));
                None
            }
        });
        let (Some(id), Some(name), Some(tier), Some(priority), true) =
            (id, name, tier, priority, ok)
        else {
            continue;
        };
        if let Some(first) = out.iter().find(|t| t.id == id) {
            diags.push(Diagnostic::error(
                path,
                line,
                format!(
                    "duplicate ticket type `{id}`, first defined on line {}",
                    first.line
                ),
                "remove one of the two entries",
            ));
            continue;
        }
        out.push(TicketType {
            id,
            name,
            tier,
            priority,
            line,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_reports_bad_ones() {
        let src = "[[ticket_type]]\nid = \"card_arrival\"\nname = \"Card late\"\ntier = \"L1\"\npriority = \"P4\"\n\n[[ticket_type]]\nid = \"x\"\nname = \"X\"\ntier = \"L9\"\npriority = \"P4\"\n\n[[ticket_type]]\nid = \"card_arrival\"\nname = \"again\"\ntier = \"L1\"\npriorty = \"P4\"\n";
        let mut diags = Vec::new();
        let types = parse(Path::new("ticket-types.toml"), src, &mut diags);
        assert_eq!(types.len(), 1);
        assert_eq!(types[0].priority, Priority::P4);
        assert_eq!(types[0].line, 1);
        let all: Vec<String> = diags.iter().map(ToString::to_string).collect();
        let all = all.join("\n");
        assert!(
            all.contains("ticket-types.toml:7: error: unknown tier `L9`"),
            "{all}"
        );
        assert!(
            all.contains("unknown key `priorty` in a ticket type — did you mean `priority`?"),
            "{all}"
        );
    }

    #[test]
    fn invalid_toml_names_the_line() {
        let mut diags = Vec::new();
        let types = parse(Path::new("t.toml"), "[[ticket_type]]\nid = \n", &mut diags);
        assert!(types.is_empty());
        assert!(
            diags[0]
                .to_string()
                .starts_with("t.toml:2: error: not valid TOML"),
            "{:?}",
            diags
        );
    }
}
