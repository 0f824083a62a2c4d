//! The coverage report: ticket types with and without a published article.

use serde::Serialize;

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketTypeCoverage {
    pub id: String,
    pub name: String,
    pub articles: Vec<String>,
    pub covered: bool,
    /// Tickets of this type filed in the period.
    pub tickets: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub ticket_types: Vec<TicketTypeCoverage>,
    /// Ticket categories by tickets filed in the period, including ones outside the taxonomy.
    pub most_filed: Vec<TicketTypeCount>,
}

pub(super) async fn build(
    inputs: Inputs<'_>,
    period: Period,
) -> Result<CoverageReport, ReportError> {
    let filed = inputs
        .store
        .tickets_by_category(period.since, period.until)
        .await?;
    let count_of: HashMap<&str, i64> = filed
        .iter()
        .map(|(c, n)| (c.as_deref().unwrap_or(""), *n))
        .collect();
    let mut ticket_types: Vec<TicketTypeCoverage> = inputs
        .kb
        .ticket_types
        .iter()
        .map(|t| {
            let articles: Vec<String> = inputs
                .kb
                .published()
                .filter(|a| a.front.ticket_types.contains(&t.id))
                .map(|a| a.slug.clone())
                .collect();
            TicketTypeCoverage {
                id: t.id.clone(),
                name: t.name.clone(),
                covered: !articles.is_empty(),
                articles,
                tickets: count_of.get(t.id.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    // Uncovered and most filed first: that is what to write next.
    ticket_types.sort_by(|a, b| {
        a.covered
            .cmp(&b.covered)
            .then(b.tickets.cmp(&a.tickets))
            .then_with(|| a.id.cmp(&b.id))
    });
    let covered = ticket_types.iter().filter(|t| t.covered).count();
    let names: HashMap<&str, &str> = inputs
        .kb
        .ticket_types
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    let most_filed = filed
        .iter()
        .map(|(c, n)| {
            let id = c.clone().unwrap_or_default();
            TicketTypeCount {
                name: names.get(id.as_str()).map(|s| (*s).to_string()),
                ticket_type: id,
                tickets: *n,
            }
        })
        .collect();
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    Ok(CoverageReport {
        period,
        metrics: vec![COVERAGE.ratio(n(covered), n(ticket_types.len()))],
        ticket_types,
        most_filed,
    })
}

impl CoverageReport {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            "ticket_types",
            "Ticket types and their articles",
            &["ticket_type", "name", "covered", "articles", "tickets"],
        );
        for c in &self.ticket_types {
            t.row(vec![
                c.id.clone(),
                c.name.clone(),
                if c.covered { "yes" } else { "no" }.to_string(),
                c.articles.join(" "),
                c.tickets.to_string(),
            ]);
        }
        let mut m = Table::new(
            "most_filed",
            "Ticket types customers file most",
            &["ticket_type", "name", "tickets"],
        );
        for c in &self.most_filed {
            m.row(vec![
                if c.ticket_type.is_empty() {
                    "(none)".into()
                } else {
                    c.ticket_type.clone()
                },
                c.name.clone().unwrap_or_default(),
                c.tickets.to_string(),
            ]);
        }
        vec![t, m]
    }
}
