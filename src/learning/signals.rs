//! What traffic says, turned into weighted examples: which wording led to which article (for
//! search, autocomplete and suggest) and to which ticket type (for triage).
//!
//! The weights, and why:
//! - a result click is evidence the article answered, corrected for position bias: a visitor
//!   looks at lower results less often, so a click there says more — 1 + ½·ln p (1.0 at the
//!   top, 1.8 at position 5, capped at 2.5). Full inverse propensity (p^0.7) let one deep,
//!   possibly accidental click outweigh several at the top, and measured worse;
//! - a result shown above a click and skipped is weak negative evidence (−0.15): the visitor
//!   saw it and chose another, but may simply have preferred the other;
//! - a helpful vote tied to the search (+1.5) is an explicit "this answered me" (only a
//!   minority vote, so it adds to the click rather than replacing it); a not-helpful vote
//!   (−2.5) outweighs the click that came before it;
//! - "this answered my question" on the contact page (+2) and a helpful vote after a
//!   suggestion (+1.5) are explicit too; a not-helpful vote after a suggestion is −2.5;
//! - a ticket filed after a search means the shown results did not answer (−0.2 on each of
//!   the first three: which one failed is unknown);
//! - the ticket type an agent sets is the strongest triage label (+3 from the ticket's text,
//!   +1.5 from the session's searches before it), and tells search which articles answer the
//!   session's wording (+1 shared among the articles of that type);
//! - what answered a wording also says which ticket type the wording is: an article's
//!   positive evidence counts for its ticket types in triage's model, shared among them.
//!
//! One session's evidence for one label is capped (|sum| ≤ [`SESSION_CAP`]) before the model
//! caps per client, so repeating a click does not repeat its weight.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Example;
use crate::search::analysis::normalize;

/// Largest total weight one session gives one label.
pub const SESSION_CAP: f32 = 3.0;
const MAX_CLICK_WEIGHT: f32 = 2.5;
const SKIPPED: f32 = -0.15;
const HELPFUL: f32 = 1.5;
const NOT_HELPFUL: f32 = -2.5;
const ANSWERED: f32 = 2.0;
const TICKET_AFTER: f32 = -0.2;
const AGENT_TEXT: f32 = 3.0;
const AGENT_QUERY: f32 = 1.5;
const AGENT_ARTICLES: f32 = 1.0;
/// The client key of agents' labels (with the ticket's id): trusted, not traffic, and each
/// ticket its own client so the per-client caps never merge agents' work.
pub const STAFF: &str = "staff";

/// A search with what followed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchTrail {
    pub session_id: String,
    pub client: Option<String>,
    pub query: String,
    /// The first results shown, best first.
    pub shown: Vec<String>,
    /// Opened results: (slug, 1-based position when known).
    pub clicks: Vec<(String, Option<i64>)>,
    /// Votes tied to this search: (slug, helpful).
    pub votes: Vec<(String, bool)>,
    /// The session filed a ticket after this search.
    pub ticket_after: bool,
    pub at: DateTime<Utc>,
}

/// A suggestion reply and the vote on its article, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuggestionTrail {
    pub session_id: String,
    pub client: Option<String>,
    pub message: String,
    pub slug: Option<String>,
    pub vote: Option<bool>,
    pub at: DateTime<Utc>,
}

/// "This answered my question" on the contact page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deflection {
    pub session_id: String,
    pub client: Option<String>,
    pub query: String,
    pub slug: String,
    pub at: DateTime<Utc>,
}

/// A ticket type set by an agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentLabel {
    pub ticket_id: String,
    /// The ticket's subject and description.
    pub text: String,
    pub ticket_type: String,
    /// What the ticket's session searched for before filing it.
    pub queries: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A wording a KB manager rejected for an article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejection {
    pub slug: String,
    pub phrase: String,
}

/// Everything the store holds that learning reads.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    pub searches: Vec<SearchTrail>,
    pub suggestions: Vec<SuggestionTrail>,
    pub deflections: Vec<Deflection>,
    pub labels: Vec<AgentLabel>,
    pub rejections: Vec<Rejection>,
}

