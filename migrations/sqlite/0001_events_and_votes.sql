-- Searches, result clicks and helpfulness votes.
CREATE TABLE searches (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    query TEXT NOT NULL,
    normalized TEXT NOT NULL,
    result_count INTEGER NOT NULL,
    top_slugs TEXT NOT NULL,
    corrected_query TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX searches_created_at ON searches (created_at);
CREATE INDEX searches_session ON searches (session_id, created_at);

CREATE TABLE clicks (
    search_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    position INTEGER,
    session_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX clicks_search ON clicks (search_id);

CREATE TABLE votes (
    session_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    reason TEXT,
    comment TEXT,
    search_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, slug)
);
CREATE INDEX votes_slug ON votes (slug);
