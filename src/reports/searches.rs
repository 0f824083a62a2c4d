//! The searches report: top queries, zero-result and click-through by day, refinements and
//! the synonyms they suggest.

use std::collections::HashMap;

use serde::Serialize;

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopQuery {
    pub query: String,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    pub click_through: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySearches {
    pub day: String,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    pub zero_result_rate: Option<f64>,
    pub search_success: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refinement {
    pub from: String,
    pub to: String,
    pub count: i64,
    /// `from` failed and `to` was clicked.
    pub ended_in_click: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynonymProposal {
    pub from: String,
    pub to: String,
    pub evidence: i64,
    /// Ready to paste into synonyms.txt.
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchesReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub searches: i64,
    pub zero_results: i64,
    pub clicked: i64,
    pub refinements: i64,
    pub top_queries: Vec<TopQuery>,
    pub daily: Vec<DaySearches>,
    pub top_refinements: Vec<Refinement>,
    pub synonym_proposals: Vec<SynonymProposal>,
}

/// Synonym lines from refinements that ended in a click, skipping what search already
/// handles: a completion of the first query (as-you-type) or a typo of it.
pub fn propose_synonyms(
    pairs: &[Refinement],
    corrected: &HashMap<&str, &str>,
) -> Vec<SynonymProposal> {
    let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    let stems = |s: &str| stems(&stemmer, s);
    let mut out: Vec<SynonymProposal> = Vec::new();
    for p in pairs.iter().filter(|p| p.ended_in_click > 0) {
        let (from, to) = (p.from.trim(), p.to.trim());
        if from.is_empty() || to.is_empty() || to.starts_with(from) || from.starts_with(to) {
            continue;
        }
        let fixed_by_correction = corrected.get(from).is_some_and(|c| c.trim() == to);
        let (sf, st) = (stems(from), stems(to));
        if fixed_by_correction || sf == st || is_typo_of(from, to) || is_typo_of(&sf, &st) {
            continue;
        }
        if out.iter().any(|o| o.from == from) {
            continue; // one rule per source: the best-supported target came first
        }
        out.push(SynonymProposal {
            from: from.to_string(),
            to: to.to_string(),
            evidence: p.ended_in_click,
            line: format!("{from} => {to}"),
        });
    }
    out
}

pub(super) async fn build(
    inputs: Inputs<'_>,
    period: Period,
) -> Result<SearchesReport, ReportError> {
    let store = inputs.store;
    let rows = query_day_stats(store, period).await?;
    let stats = per_query(&rows, period.last_week_start().date_naive());
    let mut days: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    for r in &rows {
        let d = days.entry(r.day.as_str()).or_default();
        *d = (d.0 + r.searches, d.1 + r.zero_results, d.2 + r.clicked);
    }
    let refinements = refinements(store, period).await?;
    let (searches, zero_results, clicked) = stats.iter().fold((0, 0, 0), |(s, z, c), q| {
        (s + q.searches, z + q.zero_results, c + q.clicked)
    });
    let top_queries = stats
        .iter()
        .take(25)
        .map(|q| TopQuery {
            query: q.normalized.clone(),
            searches: q.searches,
            zero_results: q.zero_results,
            clicked: q.clicked,
            click_through: rate(q.clicked, q.searches),
        })
        .collect();
    let top_refinements: Vec<Refinement> = refinements
        .pairs
        .iter()
        .map(|p| Refinement {
            from: p.from.clone(),
            to: p.to.clone(),
            count: p.count,
            ended_in_click: p.fixed,
        })
        .collect();
    let corrected: HashMap<&str, &str> = stats
        .iter()
        .filter_map(|q| Some((q.normalized.as_str(), q.corrected_query.as_deref()?)))
        .collect();
    let synonym_proposals = propose_synonyms(&top_refinements, &corrected);
    Ok(SearchesReport {
        period,
        metrics: vec![
            SEARCH_SUCCESS.ratio(clicked, searches),
            ZERO_RESULT_RATE.ratio(zero_results, searches),
            REFINEMENT_RATE.ratio(refinements.total, searches),
        ],
        searches,
        zero_results,
        clicked,
        refinements: refinements.total,
        top_queries,
        daily: days
            .into_iter()
            .map(|(day, (searches, zero_results, clicked))| DaySearches {
                zero_result_rate: rate(zero_results, searches),
                search_success: rate(clicked, searches),
                day: day.to_string(),
                searches,
                zero_results,
                clicked,
            })
            .collect(),
        top_refinements: top_refinements.into_iter().take(25).collect(),
        synonym_proposals,
    })
}

impl SearchesReport {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        let mut top = Table::new(
            "top_queries",
            "Top queries",
            &[
                "query",
                "searches",
                "zero_results",
                "clicked",
                "click_through",
            ],
        );
        for q in &self.top_queries {
            top.row(vec![
                q.query.clone(),
                q.searches.to_string(),
                q.zero_results.to_string(),
                q.clicked.to_string(),
                opt_percent(q.click_through),
            ]);
        }
        let mut daily = Table::new(
            "daily",
            "Per day",
            &[
                "day",
                "searches",
                "zero_results",
                "clicked",
                "zero_result_rate",
                "search_success",
            ],
        );
        for d in &self.daily {
            daily.row(vec![
                d.day.clone(),
                d.searches.to_string(),
                d.zero_results.to_string(),
                d.clicked.to_string(),
                opt_percent(d.zero_result_rate),
                opt_percent(d.search_success),
            ]);
        }
        let mut refine = Table::new(
            "refinements",
            "Refinements (another search within 2 min)",
            &["from", "to", "count", "ended_in_click"],
        );
        for p in &self.top_refinements {
            refine.row(vec![
                p.from.clone(),
                p.to.clone(),
                p.count.to_string(),
                p.ended_in_click.to_string(),
            ]);
        }
        let mut syn = Table::new(
            "synonyms",
            "Proposed synonyms (paste into synonyms.txt)",
            &["line", "evidence"],
        );
        for s in &self.synonym_proposals {
            syn.row(vec![s.line.clone(), s.evidence.to_string()]);
        }
        vec![top, daily, refine, syn]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn synonyms_skip_completions_and_typos() {
        let pair = |from: &str, to: &str| Refinement {
            from: from.into(),
            to: to.into(),
            count: 3,
            ended_in_click: 2,
        };
        let pairs = [
            pair("pas", "password"),
            pair("pasword", "password"),
            pair("cash machine", "atm"),
            pair("cash machine", "atm withdrawal"),
            pair("lost card", "lost cards"),
            Refinement {
                ended_in_click: 0,
                ..pair("iban", "account number")
            },
            pair("wire", "transfer"),
        ];
        let corrected = HashMap::from([("wire", "transfer")]);
        let lines: Vec<String> = propose_synonyms(&pairs, &corrected)
            .into_iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, ["cash machine => atm"]);
    }
}
