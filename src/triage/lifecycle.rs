//! The ticket lifecycle: new → triaged → assigned → in progress → pending customer (SLA clock
//! paused) → resolved → closed; moving a resolved or closed ticket to an open status reopens it.

use serde::{Deserialize, Serialize};

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Triaged,
    Assigned,
    InProgress,
    PendingCustomer,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 7] = [
        TicketStatus::New,
        TicketStatus::Triaged,
        TicketStatus::Assigned,
        TicketStatus::InProgress,
        TicketStatus::PendingCustomer,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Triaged => "triaged",
            TicketStatus::Assigned => "assigned",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::PendingCustomer => "pending_customer",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the SLA clock runs (or is paused) for it.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    /// Whether the team has answered the customer once it reaches this status.
    pub fn counts_as_response(self) -> bool {
        matches!(
            self,
            TicketStatus::InProgress
                | TicketStatus::PendingCustomer
                | TicketStatus::Resolved
                | TicketStatus::Closed
        )
    }

    /// Why `self → next` is not allowed, if it is not. A ticket never goes back to `new`.
    pub fn check_move(self, next: TicketStatus) -> Result<Transition, String> {
        if self == next {
            return Err(format!("the ticket is already {}", self.as_str()));
        }
        if next == TicketStatus::New {
            return Err("a ticket cannot go back to new; reopen it as triaged or assigned".into());
        }
        Ok(if !self.is_open() && next.is_open() {
            Transition::Reopen
        } else if next == TicketStatus::PendingCustomer {
            Transition::Pause
        } else if self == TicketStatus::PendingCustomer {
            Transition::Resume
        } else {
            Transition::Plain
        })
    }
}

impl TryFrom<String> for TicketStatus {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        TicketStatus::parse(&s).ok_or_else(|| format!("unknown ticket status `{s}`"))
    }
}

/// What a status change does to the SLA clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Plain,
    /// Into pending customer: the clock stops.
    Pause,
    /// Out of pending customer: the clock runs again.
    Resume,
    /// Resolved/closed → open: a new SLA period.
    Reopen,
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    #[test]
    fn moves_and_what_they_do_to_the_clock() {
        let cases = [
            (New, Triaged, Ok(Transition::Plain)),
            (Assigned, InProgress, Ok(Transition::Plain)),
            (InProgress, PendingCustomer, Ok(Transition::Pause)),
            (PendingCustomer, InProgress, Ok(Transition::Resume)),
            (PendingCustomer, Resolved, Ok(Transition::Resume)),
            (Resolved, Closed, Ok(Transition::Plain)),
            (Resolved, InProgress, Ok(Transition::Reopen)),
            (Closed, Triaged, Ok(Transition::Reopen)),
            (Closed, PendingCustomer, Ok(Transition::Reopen)),
        ];
        for (from, to, want) in cases {
            assert_eq!(from.check_move(to), want, "{from:?} → {to:?}");
        }
        assert!(Triaged.check_move(New).is_err());
        assert!(Triaged.check_move(Triaged).is_err());
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(TicketStatus::parse("done"), None);
    }
}
