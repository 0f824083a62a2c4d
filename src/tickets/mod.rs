//! The ticket domain, as plain functions and types: what a customer files (checked field by
//! field), how it is triaged and stored with its audit entry and outbox row, the agents'
//! queue with where each SLA stands, updates through the lifecycle, and the CSV export.
//! HTTP handlers only translate requests and [`TicketError`]s.

mod export;
mod filing;
mod intake;
mod queue;
mod update;

pub use export::to_csv;
pub use filing::{Triaged, file, triage};
pub use intake::{
    MAX_DESCRIPTION_CHARS, MAX_EMAIL_CHARS, MAX_SUBJECT_CHARS, NewTicket, TicketRequest, check,
};
pub use queue::{
    QueueQuery, SlaState, TicketDetail, TicketView, clock, detail, parse_priority, queue, view,
};
pub use update::{TicketUpdate, apply, update};

/// Why a ticket could not be filed, found or changed.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// A field has a value we cannot accept; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A request that makes no sense as a whole (nothing to change, a bad filter).
    #[error("{0}")]
    BadRequest(String),
    #[error("no ticket `{0}`")]
    NotFound(String),
    /// The store could not be read or written; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
}

fn invalid(field: &'static str, message: impl Into<String>) -> TicketError {
    TicketError::Invalid {
        field,
        message: message.into(),
    }
}

/// A store error, with what was being done.
fn unavailable(what: &str) -> impl Fn(crate::store::StoreError) -> TicketError + '_ {
    move |e| TicketError::Unavailable(format!("{what}: {e}"))
}
