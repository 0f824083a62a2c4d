//! The queue as CSV, safe to open in a spreadsheet.

use super::TicketView;
use crate::triage::WarningLevel;

/// The tickets as CSV with a header row.
pub fn to_csv(v: &[TicketView]) -> Result<Vec<u8>, csv::Error> {
    let header = [
        "id",
        "status",
        "priority",
        "category",
        "category_confidence",
        "routing_tier",
        "customer_tier",
        "email",
        "subject",
        "description",
        "assignee",
        "at_risk",
        "first_response_due",
        "resolution_due",
        "sla_elapsed_percent",
        "sla_level",
        "session_id",
        "created_at",
    ];
    let rows = v.iter().map(|x| {
        let t = &x.ticket;
        [
            t.id.clone(),
            t.status.as_str().into(),
            t.priority.clone(),
            t.ticket_type.clone().unwrap_or_default(),
            format!("{:.3}", t.ticket_type_confidence),
            t.routing_tier.clone(),
            t.customer_tier.clone(),
            t.email.clone(),
            t.subject.clone(),
            t.description.clone(),
            t.assignee.clone().unwrap_or_default(),
            t.at_risk.to_string(),
            t.first_response_due.to_rfc3339(),
            t.resolution_due.to_rfc3339(),
            format!("{:.1}", x.sla.elapsed_percent),
            x.sla.level.map_or("done", WarningLevel::as_str).into(),
            t.session_id.clone().unwrap_or_default(),
            t.created_at.to_rfc3339(),
        ]
    });
    crate::spreadsheet::write(&header, rows)
}