/// The weight of a click at a 1-based position.
pub fn click_weight(position: Option<i64>) -> f32 {
    let p = position.unwrap_or(1).clamp(1, 1000) as f32;
    (1.0 + 0.5 * p.ln()).min(MAX_CLICK_WEIGHT)
}

/// What signals need to know of today's content.
pub trait Catalogue {
    /// Whether the article exists and is published (evidence for a deleted one is dropped).
    fn published(&self, slug: &str) -> bool;
    /// The published articles answering a ticket type.
    fn articles_of_type(&self, ticket_type: &str) -> Vec<String>;
    /// An article's ticket types.
    fn types_of(&self, slug: &str) -> Vec<String>;
}

/// The published articles and their ticket types, looked up by slug and by type.
#[derive(Debug, Default)]
pub struct Articles {
    types_of: HashMap<String, Vec<String>>,
    of_type: HashMap<String, Vec<String>>,
}

impl Articles {
    pub fn of(kb: &crate::content::KnowledgeBase) -> Self {
        Self::from_pairs(
            kb.published()
                .map(|a| (a.slug.clone(), a.front.ticket_types.clone())),
        )
    }

    /// From (slug, ticket types) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Vec<String>)>) -> Self {
        let mut c = Self::default();
        for (slug, types) in pairs {
            for t in &types {
                c.of_type.entry(t.clone()).or_default().push(slug.clone());
            }
            c.types_of.insert(slug, types);
        }
        c
    }
}

impl Catalogue for Articles {
    fn published(&self, slug: &str) -> bool {
        self.types_of.contains_key(slug)
    }

    fn articles_of_type(&self, ticket_type: &str) -> Vec<String> {
        self.of_type.get(ticket_type).cloned().unwrap_or_default()
    }

    fn types_of(&self, slug: &str) -> Vec<String> {
        self.types_of.get(slug).cloned().unwrap_or_default()
    }
}

/// Examples for the two models: wording → article, and wording → ticket type.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    pub articles: Vec<Example>,
    pub ticket_types: Vec<Example>,
}

/// Sums one session's evidence per (wording, label), capped, then emits one example each.
#[derive(Default)]
struct Acc(HashMap<Key, (f32, Option<String>, DateTime<Utc>)>);

/// (session, wording, label).
type Key = (String, String, String);

impl Acc {
    fn add(
        &mut self,
        session: &str,
        client: Option<&str>,
        text: &str,
        label: &str,
        w: f32,
        at: DateTime<Utc>,
    ) {
        if text.trim().is_empty() || label.is_empty() || w == 0.0 {
            return;
        }
        let e = self
            .0
            .entry((session.to_string(), text.to_string(), label.to_string()))
            .or_insert((0.0, client.map(String::from), at));
        e.0 += w;
        e.2 = e.2.max(at);
    }

    fn into_examples(self) -> Vec<Example> {
        let mut v: Vec<Example> = self
            .0
            .into_iter()
            .filter(|(_, (w, _, _))| *w != 0.0)
            .map(|((session, text, label), (w, client, at))| Example {
                client: client.unwrap_or_else(|| format!("session:{session}")),
                text,
                label,
                weight: w.clamp(-SESSION_CAP, SESSION_CAP),
                session,
                at,
            })
            .collect();
        // Deterministic order: the same store trains the same model on every replica.
        v.sort_by(|a, b| (&a.label, &a.text, &a.session).cmp(&(&b.label, &b.text, &b.session)));
        v
    }
}

