//! The deflection report: the self-service funnel per day and week, time to answer.

use std::collections::BTreeMap;

use chrono::Datelike;

use serde::Serialize;

use super::*;

/// The self-service funnel over one day or week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeflectionFunnel {
    /// `2026-11-22` for a day, `2026-W47` for an ISO week.
    pub period: String,
    pub sessions: i64,
    pub clicked: i64,
    pub voted_helpful: i64,
    pub filed_ticket: i64,
    pub deflection_rate: Option<f64>,
    /// Median seconds to the first click or helpful vote.
    pub median_time_to_answer_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeflectionReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub total: DeflectionFunnel,
    pub daily: Vec<DeflectionFunnel>,
    pub weekly: Vec<DeflectionFunnel>,
    pub tickets: i64,
    pub tickets_after_search: i64,
}

/// The median of a histogram of (value, count); values are bucket floors, the median is
/// reported at the bucket's middle.
fn median(histogram: &BTreeMap<i64, i64>) -> Option<f64> {
    let total: i64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    let half = (total + 1) / 2;
    let mut seen = 0;
    for (&value, &count) in histogram {
        seen += count;
        if seen >= half {
            return Some(value as f64 + ANSWER_BUCKET_SECS as f64 / 2.0);
        }
    }
    None
}

#[derive(Default)]
struct FunnelAcc {
    sessions: i64,
    clicked: i64,
    helpful: i64,
    ticket: i64,
    answers: BTreeMap<i64, i64>,
}

impl FunnelAcc {
    fn add(&mut self, b: &SessionBucket) {
        self.sessions += b.sessions;
        self.clicked += if b.clicked { b.sessions } else { 0 };
        self.helpful += if b.helpful { b.sessions } else { 0 };
        self.ticket += if b.ticket { b.sessions } else { 0 };
        if let Some(secs) = b.answer_secs {
            *self.answers.entry(secs).or_default() += b.sessions;
        }
    }

    fn funnel(&self, period: String) -> DeflectionFunnel {
        DeflectionFunnel {
            period,
            sessions: self.sessions,
            clicked: self.clicked,
            voted_helpful: self.helpful,
            filed_ticket: self.ticket,
            deflection_rate: rate(self.sessions - self.ticket, self.sessions),
            median_time_to_answer_secs: median(&self.answers),
        }
    }
}

/// Funnels per day, per ISO week, and in all, from the store's session buckets.
pub fn funnels(
    buckets: &[SessionBucket],
) -> (
    DeflectionFunnel,
    Vec<DeflectionFunnel>,
    Vec<DeflectionFunnel>,
) {
    let mut total = FunnelAcc::default();
    let mut days: BTreeMap<String, FunnelAcc> = BTreeMap::new();
    let mut weeks: BTreeMap<String, FunnelAcc> = BTreeMap::new();
    for b in buckets {
        total.add(b);
        days.entry(b.day.clone()).or_default().add(b);
        let week = NaiveDate::parse_from_str(&b.day, "%Y-%m-%d").map_or_else(
            |_| b.day.clone(),
            |d| {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            },
        );
        weeks.entry(week).or_default().add(b);
    }
    (
        total.funnel("all".into()),
        days.into_iter().map(|(d, a)| a.funnel(d)).collect(),
        weeks.into_iter().map(|(w, a)| a.funnel(w)).collect(),
    )
}

pub(super) async fn build(
    inputs: Inputs<'_>,
    period: Period,
) -> Result<DeflectionReport, ReportError> {
    let store = inputs.store;
    let buckets = session_buckets(store, period).await?;
    let tickets = store.ticket_totals(period.since, period.until).await?;
    let (total, daily, weekly) = funnels(&buckets);
    Ok(DeflectionReport {
        period,
        metrics: vec![
            DEFLECTION_RATE.measure(total.deflection_rate),
            TIME_TO_ANSWER.measure(total.median_time_to_answer_secs),
            DEFLECTION_FAILURE.ratio(tickets.after_search, tickets.tickets),
        ],
        total,
        daily,
        weekly,
        tickets: tickets.tickets,
        tickets_after_search: tickets.after_search,
    })
}

impl DeflectionReport {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        vec![
            funnel_table("daily", "Funnel per day", &self.daily),
            funnel_table("weekly", "Funnel per week", &self.weekly),
            funnel_table(
                "total",
                "Funnel over the period",
                std::slice::from_ref(&self.total),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn funnel_and_median_from_buckets() {
        let b = |day: &str, clicked, ticket, answer: Option<i64>, sessions| SessionBucket {
            day: day.into(),
            clicked,
            helpful: false,
            ticket,
            answer_secs: answer,
            sessions,
        };
        let buckets = [
            b("2026-11-16", true, false, Some(10), 3),
            b("2026-11-16", false, true, None, 1),
            b("2026-11-23", true, false, Some(300), 2),
        ];
        let (total, days, weeks) = funnels(&buckets);
        assert_eq!(
            (total.sessions, total.clicked, total.filed_ticket),
            (6, 5, 1)
        );
        assert_eq!(total.deflection_rate, Some(5.0 / 6.0));
        // Answers: 10,10,10,300,300 → median in the 10 s bucket.
        assert_eq!(total.median_time_to_answer_secs, Some(12.5));
        assert_eq!(days.len(), 2);
        assert_eq!(weeks[0].period, "2026-W47");
        assert_eq!(weeks[1].period, "2026-W48");
    }
}
