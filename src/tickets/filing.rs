//! Filing a ticket: triage (ticket type, priority, routing tier), the SLA clock, and one
//! transaction with its audit entry and webhook outbox row.

use chrono::{DateTime, Utc};

use super::queue::keep_clock;
use super::{NewTicket, TicketError, unavailable};
use crate::content::{KnowledgeBase, Priority};
use crate::search::SearchEngine;
use crate::store::Store;
use crate::store::tickets::{AuditEntry, Delivery, Ticket};
use crate::triage::{CategoryGuess, PriorityDecision, SlaClock, TicketStatus, TriageConfig};

/// What triage decided for a ticket's text.
#[derive(Debug, Clone)]
pub struct Triaged {
    /// The ticket type voted for by the best-matching articles, with its confidence.
    pub guess: Option<CategoryGuess>,
    /// The ticket type's routing tier (L1–L3).
    pub routing_tier: Option<crate::content::RoutingTier>,
    pub decision: PriorityDecision,
}

/// Triages a ticket's subject and description (CPU work: a search over the articles), with
/// what traffic and agents taught (`Learned::empty()` for none).
pub fn triage(
    engine: &SearchEngine,
    kb: &KnowledgeBase,
    config: &TriageConfig,
    text: &str,
    learned: &crate::learning::Learned,
) -> Triaged {
    let guess = crate::triage::category::from_search_learned(
        engine,
        text,
        config.category_hits,
        &config.keyword_rules,
        learned,
    );
    let ticket_type = guess
        .as_ref()
        .and_then(|g| kb.ticket_types.iter().find(|t| t.id == g.ticket_type));
    let decision =
        crate::triage::decide_priority(ticket_type.map(|t| t.priority), text, &config.signals);
    Triaged {
        guess,
        routing_tier: ticket_type.map(|t| t.tier),
        decision,
    }
}

/// Now, to the microsecond: PostgreSQL keeps no more, and the optimistic update compares
/// `updated_at` exactly.
pub(super) fn now_micros() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

fn new_ticket_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("T-{}", &u[..10])
}

/// Triages and stores a ticket; `Ok` means it is committed (with its outbox row).
/// `with_delivery`: also queue a webhook delivery (a hand-off URL is configured).
pub async fn file(
    store: &Store,
    config: &TriageConfig,
    new: NewTicket,
    triaged: Triaged,
    source: &str,
    with_delivery: bool,
) -> Result<Ticket, TicketError> {
    let Triaged {
        guess,
        routing_tier,
        decision,
    } = triaged;
    let now = now_micros();
    let urgent = matches!(decision.priority, Priority::P1 | Priority::P2);
    let at_risk = if urgent && config.at_risk_tickets > 0 {
        let since = now - chrono::Duration::days(i64::from(config.at_risk_days));
        let before = store
            .urgent_tickets_from(&new.email_domain, since)
            .await
            .map_err(unavailable("counting tickets"))?;
        before + 1 >= i64::from(config.at_risk_tickets)
    } else {
        false
    };
    let clock = SlaClock::start(
        config.calendar(decision.priority),
        config.targets(decision.priority, &new.customer_tier),
        now,
    );
    let mut t = Ticket {
        id: new_ticket_id(),
        session_id: new.session_id,
        email: new.email,
        email_domain: new.email_domain,
        subject: new.subject,
        description: new.description,
        customer_tier: new.customer_tier,
        ticket_type: guess.as_ref().map(|g| g.ticket_type.clone()),
        ticket_type_confidence: guess.as_ref().map_or(0.0, |g| g.confidence),
        priority: decision.priority.to_string(),
        priority_reason: decision.reason.clone(),
        routing_tier: routing_tier
            .unwrap_or(crate::content::RoutingTier::L1)
            .to_string(),
        status: TicketStatus::New,
        assignee: None,
        at_risk,
        source: source.to_string(),
        sla_started_at: now,
        first_response_minutes: 0,
        resolution_minutes: 0,
        first_response_due: now,
        resolution_due: now,
        first_responded_at: None,
        paused_at: None,
        paused_secs: 0,
        resolved_at: None,
        created_at: now,
        updated_at: now,
    };
    keep_clock(&mut t, &clock);
    let created = AuditEntry {
        actor: "triage".into(),
        field: "created".into(),
        old_value: None,
        new_value: Some(format!(
            "{} {} ({}), category {} ({:.0}% of the vote), routing {}",
            t.status.as_str(),
            t.priority,
            decision.reason,
            t.ticket_type.as_deref().unwrap_or("unknown"),
            100.0 * t.ticket_type_confidence,
            t.routing_tier
        )),
        note: at_risk.then(|| "account at risk: several P1/P2 tickets within 30 days".into()),
        created_at: now,
    };
    let delivery = with_delivery.then(|| Delivery {
        id: uuid::Uuid::new_v4().simple().to_string(),
        ticket_id: t.id.clone(),
        event: "ticket.created".into(),
        attempts: 0,
        next_attempt_at: now,
    });
    store
        .create_ticket(&t, &created, delivery.as_ref())
        .await
        .map_err(unavailable("storing a ticket"))?;
    tracing::info!(id = %t.id, priority = %t.priority, ticket_type = ?t.ticket_type, "ticket filed");
    Ok(t)
}
