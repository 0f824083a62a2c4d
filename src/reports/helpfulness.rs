//! The helpfulness report: votes per article, flagged articles and readers' comments.

use serde::Serialize;

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleHelpfulness {
    pub slug: String,
    pub title: Option<String>,
    pub yes: i64,
    pub no: i64,
    pub rate: Option<f64>,
    pub previous_rate: Option<f64>,
    /// Change of the rate against the previous period, in percentage points.
    pub change_points: Option<f64>,
    /// Reasons given with "No", most frequent first.
    pub reasons: Vec<(String, i64)>,
    /// Below 60 % with at least 5 votes.
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub slug: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HelpfulnessReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub articles: Vec<ArticleHelpfulness>,
    pub comments: Vec<Comment>,
}

pub(super) async fn build(
    inputs: Inputs<'_>,
    period: Period,
) -> Result<HelpfulnessReport, ReportError> {
    let store = inputs.store;
    let previous = period.previous();
    let votes = store
        .article_votes(previous.since, period.since, period.until)
        .await?;
    let mut reasons: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for r in store.vote_reasons(period.since, period.until).await? {
        reasons.entry(r.slug).or_default().push((r.reason, r.count));
    }
    let (mut yes, mut no) = (0, 0);
    let mut articles: Vec<ArticleHelpfulness> = votes
        .into_iter()
        .filter(|v| v.yes + v.no > 0)
        .map(|v| {
            yes += v.yes;
            no += v.no;
            let r = rate(v.yes, v.yes + v.no);
            let p = rate(v.previous_yes, v.previous_yes + v.previous_no);
            ArticleHelpfulness {
                title: inputs
                    .kb
                    .articles
                    .iter()
                    .find(|a| a.slug == v.slug)
                    .map(|a| a.front.title.clone()),
                reasons: reasons.remove(&v.slug).unwrap_or_default(),
                flagged: v.yes + v.no >= FLAG_MIN_VOTES && r.is_some_and(|r| r < FLAG_BELOW),
                change_points: r.zip(p).map(|(r, p)| ((r - p) * 1000.0).round() / 10.0),
                slug: v.slug,
                yes: v.yes,
                no: v.no,
                rate: r,
                previous_rate: p,
            }
        })
        .collect();
    // Flagged first, then the least helpful with the most votes.
    articles.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then(a.rate.unwrap_or(1.0).total_cmp(&b.rate.unwrap_or(1.0)))
            .then((b.yes + b.no).cmp(&(a.yes + a.no)))
            .then_with(|| a.slug.cmp(&b.slug))
    });
    let comments = store
        .vote_comments(period.since, period.until, 50)
        .await?
        .into_iter()
        .map(|c| Comment {
            slug: c.slug,
            helpful: c.helpful,
            reason: c.reason,
            comment: c.comment,
            at: c.at,
        })
        .collect();
    Ok(HelpfulnessReport {
        period,
        metrics: vec![HELPFULNESS.ratio(yes, yes + no)],
        articles,
        comments,
    })
}

impl HelpfulnessReport {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        let mut a = Table::new(
            "articles",
            "Helpfulness per article",
            &[
                "slug",
                "title",
                "yes",
                "no",
                "rate",
                "previous_rate",
                "change_points",
                "reasons",
                "flagged",
            ],
        );
        for h in &self.articles {
            a.row(vec![
                h.slug.clone(),
                h.title.clone().unwrap_or_default(),
                h.yes.to_string(),
                h.no.to_string(),
                opt_percent(h.rate),
                opt_percent(h.previous_rate),
                h.change_points
                    .map_or_else(String::new, |c| format!("{c:+.1}")),
                h.reasons
                    .iter()
                    .map(|(r, n)| format!("{r}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if h.flagged { "below 60 %" } else { "" }.to_string(),
            ]);
        }
        let mut c = Table::new(
            "comments",
            "Latest comments",
            &["time", "slug", "helpful", "reason", "comment"],
        );
        for x in &self.comments {
            c.row(vec![
                time(Some(x.at)),
                x.slug.clone(),
                if x.helpful { "yes" } else { "no" }.to_string(),
                x.reason.clone().unwrap_or_default(),
                x.comment.clone(),
            ]);
        }
        vec![a, c]
    }
}
