-- Fallback tickets. The analytics reports rely on id, session_id, category and created_at.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    session_id TEXT,
    email TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    customer_tier TEXT,
    category TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tickets_session ON tickets (session_id, created_at);
CREATE INDEX tickets_created_at ON tickets (created_at);
