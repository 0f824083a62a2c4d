//! What `deflect simulate` and `deflect eval --warm` share to replay customers through the
//! public API: a seeded generator whose draws never change, typing slips, and one HTTP/1
//! request helper over a pooled hyper client.

use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// SplitMix64: a tiny, well-known generator whose sequence never changes with a crate's
/// version, so a seed means the same traffic forever.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator of one `stream` (a session, a fold) of a run's `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = Self(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        r.next();
        r
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        x
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A typing slip in one word: two letters swapped or one dropped.
pub fn misspell(text: &str, rng: &mut Rng) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let long: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().count() > 4)
        .collect();
    if long.is_empty() {
        return text.to_string();
    }
    let w = long[rng.below(long.len())];
    let mut chars: Vec<char> = words[w].chars().collect();
    let at = 1 + rng.below(chars.len() - 2);
    if rng.chance(0.5) && chars[at] != chars[at + 1] {
        chars.swap(at, at + 1);
    } else {
        chars.remove(at);
    }
    let slipped: String = chars.into_iter().collect();
    words
        .iter()
        .enumerate()
        .map(|(i, word)| if i == w { slipped.as_str() } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Counts one more.
pub fn add(n: &AtomicU64) {
    n.fetch_add(1, Ordering::Relaxed);
}

/// A counter's value.
pub fn get(n: &AtomicU64) -> u64 {
    n.load(Ordering::Relaxed)
}

/// Encodes a query-string or path value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A help center's API at `base` (`http://host:port`), over one pooled HTTP/1 client.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// One request with extra `headers`; the status and the JSON body (Null when there is
    /// none or it is not JSON), or why no answer came.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, Value), String> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let bytes = body.map(Value::to_string).unwrap_or_default();
        let req = req
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| format!("{path}: {e}"))?;
        let res = self
            .client
            .request(req)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = res.status();
        let body = match res.into_body().collect().await {
            Ok(b) => serde_json::from_slice(&b.to_bytes()).unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        Ok((status, body))
    }
}

/// The `slug`s of a search response's results, best first.
pub fn result_slugs(found: &Value) -> Vec<String> {
    found["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|h| h["slug"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let draw = |seed, stream| {
            let mut r = Rng::new(seed, stream);
            (0..5).map(|_| r.below(1000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(draw(7, 3), draw(7, 4));
        assert_ne!(draw(7, 3), draw(8, 3));
    }

    #[test]
    fn slips_change_one_long_word() {
        let mut r = Rng::new(1, 1);
        for _ in 0..50 {
            let s = misspell("my card hasnt arrived", &mut r);
            assert_ne!(s, "my card hasnt arrived");
            assert!(s.starts_with("my card "), "{s}");
        }
        assert_eq!(misspell("a pin", &mut r), "a pin", "no long word");
        assert_eq!(enc("a b/é"), "a+b%2F%C3%A9");
    }

    #[test]
    fn a_shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..100).collect();
        Rng::new(3, 0).shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
