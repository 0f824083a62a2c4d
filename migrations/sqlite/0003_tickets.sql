-- Fallback tickets, triaged on creation. The analytics reports rely on id, session_id,
-- category and created_at.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    session_id TEXT,
    email TEXT NOT NULL,
    email_domain TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    customer_tier TEXT NOT NULL,
    category TEXT,
    category_confidence REAL NOT NULL,
    priority TEXT NOT NULL,
    priority_reason TEXT NOT NULL,
    routing_tier TEXT NOT NULL,
    status TEXT NOT NULL,
    assignee TEXT,
    at_risk INTEGER NOT NULL,
    source TEXT NOT NULL,
    -- The SLA period: from creation or the last reopen, in business seconds paused so far.
    sla_started_at TEXT NOT NULL,
    first_response_minutes INTEGER NOT NULL,
    resolution_minutes INTEGER NOT NULL,
    first_response_due TEXT NOT NULL,
    resolution_due TEXT NOT NULL,
    first_responded_at TEXT,
    paused_at TEXT,
    paused_secs INTEGER NOT NULL,
    resolved_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tickets_session ON tickets (session_id, created_at);
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX tickets_status ON tickets (status, resolution_due);
CREATE INDEX tickets_domain ON tickets (email_domain, created_at);