/// Two wordings are the same when their words are (case, punctuation and accents aside).
pub fn same_wording(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// Turns traffic into examples. `articles_of_type`: the published articles answering a
/// ticket type (today's content: an article that lost the type no longer gets its evidence);
/// `published`: whether an article still exists (evidence for a deleted one is dropped).
pub fn examples(t: &Traffic, kb: &impl Catalogue) -> Examples {
    let mut articles = Acc::default();
    let mut types = Acc::default();
    for s in &t.searches {
        let client = s.client.as_deref();
        let mut clicked_at = usize::MAX;
        for (slug, position) in &s.clicks {
            articles.add(
                &s.session_id,
                client,
                &s.query,
                slug,
                click_weight(*position),
                s.at,
            );
            let shown_at = s.shown.iter().position(|x| x == slug).unwrap_or(usize::MAX);
            clicked_at = clicked_at.min(shown_at);
        }
        if clicked_at != usize::MAX {
            for skipped in s.shown.iter().take(clicked_at) {
                if !s.clicks.iter().any(|(c, _)| c == skipped) {
                    articles.add(&s.session_id, client, &s.query, skipped, SKIPPED, s.at);
                }
            }
        }
        for (slug, helpful) in &s.votes {
            let w = if *helpful { HELPFUL } else { NOT_HELPFUL };
            articles.add(&s.session_id, client, &s.query, slug, w, s.at);
        }
        if s.ticket_after && s.clicks.is_empty() {
            for slug in s.shown.iter().take(3) {
                articles.add(&s.session_id, client, &s.query, slug, TICKET_AFTER, s.at);
            }
        }
    }
    for s in &t.suggestions {
        if let (Some(slug), Some(helpful)) = (&s.slug, s.vote) {
            let w = if helpful { HELPFUL } else { NOT_HELPFUL };
            articles.add(
                &s.session_id,
                s.client.as_deref(),
                &s.message,
                slug,
                w,
                s.at,
            );
        }
    }
    for d in &t.deflections {
        articles.add(
            &d.session_id,
            d.client.as_deref(),
            &d.query,
            &d.slug,
            ANSWERED,
            d.at,
        );
    }
    for l in &t.labels {
        let session = format!("ticket:{}", l.ticket_id);
        let staff = format!("{STAFF}:{}", l.ticket_id);
        let staff = Some(staff.as_str());
        types.add(&session, staff, &l.text, &l.ticket_type, AGENT_TEXT, l.at);
        let answering = kb.articles_of_type(&l.ticket_type);
        for q in &l.queries {
            types.add(&session, staff, q, &l.ticket_type, AGENT_QUERY, l.at);
            if !answering.is_empty() {
                let share = AGENT_ARTICLES / answering.len() as f32;
                for slug in &answering {
                    articles.add(&session, staff, q, slug, share, l.at);
                }
            }
        }
    }
    let articles = articles.into_examples();
    // What answered a wording says which ticket type it is.
    for e in articles.iter().filter(|e| e.weight > 0.0) {
        let of = kb.types_of(&e.label);
        for tt in &of {
            let w = e.weight / of.len() as f32;
            types.add(&e.session, Some(&e.client), &e.text, tt, w, e.at);
        }
    }
    let mut out = Examples {
        articles,
        ticket_types: types.into_examples(),
    };
    // Each rejected wording normalized once, each example's text only when its article has one.
    let rejections: std::collections::HashSet<(&str, String)> = t
        .rejections
        .iter()
        .map(|r| (r.slug.as_str(), normalize(&r.phrase)))
        .collect();
    let rejected_slugs: std::collections::HashSet<&str> =
        rejections.iter().map(|(slug, _)| *slug).collect();
    let rejected = |e: &Example| {
        rejected_slugs.contains(e.label.as_str())
            && rejections.contains(&(e.label.as_str(), normalize(&e.text)))
    };
    out.articles
        .retain(|e| kb.published(&e.label) && !rejected(e));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    fn search(query: &str, shown: &[&str], clicks: &[(&str, i64)]) -> SearchTrail {
        SearchTrail {
            session_id: "s1".into(),
            client: Some("c1".into()),
            query: query.into(),
            shown: shown.iter().map(|s| s.to_string()).collect(),
            clicks: clicks
                .iter()
                .map(|(s, p)| (s.to_string(), Some(*p)))
                .collect(),
            at: at(),
            ..SearchTrail::default()
        }
    }

    fn weight(ex: &[Example], label: &str) -> f32 {
        ex.iter()
            .filter(|e| e.label == label)
            .map(|e| e.weight)
            .sum()
    }

    /// Articles a, b, c, x, y, z, w and unblock, the last answering `pin_blocked`.
    fn catalogue() -> Articles {
        Articles::from_pairs(
            ["a", "b", "c", "x", "y", "z", "w"]
                .into_iter()
                .map(|s| (s.to_string(), vec![format!("type_{s}")]))
                .chain([("unblock".to_string(), vec!["pin_blocked".to_string()])]),
        )
    }

    #[test]
    fn deeper_clicks_weigh_more_and_skipped_results_weigh_against() {
        assert!(click_weight(Some(5)) > click_weight(Some(2)));
        assert!(click_weight(Some(2)) > click_weight(Some(1)));
        assert!(click_weight(Some(50)) <= MAX_CLICK_WEIGHT);
        let t = Traffic {
            searches: vec![search("card late", &["a", "b", "c"], &[("c", 3)])],
            ..Traffic::default()
        };
        let ex = examples(&t, &catalogue()).articles;
        assert!((weight(&ex, "c") - click_weight(Some(3))).abs() < 1e-6);
        assert!((weight(&ex, "a") - SKIPPED).abs() < 1e-6);
        assert!((weight(&ex, "b") - SKIPPED).abs() < 1e-6);
        // The clicked article's evidence counts for its ticket type too.
        let types = examples(&t, &catalogue()).ticket_types;
        assert!((weight(&types, "type_c") - click_weight(Some(3))).abs() < 1e-6);
        assert_eq!(weight(&types, "type_a"), 0.0);
    }

    #[test]
    fn votes_tickets_and_agents_count_as_documented() {
        let mut voted = search("card late", &["a", "b"], &[("b", 2)]);
        voted.votes = vec![("b".into(), false)];
        let mut ticketed = search("pin blocked", &["x", "y", "z", "w"], &[]);
        ticketed.ticket_after = true;
        let t = Traffic {
            searches: vec![voted, ticketed],
            labels: vec![AgentLabel {
                ticket_id: "T-1".into(),
                text: "my pin is blocked".into(),
                ticket_type: "pin_blocked".into(),
                queries: vec!["pin blocked".into()],
                at: at(),
            }],
            ..Traffic::default()
        };
        let ex = examples(&t, &catalogue());
        // A not-helpful vote outweighs the click before it.
        assert!(weight(&ex.articles, "b") < 0.0);
        assert!((weight(&ex.articles, "x") - TICKET_AFTER).abs() < 1e-6);
        assert_eq!(weight(&ex.articles, "w"), 0.0, "only the first three");
        assert!((weight(&ex.articles, "unblock") - AGENT_ARTICLES).abs() < 1e-6);
        // The agent's label, and what the articles of that type now answer.
        assert!(
            (weight(&ex.ticket_types, "pin_blocked") - (AGENT_TEXT + AGENT_QUERY + AGENT_ARTICLES))
                .abs()
                < 1e-6
        );
        // An article's negative evidence teaches triage nothing.
        assert_eq!(weight(&ex.ticket_types, "type_b"), 0.0);
        assert!(
            ex.ticket_types
                .iter()
                .filter(|e| e.label == "pin_blocked")
                .all(|e| e.client == "staff:T-1")
        );
    }

    #[test]
    fn one_session_repeating_itself_is_capped_and_deleted_articles_are_dropped() {
        let mut s = search("card late", &["a", "gone"], &[("a", 1), ("gone", 2)]);
        s.votes = vec![("a".into(), true), ("a".into(), true), ("a".into(), true)];
        let t = Traffic {
            searches: vec![s],
            rejections: vec![],
            ..Traffic::default()
        };
        let ex = examples(&t, &catalogue()).articles;
        assert!((weight(&ex, "a") - SESSION_CAP).abs() < 1e-6);
        assert_eq!(weight(&ex, "gone"), 0.0);
    }

    #[test]
    fn rejected_wordings_are_not_learned() {
        let t = Traffic {
            searches: vec![search("Card late?", &["a"], &[("a", 1)])],
            rejections: vec![Rejection {
                slug: "a".into(),
                phrase: "card late".into(),
            }],
            ..Traffic::default()
        };
        assert!(examples(&t, &catalogue()).articles.is_empty());
    }
}
