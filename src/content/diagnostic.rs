//! Problems found in content, each naming the file, the line, what is wrong and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a content problem is: errors fail `deflect check`, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in one content file, printed as `path:line: error: message — fix`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub path: PathBuf,
    /// 1-based line number; 0 when the problem concerns the whole file.
    pub line: usize,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
}

impl Diagnostic {
    pub fn error(
        path: &Path,
        line: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, path, line, message, fix)
    }

    pub fn warning(
        path: &Path,
        line: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, path, line, message, fix)
    }

    fn new(
        severity: Severity,
        path: &Path,
        line: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            line,
            severity,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": {}: {}", self.severity, self.message)?;
        if !self.fix.is_empty() {
            write!(f, " — {}", self.fix)?;
        }
        Ok(())
    }
}

/// 1-based line number of a byte offset in `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Lines of one text, for many offset-to-line lookups: each is a binary search, where
/// [`line_of_offset`] counts from the start (quadratic over a file's many links).
pub struct LineIndex {
    /// Byte offsets of the text's newlines.
    newlines: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        Self {
            newlines: text
                .bytes()
                .enumerate()
                .filter_map(|(i, b)| (b == b'\n').then_some(i))
                .collect(),
        }
    }

    /// 1-based line number of a byte offset, as [`line_of_offset`].
    pub fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&n| n < offset) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_agrees_with_counting() {
        let text = "a\nbc\n\nd\n";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(index.line(offset), line_of_offset(text, offset), "{offset}");
        }
    }

    #[test]
    fn display_names_file_line_severity_and_fix() {
        let d = Diagnostic::error(
            Path::new("cards/a.md"),
            3,
            "title is empty",
            "write the customer's question",
        );
        assert_eq!(
            d.to_string(),
            "cards/a.md:3: error: title is empty — write the customer's question"
        );
        let w = Diagnostic::warning(Path::new("synonyms.txt"), 0, "odd", "");
        assert_eq!(w.to_string(), "synonyms.txt: warning: odd");
    }

    #[test]
    fn line_of_offset_counts_newlines() {
        let text = "a\nb\nc";
        assert_eq!(line_of_offset(text, 0), 1);
        assert_eq!(line_of_offset(text, 2), 2);
        assert_eq!(line_of_offset(text, 4), 3);
        assert_eq!(line_of_offset(text, 100), 3);
    }
}
