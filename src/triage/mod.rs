//! Triage on ticket creation, as pure functions: the category from the knowledge base, the
//! priority by the triage tree, SLA deadlines on a business-hours clock, and the ticket
//! lifecycle. Everything is configured by the `[triage]` table (defaults: the README's SLA table).

pub mod category;
pub mod lifecycle;
pub mod priority;
pub mod sla;

use std::collections::BTreeMap;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

pub use category::{CategoryGuess, KeywordRule, RankedArticle, categorize};
pub use lifecycle::TicketStatus;
pub use priority::{PriorityDecision, Signals, decide_priority};
pub use sla::{BusinessHours, Calendar, SlaClock, SlaTable, SlaTarget, WarningLevel};

use crate::content::Priority;

/// The `[triage]` table of deflect.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriageConfig {
    /// The support team's time zone (IANA name, e.g. "Europe/Berlin"); DST is handled.
    pub time_zone: Tz,
    /// Days the team works; the SLA clock stops on the others (except for P1).
    pub business_days: Vec<Weekday>,
    /// "09:00"
    pub business_start: String,
    /// "18:00"
    pub business_end: String,
    /// Phrases that move a ticket up the triage tree.
    pub signals: Signals,
    /// Phrases that point straight at a ticket type, on top of what the articles say.
    pub keyword_rules: Vec<KeywordRule>,
    /// First-response and resolution targets per priority, in business minutes.
    pub sla: SlaTable,
    /// Customer tier (the customer's plan, not the L1–L3 routing tier) → multiplier of the SLA
    /// targets (`tier_multipliers` in deflect.toml).
    pub tier_multipliers: BTreeMap<String, f64>,
    /// The tier assumed when a ticket names none.
    pub default_customer_tier: String,
    /// An email domain with this many P1/P2 tickets ...
    pub at_risk_tickets: u32,
    /// ... within this many days is flagged as an account at risk.
    pub at_risk_days: u32,
    /// How many search hits vote on the category.
    pub category_hits: usize,
    /// Tickets one session may file per 10 minutes (0 = no limit).
    pub tickets_per_session: u32,
    /// Tickets one IP address may file per 10 minutes (0 = no limit).
    pub tickets_per_ip: u32,
}

impl Default for TriageConfig {
    fn default() -> Self {
        Self {
            time_zone: Tz::UTC,
            business_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            business_start: "09:00".into(),
            business_end: "18:00".into(),
            signals: Signals::default(),
            keyword_rules: Vec::new(),
            sla: SlaTable::default(),
            tier_multipliers: [
                ("enterprise", 0.5),
                ("business", 1.0),
                ("professional", 1.5),
                ("starter", 2.0),
                ("free", 4.0),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            default_customer_tier: "business".into(),
            at_risk_tickets: 3,
            at_risk_days: 30,
            category_hits: 5,
            tickets_per_session: 5,
            tickets_per_ip: 30,
        }
    }
}

/// A `[triage]` setting that cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("[triage] {0}")]
pub struct TriageConfigError(String);

fn parse_clock(name: &str, v: &str) -> Result<NaiveTime, TriageConfigError> {
    NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
        TriageConfigError(format!(
            "{name} = \"{v}\" is not a time like \"09:00\" (24-hour HH:MM)"
        ))
    })
}

impl TriageConfig {
    /// The business hours, checked: start before end, at least one day, known tiers.
    pub fn business_hours(&self) -> Result<BusinessHours, TriageConfigError> {
        let start = parse_clock("business_start", &self.business_start)?;
        let end = parse_clock("business_end", &self.business_end)?;
        if end <= start {
            return Err(TriageConfigError(format!(
                "business_end ({}) must be after business_start ({})",
                self.business_end, self.business_start
            )));
        }
        if self.business_days.is_empty() {
            return Err(TriageConfigError(
                "business_days is empty — list at least one day, e.g. [\"Mon\", \"Fri\"]".into(),
            ));
        }
        Ok(BusinessHours::new(
            self.time_zone,
            &self.business_days,
            start,
            end,
        ))
    }

