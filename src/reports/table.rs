//! Table views: the same report rows for HTML, CSV and the terminal.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::*;

/// One table of a report, all cells as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Chooses the table for CSV export (`?table=`).
    pub key: &'static str,
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub(super) fn new(key: &'static str, title: &'static str, columns: &[&'static str]) -> Self {
        Self {
            key,
            title,
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub(super) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// CSV with a header row.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let header: Vec<&str> = self.columns.iter().map(AsRef::as_ref).collect();
        let bytes = crate::spreadsheet::write(&header, &self.rows)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Aligned plain text for the terminal.
    pub fn to_text(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count().min(60));
            }
        }
        let line = |cells: Vec<&str>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| {
                    let c: String = c.chars().take(60).collect();
                    format!("{c:<w$}")
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = format!("{}\n", self.title);
        out.push_str(&line(self.columns.clone()));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        if self.rows.is_empty() {
            out.push_str("(none)\n");
        }
        out
    }
}

pub(super) fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

pub(super) fn secs(s: Option<f64>) -> String {
    s.map_or_else(|| "–".to_string(), duration)
}

pub(super) fn funnel_table(
    key: &'static str,
    title: &'static str,
    rows: &[DeflectionFunnel],
) -> Table {
    let mut t = Table::new(
        key,
        title,
        &[
            "period",
            "sessions",
            "clicked",
            "voted_helpful",
            "filed_ticket",
            "deflection_rate",
            "median_time_to_answer",
        ],
    );
    for f in rows {
        t.row(vec![
            f.period.clone(),
            f.sessions.to_string(),
            f.clicked.to_string(),
            f.voted_helpful.to_string(),
            f.filed_ticket.to_string(),
            opt_percent(f.deflection_rate),
            secs(f.median_time_to_answer_secs),
        ]);
    }
    t
}

impl Report {
    /// Metrics and every table as plain text.
    pub fn to_text(&self) -> String {
        let p = self.period();
        let mut out = format!(
            "{} — {} to {}\n\n",
            self.name().title(),
            p.since.format("%Y-%m-%d %H:%M"),
            p.until.format("%Y-%m-%d %H:%M UTC")
        );
        for m in self.metrics() {
            out.push_str(&format!(
                "{:<22} {:>12}   target {}, warning {}   [{}]\n",
                m.name, m.display, m.target, m.warning, m.status
            ));
        }
        for t in self.tables() {
            out.push('\n');
            out.push_str(&t.to_text());
        }
        out
    }
}

impl Report {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        match self {
            Report::Gaps(r) => r.tables(),
            Report::Searches(r) => r.tables(),
            Report::Deflection(r) => r.tables(),
            Report::Helpfulness(r) => r.tables(),
            Report::Freshness(r) => r.tables(),
            Report::Coverage(r) => r.tables(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn csv_has_a_header_and_quotes() {
        let mut t = Table::new("x", "X", &["query", "n"]);
        t.row(vec!["a, \"b\"".into(), "1".into()]);
        assert_eq!(
            t.to_csv().ok().as_deref(),
            Some("query,n\n\"a, \"\"b\"\"\",1\n")
        );
    }
}
