//! The triage tree: system-wide outage → P1; money or data at risk → P2; a core function
//! blocked → P3; a how-to question or request → P5; otherwise P4 — starting from the ticket
//! type's default priority, which signal phrases can only raise.

use serde::{Deserialize, Serialize};

use super::{find_phrase, normalize};
use crate::content::Priority;

/// Phrases that place a ticket in the tree, matched as whole words, case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Signals {
    pub outage: Vec<String>,
    pub money_at_risk: Vec<String>,
    pub blocked: Vec<String>,
    pub how_to: Vec<String>,
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            outage: owned(&[
                "everyone",
                "all users",
                "all our users",
                "all customers",
                "all of our customers",
                "nobody can",
                "no one can",
                "outage",
                "site is down",
                "app is down",
                "service is down",
                "system is down",
                "everything is down",
            ]),
            money_at_risk: owned(&[
                "charged twice",
                "charged me twice",
                "double charged",
                "double charge",
                "stolen",
                "fraud",
                "fraudulent",
                "unauthorized",
                "unauthorised",
                "did not make",
                "didnt make",
                "dont recognise",
                "dont recognize",
                "hacked",
                "compromised",
                "money is missing",
                "missing money",
                "lost money",
                "data breach",
                "data leak",
                "scam",
            ]),
            blocked: owned(&[
                "can't log in",
                "cannot log in",
                "can't login",
                "cannot login",
                "can't sign in",
                "unable to log in",
                "locked out",
                "blocked",
                "declined",
                "not working",
                "doesn't work",
                "won't work",
                "can't pay",
                "cannot pay",
                "can't access",
                "cannot access",
                "won't let me",
            ]),
            how_to: owned(&[
                "how do i",
                "how can i",
                "how to",
                "is it possible",
                "can i",
                "where can i",
                "feature request",
                "would be nice",
                "please add",
            ]),
        }
    }
}

/// A priority and why it was chosen (shown to agents and kept in the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorityDecision {
    pub priority: Priority,
    pub reason: String,
}

/// Walks the triage tree over a ticket's subject and description.
pub fn decide_priority(
    type_default: Option<Priority>,
    text: &str,
    signals: &Signals,
) -> PriorityDecision {
    let t = normalize(text);
    let base = type_default.unwrap_or(Priority::P4);
    let by_signal = [
        (Priority::P1, "system-wide outage", &signals.outage),
        (
            Priority::P2,
            "money or data at risk",
            &signals.money_at_risk,
        ),
        (Priority::P3, "core function blocked", &signals.blocked),
    ]
    .into_iter()
    .find_map(|(p, what, list)| find_phrase(&t, list).map(|phrase| (p, what, phrase)));
    if let Some((p, what, phrase)) = by_signal
        && p < base
    {
        return PriorityDecision {
            priority: p,
            reason: format!("{what}: \u{201c}{phrase}\u{201d}"),
        };
    }
    if let Some(d) = type_default {
        return PriorityDecision {
            priority: d,
            reason: "the ticket type's default".into(),
        };
    }
    if let Some(phrase) = find_phrase(&t, &signals.how_to) {
        return PriorityDecision {
            priority: Priority::P5,
            reason: format!("how-to or request: \u{201c}{phrase}\u{201d}"),
        };
    }
    PriorityDecision {
        priority: Priority::P4,
        reason: "no signal".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Priority::*;

    #[test]
    fn the_triage_tree() {
        let s = Signals::default();
        // (type default, text, expected priority, reason contains)
        let cases: &[(Option<Priority>, &str, Priority, &str)] = &[
            (
                None,
                "Nobody can open the app, it's down for everyone",
                P1,
                "outage",
            ),
            (
                Some(P4),
                "Everyone in our team sees a blank screen",
                P1,
                "everyone",
            ),
            (
                Some(P5),
                "I was charged twice for one coffee",
                P2,
                "charged twice",
            ),
            (Some(P4), "My card was STOLEN yesterday", P2, "stolen"),
            (
                Some(P4),
                "There is a payment I don’t recognise",
                P2,
                "dont recognise",
            ),
            (None, "I can't log in since the update", P3, "core function"),
            (Some(P5), "Card declined at the shop", P3, "declined"),
            (None, "How do I change my address?", P5, "how-to"),
            (Some(P5), "What exchange rate do you use?", P5, "default"),
            (
                Some(P2),
                "how do I freeze my compromised card",
                P2,
                "default",
            ),
            // A signal never lowers a type's default.
            (Some(P2), "The app is not working", P2, "default"),
            (Some(P3), "where can i see my PIN", P3, "default"),
            (None, "My statement shows an odd name", P4, "no signal"),
            (Some(P4), "Where is my card?", P4, "default"),
            // Whole words only: "fraudster" is not "fraud", "logging" is not "log in".
            (None, "Questions about blockedness", P4, "no signal"),
        ];
        for (default, text, want, why) in cases {
            let d = decide_priority(*default, text, &s);
            assert_eq!(d.priority, *want, "{text}: {}", d.reason);
            assert!(d.reason.contains(why), "{text}: reason {:?}", d.reason);
        }
    }

    #[test]
    fn signals_are_configurable() {
        let s = Signals {
            outage: vec!["red alert".into()],
            ..Signals::default()
        };
        assert_eq!(decide_priority(None, "RED ALERT!", &s).priority, P1);
        assert_eq!(decide_priority(None, "everyone", &s).priority, P4);
    }
}
