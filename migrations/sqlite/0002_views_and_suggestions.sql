-- Article views (a customer read an article) and replies of the suggestion endpoint:
-- both are part of a session's self-service trail.
CREATE TABLE article_views (
    session_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    search_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX article_views_session ON article_views (session_id, created_at);
CREATE INDEX article_views_slug ON article_views (slug, created_at);

CREATE TABLE suggestions (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    message TEXT NOT NULL,
    action TEXT NOT NULL,
    confidence REAL NOT NULL,
    slug TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX suggestions_session ON suggestions (session_id, created_at);
CREATE INDEX suggestions_created_at ON suggestions (created_at);
CREATE INDEX clicks_created_at ON clicks (created_at);
CREATE INDEX votes_created_at ON votes (created_at);
