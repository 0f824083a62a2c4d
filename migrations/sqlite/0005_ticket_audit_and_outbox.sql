-- Who changed what on a ticket, and when.
CREATE TABLE ticket_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_audit_ticket ON ticket_audit (ticket_id, id);

-- Webhook deliveries, written in the same transaction as their ticket; a row is pending until
-- delivered_at is set. next_attempt_at doubles as a lease while a delivery is in flight.
CREATE TABLE webhook_outbox (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    event TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, next_attempt_at);

-- "This answered my question" on the contact page: the flow ended without a ticket.
CREATE TABLE contact_deflections (
    session_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX contact_deflections_created_at ON contact_deflections (created_at);
