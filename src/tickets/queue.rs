//! The agents' queue: where each ticket's SLA stands, urgency order, filters, the detail view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{TicketError, unavailable};
use crate::content::Priority;
use crate::store::Store;
use crate::store::tickets::{AuditEntry, Ticket, TicketFilter, TrailEntry};
use crate::triage::{SlaClock, SlaTarget, TicketStatus, TriageConfig, WarningLevel};

/// `P1` … `P5`.
pub fn parse_priority(s: &str) -> Option<Priority> {
    [
        Priority::P1,
        Priority::P2,
        Priority::P3,
        Priority::P4,
        Priority::P5,
    ]
    .into_iter()
    .find(|p| p.to_string() == s)
}

/// The SLA clock a stored ticket is on.
pub fn clock(t: &Ticket, config: &TriageConfig) -> SlaClock {
    let priority = parse_priority(&t.priority).unwrap_or(Priority::P4);
    SlaClock {
        calendar: config.calendar(priority),
        target: SlaTarget {
            first_response_minutes: u32::try_from(t.first_response_minutes).unwrap_or(u32::MAX),
            resolution_minutes: u32::try_from(t.resolution_minutes).unwrap_or(u32::MAX),
        },
        started_at: t.sla_started_at,
        paused_secs: t.paused_secs,
        paused_at: t.paused_at,
    }
}

/// Keeps a clock's state and due times on the ticket.
pub(super) fn keep_clock(t: &mut Ticket, c: &SlaClock) {
    t.sla_started_at = c.started_at;
    t.first_response_minutes = i64::from(c.target.first_response_minutes);
    t.resolution_minutes = i64::from(c.target.resolution_minutes);
    t.paused_secs = c.paused_secs;
    t.paused_at = c.paused_at;
    t.first_response_due = c.first_response_due();
    t.resolution_due = c.resolution_due();
}

/// A ticket as the queue shows it: stored fields plus where its SLA stands now.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub sla: SlaState,
}

#[derive(Debug, Serialize)]
pub struct SlaState {
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    /// Share of the SLA used, in percent (of first response until answered, else resolution).
    pub elapsed_percent: f64,
    /// None once resolved or closed.
    pub level: Option<WarningLevel>,
    pub level_label: String,
    pub paused: bool,
    /// The due times in the team's time zone, for people.
    pub first_response_due_local: String,
    pub resolution_due_local: String,
}

pub fn view(t: Ticket, config: &TriageConfig, now: DateTime<Utc>) -> TicketView {
    let c = clock(&t, config);
    let open = t.status.is_open();
    let f = if open {
        c.elapsed_fraction(now, t.first_responded_at.is_some())
    } else {
        0.0
    };
    let level = open.then(|| WarningLevel::from_fraction(f));
    let paused = t.paused_at.is_some();
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&config.time_zone)
            .format("%a %d %b %H:%M %Z")
            .to_string()
    };
    TicketView {
        sla: SlaState {
            first_response_due: t.first_response_due,
            resolution_due: t.resolution_due,
            elapsed_percent: (f * 1000.0).round() / 10.0,
            level,
            level_label: match (level, paused) {
                (None, _) => "done".into(),
                (Some(l), true) => format!("{} (paused)", l.label()),
                (Some(l), false) => l.label().into(),
            },
            paused,
            first_response_due_local: local(t.first_response_due),
            resolution_due_local: local(t.resolution_due),
        },
        ticket: t,
    }
}

/// Open tickets first, the most urgent (largest share of SLA used) first.
fn by_urgency(v: &mut [TicketView]) {
    v.sort_by(|a, b| {
        b.ticket
            .status
            .is_open()
            .cmp(&a.ticket.status.is_open())
            .then(b.sla.elapsed_percent.total_cmp(&a.sla.elapsed_percent))
            .then(a.ticket.priority.cmp(&b.ticket.priority))
            .then(a.ticket.created_at.cmp(&b.ticket.created_at))
    });
}

/// `?status=&priority=&tier=&type=&open=` on the queue.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub tier: Option<String>,
    /// `?type=`: a ticket type id.
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    pub open: Option<bool>,
    pub format: Option<String>,
}

fn filter(q: &QueueQuery) -> Result<TicketFilter, TicketError> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let f = TicketFilter {
        status: some(&q.status),
        priority: some(&q.priority),
        routing_tier: some(&q.tier),
        ticket_type: some(&q.ticket_type),
        open_only: q.open.unwrap_or(false),
        limit: 500,
    };
    if let Some(s) = &f.status
        && TicketStatus::parse(s).is_none()
    {
        return Err(TicketError::BadRequest(format!(
            "status must be one of: {}",
            TicketStatus::ALL.map(TicketStatus::as_str).join(", ")
        )));
    }
    if let Some(p) = &f.priority
        && parse_priority(p).is_none()
    {
        return Err(TicketError::BadRequest("priority must be P1 to P5".into()));
    }
    Ok(f)
}

/// The queue: filtered, open tickets first, the most urgent first.
pub async fn queue(
    store: &Store,
    config: &TriageConfig,
    q: &QueueQuery,
) -> Result<Vec<TicketView>, TicketError> {
    let f = filter(q)?;
    let tickets = store
        .tickets(&f)
        .await
        .map_err(unavailable("listing tickets"))?;
    let now = Utc::now();
    let mut v: Vec<TicketView> = tickets.into_iter().map(|t| view(t, config, now)).collect();
    by_urgency(&mut v);
    Ok(v)
}

/// A ticket with its trail and audit log.
#[derive(Debug, Serialize)]
pub struct TicketDetail {
    pub ticket: TicketView,
    pub trail: Vec<TrailEntry>,
    pub audit: Vec<AuditEntry>,
}

/// A ticket with its trail and audit log.
pub async fn detail(
    store: &Store,
    config: &TriageConfig,
    id: &str,
) -> Result<TicketDetail, TicketError> {
    let what = format!("reading ticket {id}");
    let unavailable = || unavailable(&what);
    let t = store
        .ticket(id)
        .await
        .map_err(unavailable())?
        .ok_or_else(|| TicketError::NotFound(id.to_string()))?;
    let trail = match &t.session_id {
        Some(s) => store.trail(s).await.map_err(unavailable())?,
        None => Vec::new(),
    };
    let audit = store.audit_log(id).await.map_err(unavailable())?;
    Ok(TicketDetail {
        ticket: view(t, config, Utc::now()),
        trail,
        audit,
    })
}
