-- Admin logins: the login cookie holds a random session id; only its SHA-256 is kept here, with
-- a fingerprint of the admin token that opened it (rotating the token ends every session) and
-- when it expires (Unix seconds). Logging out deletes the row, on every replica at once.
CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    token_fingerprint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);
