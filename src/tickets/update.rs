//! Agents' changes: status through the lifecycle (pausing and restarting the SLA clock),
//! priority, assignee and notes, each audited.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::filing::now_micros;
use super::queue::{clock, keep_clock, parse_priority};
use super::{TicketError, invalid, unavailable};
use crate::content::TicketType;
use crate::store::Store;
use crate::store::tickets::{AuditEntry, Ticket};
use crate::triage::{TicketStatus, TriageConfig};

const MAX_ASSIGNEE_CHARS: usize = 100;
const MAX_NOTE_CHARS: usize = 1000;

/// `PATCH /api/v1/admin/tickets/{id}` (and the detail page's forms).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketUpdate {
    pub status: Option<String>,
    pub priority: Option<String>,
    /// The ticket type an agent says this really is: an id from `ticket-types.toml`. The
    /// routing tier follows it; it is the strongest label triage learns from.
    pub ticket_type: Option<String>,
    /// An agent or team; empty unassigns.
    pub assignee: Option<String>,
    pub note: Option<String>,
    /// Who makes the change (shown in the audit log) [default: admin].
    pub actor: Option<String>,
}

/// Applies an update to a ticket: the new ticket and the audit entries, or why not.
pub fn apply(
    mut t: Ticket,
    u: &TicketUpdate,
    config: &TriageConfig,
    ticket_types: &[TicketType],
    now: DateTime<Utc>,
) -> Result<(Ticket, Vec<AuditEntry>), TicketError> {
    let actor = u
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("admin");
    if actor.chars().count() > MAX_ASSIGNEE_CHARS {
        return Err(invalid(
            "actor",
            format!("actor is longer than {MAX_ASSIGNEE_CHARS} characters"),
        ));
    }
    let note = u.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(invalid(
            "note",
            format!("note is longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let mut changes = Vec::new();
    let mut log = |field: &str, old: Option<String>, new: Option<String>| {
        changes.push(AuditEntry {
            actor: actor.to_string(),
            field: field.to_string(),
            old_value: old,
            new_value: new,
            note: note.map(String::from),
            created_at: now,
        });
    };
    let mut c = clock(&t, config);
    if let Some(p) = u
        .priority
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let p =
            parse_priority(p).ok_or_else(|| invalid("priority", "priority must be P1 to P5"))?;
        if p.to_string() != t.priority {
            c.calendar = config.calendar(p);
            c.target = config.targets(p, &t.customer_tier);
            log("priority", Some(t.priority.clone()), Some(p.to_string()));
            t.priority = p.to_string();
            t.priority_reason = format!("set by {actor}");
        }
    }
    if let Some(id) = u
        .ticket_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some(tt) = ticket_types.iter().find(|t| t.id == id) else {
            let mut known: Vec<&str> = ticket_types.iter().map(|t| t.id.as_str()).collect();
            known.sort_unstable();
            let shown = known
                .iter()
                .take(20)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            return Err(invalid(
                "ticket_type",
                format!(
                    "`{}` is not a ticket type in ticket-types.toml — use one of: {shown}{}",
                    id.chars().take(64).collect::<String>(),
                    if known.len() > 20 { ", …" } else { "" }
                ),
            ));
        };
        if t.ticket_type.as_deref() != Some(tt.id.as_str()) {
            log("ticket_type", t.ticket_type.clone(), Some(tt.id.clone()));
            t.ticket_type = Some(tt.id.clone());
            let routing = tt.tier.to_string();
            if routing != t.routing_tier {
                log(
                    "routing_tier",
                    Some(t.routing_tier.clone()),
                    Some(routing.clone()),
                );
                t.routing_tier = routing;
            }
        }
        // An agent's word is certain.
        t.ticket_type_confidence = 1.0;
    }
    if let Some(a) = &u.assignee {
        let a = a.trim();
        if a.chars().count() > MAX_ASSIGNEE_CHARS || a.chars().any(char::is_control) {
            return Err(invalid(
                "assignee",
                format!("assignee must be at most {MAX_ASSIGNEE_CHARS} printable characters"),
            ));
        }
        let new = (!a.is_empty()).then(|| a.to_string());
        if new != t.assignee {
            log("assignee", t.assignee.clone(), new.clone());
            t.assignee = new;
        }
    }
    if let Some(s) = u.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let next = TicketStatus::parse(s).ok_or_else(|| {
            invalid(
                "status",
                format!(
                    "status must be one of: {}",
                    TicketStatus::ALL.map(TicketStatus::as_str).join(", ")
                ),
            )
        })?;
        let transition = t
            .status
            .check_move(next)
            .map_err(|m| invalid("status", m))?;
        use crate::triage::lifecycle::Transition;
        match transition {
            Transition::Reopen => {
                c.restart(now);
                t.first_responded_at = None;
                t.resolved_at = None;
                if next == TicketStatus::PendingCustomer {
                    c.pause(now);
                }
            }
            Transition::Pause => c.pause(now),
            Transition::Resume => c.resume(now),
            Transition::Plain => {}
        }
        if next.counts_as_response() && t.first_responded_at.is_none() {
            t.first_responded_at = Some(now);
        }
        if !next.is_open() && t.resolved_at.is_none() {
            t.resolved_at = Some(now);
        }
        log(
            "status",
            Some(t.status.as_str().into()),
            Some(next.as_str().into()),
        );
        if transition == Transition::Reopen
            && let Some(last) = changes.last_mut()
        {
            {
                last.note = Some(format!(
                    "reopened: a new SLA period{}",
                    note.map(|n| format!(" — {n}")).unwrap_or_default()
                ));
            }
        }
        t.status = next;
    }
    if changes.is_empty() {
        if let Some(n) = note {
            changes.push(AuditEntry {
                actor: actor.to_string(),
                field: "note".into(),
                old_value: None,
                new_value: None,
                note: Some(n.to_string()),
                created_at: now,
            });
        } else {
            return Err(TicketError::BadRequest(
                "nothing to change: send status, priority, ticket_type, assignee or note".into(),
            ));
        }
    }
    keep_clock(&mut t, &c);
    t.updated_at = now;
    Ok((t, changes))
}

/// Reads, applies and stores an update, retrying when another agent changed the ticket
/// in between (an optimistic check on `updated_at`).
pub async fn update(
    store: &Store,
    config: &TriageConfig,
    id: &str,
    u: &TicketUpdate,
    ticket_types: &[TicketType],
) -> Result<Ticket, TicketError> {
    let what = format!("updating ticket {id}");
    let unavailable = || unavailable(&what);
    for _ in 0..3 {
        let t = store
            .ticket(id)
            .await
            .map_err(unavailable())?
            .ok_or_else(|| TicketError::NotFound(id.to_string()))?;
        let read_at = t.updated_at;
        // Keep timestamps strictly increasing so the optimistic check sees every change.
        let now = now_micros().max(read_at + chrono::Duration::microseconds(1));
        let (t, changes) = apply(t, u, config, ticket_types, now)?;
        if store
            .update_ticket(&t, read_at, &changes)
            .await
            .map_err(unavailable())?
        {
            return Ok(t);
        }
    }
    Err(TicketError::Unavailable(format!(
        "ticket {id} kept changing; retry"
    )))
}