    /// Checks every setting; `deflect serve` refuses to start on an error.
    pub fn validate(&self) -> Result<(), TriageConfigError> {
        self.business_hours()?;
        if let Some((tier, m)) = self
            .tier_multipliers
            .iter()
            .find(|(_, m)| !m.is_finite() || **m <= 0.0)
        {
            return Err(TriageConfigError(format!(
                "tier_multipliers.{tier} = {m} must be a positive number"
            )));
        }
        if !self
            .tier_multipliers
            .contains_key(&self.default_customer_tier)
        {
            return Err(TriageConfigError(format!(
                "default_customer_tier \"{}\" is not one of tier_multipliers ({})",
                self.default_customer_tier,
                self.customer_tier_names().join(", ")
            )));
        }
        Ok(())
    }

    /// The customer tiers a ticket may name.
    pub fn customer_tier_names(&self) -> Vec<&str> {
        self.tier_multipliers.keys().map(String::as_str).collect()
    }

    /// The SLA calendar of a priority: P1 runs around the clock, the rest in business hours.
    pub fn calendar(&self, priority: Priority) -> Calendar {
        match (priority, self.business_hours()) {
            (Priority::P1, _) | (_, Err(_)) => Calendar::AlwaysOn,
            (_, Ok(hours)) => Calendar::Business(hours),
        }
    }

    /// First-response and resolution targets in minutes for a priority and customer tier.
    pub fn targets(&self, priority: Priority, customer_tier: &str) -> SlaTarget {
        let m = self
            .tier_multipliers
            .get(customer_tier)
            .copied()
            .unwrap_or(1.0);
        self.sla.get(priority).scaled(m)
    }
}

/// Text as the phrase matcher sees it: lower case, apostrophes dropped ("can't" → "cant"),
/// everything but letters and digits a single space, padded with spaces for whole-word matching.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars() {
        if c == '\'' || c == '\u{2019}' {
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// The first phrase (normalized) that occurs in the normalized text as whole words.
pub fn find_phrase<'a>(normalized_text: &str, phrases: &'a [String]) -> Option<&'a str> {
    phrases
        .iter()
        .find(|p| {
            let p = normalize(p);
            p.trim() != "" && normalized_text.contains(&p)
        })
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_words_whatever_the_apostrophe() {
        let t = normalize("I CAN’T log-in since Monday!");
        assert_eq!(t, " i cant log in since monday ");
        let phrases = vec!["can't log in".to_string()];
        assert_eq!(find_phrase(&t, &phrases), Some("can't log in"));
        let t = normalize("the login page");
        assert_eq!(find_phrase(&t, &["log".to_string()]), None);
    }

    #[test]
    fn config_parses_and_is_checked() {
        let c: TriageConfig = toml::from_str(
            r#"time_zone = "Europe/Berlin"
business_days = ["Mon", "tue", "Wednesday"]
business_start = "08:30"
[tier_multipliers]
gold = 0.25
business = 1.0
[sla.P2]
first_response_minutes = 30
resolution_minutes = 120
[[keyword_rules]]
phrase = "chargeback"
ticket_type = "request_refund"
"#,
        )
        .expect("valid [triage]");
        assert_eq!(c.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(c.business_days.len(), 3);
        assert!(c.validate().is_ok());
        assert_eq!(c.targets(Priority::P2, "gold").first_response_minutes, 8);
        assert_eq!(
            c.targets(Priority::P1, "business").first_response_minutes,
            15
        );
        let bad = TriageConfig {
            business_end: "08:00".into(),
            ..TriageConfig::default()
        };
        assert!(
            bad.validate()
                .expect_err("end before start")
                .0
                .contains("business_end")
        );
        let bad = TriageConfig {
            business_start: "9am".into(),
            ..TriageConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(toml::from_str::<TriageConfig>("time_zone = \"Mars/Olympus\"").is_err());
        assert!(toml::from_str::<TriageConfig>("tiem_zone = \"UTC\"").is_err());
    }
}
