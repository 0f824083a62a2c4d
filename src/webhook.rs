//! The ticket hand-off to a real help desk: every new ticket gets an outbox row in the same
//! transaction as the ticket; a background task POSTs it as JSON, signed with HMAC-SHA256,
//! retries with exponential backoff and marks it delivered. The outbox lives in the database,
//! so a restart resumes where it stopped: delivery is at-least-once, and the
//! `Idempotency-Key` header (the delivery id) lets the receiver process each ticket once.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::config::Secret;

/// `[webhook]` of deflect.toml (every key optional; no `url` = no hand-off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://…` endpoint receiving one POST per ticket.
    pub url: Option<String>,
    /// Signs each body: `X-Deflect-Signature: sha256=<hex HMAC>`. Never logged.
    pub secret: Option<Secret>,
    /// How long one delivery attempt may take [default: 10].
    pub timeout_secs: Option<u64>,
    /// The first retry waits this long, doubling each time [default: 2].
    pub retry_base_secs: Option<u64>,
    /// ... up to this long [default: 600].
    pub retry_max_secs: Option<u64>,
}

impl WebhookConfig {
    /// `DEFLECT_WEBHOOK_URL` and `DEFLECT_WEBHOOK_SECRET`, if either is set.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Option<Self> {
        let url = get("DEFLECT_WEBHOOK_URL").filter(|v| !v.is_empty());
        let secret = get("DEFLECT_WEBHOOK_SECRET")
            .filter(|v| !v.is_empty())
            .map(Secret::new);
        (url.is_some() || secret.is_some()).then(|| Self {
            url,
            secret,
            ..Self::default()
        })
    }

    /// Takes every setting `other` has.
    pub fn merge(&mut self, other: Self) {
        macro_rules! take {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        take!(url, secret, timeout_secs, retry_base_secs, retry_max_secs);
    }

    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs.unwrap_or(10).max(1))
    }

    /// The wait before attempt `attempts + 1`: base × 2^(attempts-1), capped.
    pub fn backoff(&self, attempts: i64) -> std::time::Duration {
        let base = self.retry_base_secs.unwrap_or(2).max(1);
        let max = self.retry_max_secs.unwrap_or(600).max(base);
        let exp = u32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
        std::time::Duration::from_secs(base.saturating_mul(2u64.saturating_pow(exp)).min(max))
    }
}

/// `sha256=<hex>` of the body under the secret, as sent in `X-Deflect-Signature`.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231 test case 2.
        let s = signature(&Secret::new("Jefe"), b"what do ya want for nothing?");
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = WebhookConfig {
            retry_base_secs: Some(2),
            retry_max_secs: Some(20),
            ..WebhookConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| c.backoff(a).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 20, 20]);
    }

    #[test]
    fn the_secret_never_prints() {
        let c = WebhookConfig {
            secret: Some(Secret::new("s3cr3t")),
            ..WebhookConfig::default()
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
