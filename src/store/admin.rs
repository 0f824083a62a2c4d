//! Admin login sessions, shared by every replica of one store: a session id's hash, the
//! fingerprint of the token that opened it, and its expiry.

use super::{Store, StoreError};

/// One stored admin session.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSession {
    /// SHA-256 (hex) of the cookie's session id: the database never holds the id itself.
    pub id_hash: String,
    /// Which admin token opened it (see `http::admin`): another token, another fingerprint.
    pub token_fingerprint: String,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSession")
            .field("id_hash", &"***")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Stores a new admin session, forgetting expired ones on the way.
    pub async fn create_admin_session(&self, s: &AdminSession) -> Result<(), StoreError> {
        on_backend!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
                .bind(s.created_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO admin_sessions (id_hash, token_fingerprint, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&s.id_hash)
            .bind(&s.token_fingerprint)
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The session with this id hash, if stored (expired or not: the caller judges).
    pub async fn admin_session(&self, id_hash: &str) -> Result<Option<AdminSession>, StoreError> {
        let row: Option<(String, String, i64, i64)> = on_backend!(self, |pool| {
            sqlx::query_as(
                "SELECT id_hash, token_fingerprint, created_at, expires_at
                 FROM admin_sessions WHERE id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(
            |(id_hash, token_fingerprint, created_at, expires_at)| AdminSession {
                id_hash,
                token_fingerprint,
                created_at,
                expires_at,
            },
        ))
    }

    /// Ends a session (logging out).
    pub async fn delete_admin_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_backend!(self, |pool| {
            sqlx::query("DELETE FROM admin_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
