//! Rate limits for public write-ish endpoints (suggestions, tickets): a token bucket per key
//! (session or client IP) in a map of bounded size, so a flood of fresh keys cannot grow memory.
//!
//! Hand-written rather than `governor`: a keyed limiter there needs periodic `retain_recent`
//! calls and still has no size cap; this is one mutex-guarded map with a hard cap, which is
//! enough for a few thousand requests per second on one replica.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::Deserialize;

use super::{ApiError, AppState};

/// A rate: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per key, at most `capacity` keys.
#[derive(Debug)]
pub struct RateLimiter {
    /// Tokens a key may hold: requests allowed at once.
    burst: u32,
    /// Refill per second; 0 disables the limiter.
    per_sec: f64,
    capacity: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `rate.per_minute == 0` disables the limiter.
    pub fn new(rate: Rate, capacity: usize) -> Self {
        Self {
            burst: rate.burst,
            per_sec: f64::from(rate.per_minute) / 60.0,
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// At most `limit` requests per `window` and key (all of them at once, if need be);
    /// `limit == 0` disables the limiter.
    pub fn per_window(limit: u32, window: Duration, capacity: usize) -> Self {
        Self {
            burst: limit,
            per_sec: f64::from(limit) / window.as_secs_f64().max(1.0),
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how long to wait for one.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), ApiError> {
        if self.per_sec <= 0.0 {
            return Ok(());
        }
        let burst = f64::from(self.burst.max(1));
        let per_sec = self.per_sec;
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !map.contains_key(key) && map.len() >= self.capacity {
            // Forget buckets that have refilled: they hold no information.
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < burst
            });
            if map.len() >= self.capacity {
                // Still full of active keys: under a flood, refuse new keys rather than grow.
                return Err(ApiError::TooManyRequests { retry_after: 1 });
            }
        }
        let b = map.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / per_sec).ceil().max(1.0);
            Err(ApiError::TooManyRequests {
                retry_after: Duration::from_secs_f64(wait).as_secs(),
            })
        }
    }

    /// How many seconds `key` must wait for a token, without taking one; `None` when it has
    /// one (or the limiter is off).
    pub fn blocked(&self, key: &str) -> Option<u64> {
        if self.per_sec <= 0.0 {
            return None;
        }
        let map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let b = map.get(key)?;
        let elapsed = Instant::now().saturating_duration_since(b.at).as_secs_f64();
        let tokens = (b.tokens + elapsed * self.per_sec).min(f64::from(self.burst.max(1)));
        (tokens < 1.0).then(|| ((1.0 - tokens) / self.per_sec).ceil().max(1.0) as u64)
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The client's address as the rate limits see it ([`client_ip`] with the configured
/// `[widget] trust_proxy`); `None` without a socket, as in router-level tests.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<Arc<AppState>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(
            parts.extensions.get::<ConnectInfo<SocketAddr>>(),
            &parts.headers,
            state.config.widget.trust_proxy,
        )))
    }
}

/// The client's address: the socket's peer, or with `trust_proxy` the first address in
/// `X-Forwarded-For` (as set by the load balancer in front). `None` in router-level tests,
/// which have no socket.
pub fn client_ip(
    connect: Option<&ConnectInfo<SocketAddr>>,
    headers: &HeaderMap,
    trust_proxy: bool,
) -> Option<IpAddr> {
    if trust_proxy
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    connect.map(|c| c.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_for_the_refill() {
        let l = RateLimiter::new(
            Rate {
                per_minute: 60,
                burst: 3,
            },
            100,
        );
        let t = Instant::now();
        for _ in 0..3 {
            l.check_at("a", t).expect("within the burst");
        }
        match l.check_at("a", t) {
            Err(ApiError::TooManyRequests { retry_after }) => assert_eq!(retry_after, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        l.check_at("b", t).expect("other keys are separate");
        l.check_at("a", t + Duration::from_millis(1100))
            .expect("one token back after a second");
    }

    #[test]
    fn memory_is_bounded() {
        let l = RateLimiter::new(
            Rate {
                per_minute: 60,
                burst: 2,
            },
            10,
        );
        let t = Instant::now();
        for i in 0..10 {
            l.check_at(&format!("k{i}"), t).expect("room");
        }
        assert!(l.check_at("new", t).is_err(), "full of active keys");
        assert_eq!(l.len(), 10);
        // A minute later every bucket has refilled and is forgotten to make room.
        l.check_at("new", t + Duration::from_secs(60))
            .expect("stale keys evicted");
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn zero_disables() {
        let l = RateLimiter::new(
            Rate {
                per_minute: 0,
                burst: 0,
            },
            1,
        );
        for _ in 0..100 {
            l.check("x").expect("disabled");
        }
    }

    #[test]
    fn forwarded_for_only_behind_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.7, 10.0.0.1".parse().expect("header"),
        );
        let sock = ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000)));
        assert_eq!(
            client_ip(Some(&sock), &h, true),
            Some("203.0.113.7".parse().expect("ip"))
        );
        assert_eq!(
            client_ip(Some(&sock), &h, false),
            Some("10.0.0.1".parse().expect("ip"))
        );
        assert_eq!(client_ip(None, &HeaderMap::new(), true), None);
    }
}
