-- Reports (issue 4): per-session and per-article lookups of clicks and votes, searches by
-- query (the sessions of a content gap), and the closed days' report rows: a day's
-- searches, refinements and sessions do not change once the day is over, so they are
-- aggregated once and kept (JSON rows per query and day).
CREATE INDEX clicks_session ON clicks (session_id, created_at);
CREATE INDEX clicks_slug ON clicks (slug, created_at);
CREATE INDEX votes_session ON votes (session_id, created_at);
CREATE INDEX searches_normalized ON searches (normalized, created_at);
CREATE TABLE report_days (
    query TEXT NOT NULL,
    day TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (query, day)
);
