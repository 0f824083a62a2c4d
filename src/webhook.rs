//! The ticket hand-off to a real help desk: every new ticket gets an outbox row in the same
//! transaction as the ticket; a background task POSTs it as JSON, signed with HMAC-SHA256,
//! retries with exponential backoff and marks it delivered. The outbox lives in the database,
//! so a restart resumes where it stopped: delivery is at-least-once, and the
//! `Idempotency-Key` header (the delivery id) lets the receiver process each ticket once.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::secret::Secret;

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

mod delivery {
    use std::sync::Arc;

    use axum::body::Bytes;
    use chrono::Utc;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use tokio::sync::Notify;

    use super::{WebhookConfig, signature};
    use crate::store::Store;
    use crate::store::tickets::Delivery;

    type HttpClient = Client<HttpConnector, Full<Bytes>>;

    /// The longest the loop sleeps without looking at the outbox.
    const IDLE: std::time::Duration = std::time::Duration::from_secs(5);
    const BATCH: i64 = 20;

    /// Delivers the outbox until `shutdown` resolves; `wake` is notified on new tickets.
    pub async fn run(
        store: Store,
        config: WebhookConfig,
        wake: Arc<Notify>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let Some(url) = config.url.clone() else {
            return;
        };
        let Ok(uri) = url.parse::<axum::http::Uri>() else {
            tracing::error!("[webhook] url is not a valid URL; tickets stay in the outbox");
            return;
        };
        if uri.scheme_str() != Some("http") {
            tracing::error!(
                "[webhook] url must be http:// (put a TLS proxy in front for https); tickets stay in the outbox"
            );
            return;
        }
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        tokio::pin!(shutdown);
        loop {
            match store.due_deliveries(Utc::now(), BATCH).await {
                Ok(batch) => {
                    for d in batch {
                        deliver(&store, &client, &uri, &config, d).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the webhook outbox"),
            }
            let wait = match store.next_delivery_at().await {
                Ok(Some(t)) => (t - Utc::now()).to_std().unwrap_or_default().min(IDLE),
                _ => IDLE,
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One attempt: claim, build the payload, POST, record the outcome.
    async fn deliver(
        store: &Store,
        client: &HttpClient,
        uri: &axum::http::Uri,
        config: &WebhookConfig,
        d: Delivery,
    ) {
        let lease = Utc::now()
            + chrono::Duration::from_std(config.timeout() + std::time::Duration::from_secs(5))
                .unwrap_or_else(|_| chrono::Duration::seconds(15));
        match store.claim_delivery(&d, lease).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "claiming a webhook delivery");
                return;
            }
        }
        let attempt = d.attempts + 1;
        let outcome = match payload(store, &d).await {
            Ok(body) => send(client, uri, config, &d, body).await,
            Err(e) => Err(e),
        };
        let result = match outcome {
            Ok(()) => {
                tracing::info!(delivery = %d.id, ticket = %d.ticket_id, attempt, "webhook delivered");
                store.mark_delivered(&d.id, Utc::now()).await
            }
            Err(e) => {
                let wait = config.backoff(attempt);
                tracing::warn!(delivery = %d.id, ticket = %d.ticket_id, attempt, retry_in_secs = wait.as_secs(), error = %e, "webhook delivery failed");
                let next = Utc::now()
                    + chrono::Duration::from_std(wait)
                        .unwrap_or_else(|_| chrono::Duration::seconds(60));
                store.mark_failed(&d.id, &e, next).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "recording a webhook delivery outcome");
        }
    }

    /// The JSON body: the ticket and the self-service trail of its session.
    async fn payload(store: &Store, d: &Delivery) -> Result<Vec<u8>, String> {
        let ticket = store
            .ticket(&d.ticket_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("ticket {} is gone", d.ticket_id))?;
        let trail = match &ticket.session_id {
            Some(s) => store.trail(s).await.map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        serde_json::to_vec(&serde_json::json!({
            "event": d.event,
            "delivery_id": d.id,
            "ticket": ticket,
            "trail": trail,
        }))
        .map_err(|e| e.to_string())
    }

    async fn send(
        client: &HttpClient,
        uri: &axum::http::Uri,
        config: &WebhookConfig,
        d: &Delivery,
        body: Vec<u8>,
    ) -> Result<(), String> {
        let mut req = axum::http::Request::post(uri.clone())
            .header("content-type", "application/json")
            .header("user-agent", concat!("deflect/", env!("CARGO_PKG_VERSION")))
            .header("idempotency-key", &d.id)
            .header("x-deflect-delivery", &d.id)
            .header("x-deflect-ticket", &d.ticket_id)
            .header("x-deflect-event", &d.event);
        if let Some(secret) = &config.secret {
            req = req.header("x-deflect-signature", signature(secret, &body));
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("building the request: {e}"))?;
        let res = tokio::time::timeout(config.timeout(), client.request(req))
            .await
            .map_err(|_| format!("no answer within {} s", config.timeout().as_secs()))?
            .map_err(|e| format!("sending: {e}"))?;
        let status = res.status();
        // Read (and drop) the body so the connection can be reused.
        let _ = tokio::time::timeout(config.timeout(), res.into_body().collect()).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {status}"))
        }
    }
}

pub use delivery::run;
