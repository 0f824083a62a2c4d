-- Learning from traffic. `client`: who sent a search or a suggestion request, as a daily-salted
-- hash of the client address (never the address), so one client's many sessions count once.
-- `learned`: whether the answer used what was learned (the A/B report compares both).
ALTER TABLE searches ADD COLUMN client TEXT;
ALTER TABLE searches ADD COLUMN learned BOOLEAN;
ALTER TABLE suggestions ADD COLUMN client TEXT;
ALTER TABLE suggestions ADD COLUMN learned BOOLEAN;

-- Settings shared by every replica of one store (the client-hash salt).
CREATE TABLE learning_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Wordings a KB manager rejected for an article: never learned again.
CREATE TABLE learning_rejections (
    slug TEXT NOT NULL,
    phrase TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (slug, phrase)
);
CREATE INDEX ticket_audit_field ON ticket_audit (field, created_at);
