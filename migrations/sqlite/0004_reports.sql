-- Reports (issue 4): per-session and per-article lookups of clicks and votes.
CREATE INDEX clicks_session ON clicks (session_id, created_at);
CREATE INDEX clicks_slug ON clicks (slug, created_at);
CREATE INDEX votes_session ON votes (session_id, created_at);
