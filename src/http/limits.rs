//! A small bounded rate limiter: at most `limit` hits per key in a fixed window, remembering
//! at most `max_keys` keys (expired ones are dropped first; when all are live, new keys are
//! refused rather than letting memory grow).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    max_keys: usize,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration, max_keys: usize) -> Self {
        Self {
            limit,
            window,
            max_keys,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit for `key`; `false` when the key is over its limit (limit 0 = no limit).
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    pub fn allow_at(&self, key: &str, now: Instant) -> bool {
        if self.limit == 0 {
            return true;
        }
        let mut hits = self
            .hits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !hits.contains_key(key) && hits.len() >= self.max_keys {
            let window = self.window;
            hits.retain(|_, (start, _)| now.duration_since(*start) < window);
            if hits.len() >= self.max_keys {
                return false;
            }
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_per_window_and_stays_bounded() {
        let l = RateLimiter::new(2, Duration::from_secs(60), 2);
        let t0 = Instant::now();
        assert!(l.allow_at("a", t0));
        assert!(l.allow_at("a", t0));
        assert!(!l.allow_at("a", t0), "third hit in the window");
        assert!(l.allow_at("b", t0), "other keys are separate");
        assert!(!l.allow_at("c", t0), "full of live keys: refused");
        let later = t0 + Duration::from_secs(61);
        assert!(l.allow_at("a", later), "a new window");
        assert!(l.allow_at("c", later), "expired keys make room");
    }
}
