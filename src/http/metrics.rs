//! Prometheus metrics: requests and latency per route, articles indexed, reloads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    pub outcome: String,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to ~1.6 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

/// The process's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub articles: Gauge,
    pub reloads: Family<ReloadLabels, Counter>,
    /// Events lost to a full queue or a failed write.
    pub events_dropped: Counter,
    /// Events a killed run left in its journal, written at start.
    pub events_recovered: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("deflect");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let articles = Gauge::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        let events_dropped = Counter::default();
        let events_recovered = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "articles_indexed",
            "Published articles in the search index",
            articles.clone(),
        );
        registry.register(
            "content_reloads",
            "Content reloads by outcome",
            reloads.clone(),
        );
        registry.register(
            "events_dropped",
            "Analytics events (searches, clicks, views, suggestion replies) lost to a full queue or a failed write",
            events_dropped.clone(),
        );
        registry.register(
            "events_recovered",
            "Analytics events a killed run had acknowledged but not stored, written at the next start from its journal",
            events_recovered.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            articles,
            reloads,
            events_dropped,
            events_recovered,
        }
    }
}

impl Metrics {
    pub fn reloaded(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.reloads
            .get_or_create(&ReloadLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("encoding metrics failed");
        }
        out
    }
}
