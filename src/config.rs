//! One typed configuration: defaults < `deflect.toml` < `DEFLECT_*` environment < flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

pub use crate::secret::Secret;

/// `[widget]` in deflect.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetConfig {
    /// Origins (e.g. `https://app.example.com`) whose pages may call the API; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a load balancer that sets it).
    pub trust_proxy: bool,
    /// Suggestions per minute per session (0 = unlimited), and the burst allowed at once.
    pub session_per_minute: u32,
    pub session_burst: u32,
    /// Suggestions per minute per client IP (0 = unlimited), and the burst allowed at once.
    pub ip_per_minute: u32,
    pub ip_burst: u32,
    /// Sessions and addresses tracked at most (memory bound).
    pub max_tracked: usize,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            trust_proxy: false,
            session_per_minute: 30,
            session_burst: 10,
            ip_per_minute: 600,
            ip_burst: 120,
            max_tracked: 100_000,
        }
    }
}

/// `[connections]` in deflect.toml: how long a client may hold a connection without using it,
/// and how many may be open at once.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Open connections at most. At the cap the longest-idle connection is closed to make room;
    /// when every one is busy, a newcomer gets a quick 503 (health checks are still answered).
    pub max_connections: usize,
    /// Seconds a request's headers may take to arrive, from their first byte.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may sit idle (kept alive between requests, or never used) before
    /// it is closed.
    pub idle_timeout_secs: u64,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
        }
    }
}

/// Every setting of `deflect serve`.
#[derive(Debug, Clone)]
pub struct Config {
    pub content: PathBuf,
    pub bind: SocketAddr,
    pub templates: PathBuf,
    pub site_name: String,
    /// Origin for canonical URLs and the sitemap, e.g. `https://help.example.com`.
    pub public_url: String,
    /// Bearer token for admin endpoints; admin is disabled without one.
    pub admin_token: Option<Secret>,
    /// Reload content when files change.
    pub watch: bool,
    /// Origins allowed to frame the pages (CSP `frame-ancestors`).
    pub frame_ancestors: Vec<String>,
    pub request_timeout_secs: u64,
    /// Where the embedded SQLite database lives.
    pub data_dir: PathBuf,
    /// `postgres://…` to share one PostgreSQL between replicas; SQLite in `data_dir` when unset.
    pub database_url: Option<Secret>,
    /// `[analytics]`: event recording and retention.
    pub analytics: crate::store::retention::AnalyticsConfig,
    /// `[triage]`: priority signals, SLA targets, business hours, keyword rules.
    pub triage: crate::triage::TriageConfig,
    /// `[webhook]`: where new tickets are handed off.
    pub webhook: crate::webhook::WebhookConfig,
    /// `[suggest]`: when the suggestion endpoint answers, suggests or hands off.
    pub suggest: crate::suggest::SuggestConfig,
    /// `[widget]`: CORS allow-list and rate limits of the embeddable widget.
    pub widget: WidgetConfig,
    /// `[learning]`: learning from clicks, votes and agents' ticket types.
    pub learning: crate::learning::LearningConfig,
    /// `[connections]`: timeouts and the connection cap.
    pub connections: ConnectionsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            content: PathBuf::from("content"),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            templates: PathBuf::from("templates"),
            site_name: "Quill".into(),
            public_url: String::new(),
            admin_token: None,
            watch: true,
            frame_ancestors: vec!["'self'".into()],
            request_timeout_secs: 10,
            data_dir: PathBuf::from("data"),
            database_url: None,
            analytics: crate::store::retention::AnalyticsConfig::default(),
            triage: crate::triage::TriageConfig::default(),
            webhook: crate::webhook::WebhookConfig::default(),
            suggest: crate::suggest::SuggestConfig::default(),
            learning: crate::learning::LearningConfig::default(),
            widget: WidgetConfig::default(),
            connections: ConnectionsConfig::default(),
        }
    }
}

/// Settings from one source; unset fields leave the lower layer's value.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub content: Option<PathBuf>,
    pub bind: Option<SocketAddr>,
    pub templates: Option<PathBuf>,
    pub site_name: Option<String>,
    pub public_url: Option<String>,
    pub admin_token: Option<Secret>,
    pub watch: Option<bool>,
    pub frame_ancestors: Option<Vec<String>>,
    pub request_timeout_secs: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<Secret>,
    #[serde(default)]
    pub analytics: crate::store::retention::AnalyticsLayer,
    pub triage: Option<crate::triage::TriageConfig>,
    pub webhook: Option<crate::webhook::WebhookConfig>,
    pub suggest: Option<crate::suggest::SuggestConfig>,
    pub learning: Option<crate::learning::LearningConfig>,
    pub widget: Option<WidgetConfig>,
    pub connections: Option<ConnectionsConfig>,
}

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "deflect.toml";

pub const EXAMPLE: &str = r#"# deflect.toml — every setting, with its default. Environment variables DEFLECT_<NAME>
# (e.g. DEFLECT_BIND, DEFLECT_ADMIN_TOKEN) override this file; command-line flags override both.

# The content directory: articles, synonyms.txt, ticket-types.toml.
content = "content"
# Address to listen on.
bind = "127.0.0.1:8080"
# Templates overriding the built-in ones (same file names: base.html, home.html, ...).
templates = "templates"
# Shown in page titles and the header.
site_name = "Quill"
# Public origin for canonical URLs and sitemap.xml, e.g. "https://help.example.com".
public_url = ""
# Bearer token for /api/v1/admin/*. Prefer the DEFLECT_ADMIN_TOKEN environment variable.
# admin_token = "change-me"
# Reload content within seconds when files change.
watch = true
# Origins allowed to embed the pages in a frame (CSP frame-ancestors).
frame_ancestors = ["'self'"]
# Requests taking longer get a 503.
request_timeout_secs = 10
# Where the embedded SQLite database (events, votes) is kept.
data_dir = "data"
# Share one PostgreSQL between replicas instead. Prefer the DEFLECT_DATABASE_URL variable.
# database_url = "postgres://postgres@127.0.0.1:5432/deflect"

[analytics]
# Record searches, clicks, article views and suggestion replies (votes are always stored).
# DEFLECT_ANALYTICS_RECORD=false turns it off, e.g. to measure what recording costs.
record = true
# Delete events and votes older than this many days (hourly); 0 keeps them. Tickets are kept.
retention_days = 180
# Ticket triage (defaults shown; every key optional).
[triage]
# The support team's time zone (IANA name) and working hours; SLA clocks stop outside them
# (except for P1, which runs around the clock).
time_zone = "UTC"
business_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
business_start = "09:00"
business_end = "18:00"
# The tier assumed when a ticket names none; tiers multiply the SLA targets.
default_customer_tier = "business"
# An email domain with this many P1/P2 tickets within at_risk_days is flagged at risk.
at_risk_tickets = 3
at_risk_days = 30
# How many search hits vote on a ticket's category (their articles' ticket_types).
category_hits = 5
# Spam guard: tickets per 10 minutes per session and per IP address (0 = no limit).
tickets_per_session = 5
tickets_per_ip = 30
[triage.tier_multipliers]
enterprise = 0.5
business = 1.0
professional = 1.5
starter = 2.0
free = 4.0
# Targets per priority in business minutes (P5 resolution: 5 business days of 9 h).
[triage.sla.P1]
first_response_minutes = 15
resolution_minutes = 240
[triage.sla.P2]
first_response_minutes = 60
resolution_minutes = 480
[triage.sla.P3]
first_response_minutes = 240
resolution_minutes = 1440
[triage.sla.P4]
first_response_minutes = 480
resolution_minutes = 4320
[triage.sla.P5]
first_response_minutes = 1440
resolution_minutes = 2700
# Signal phrases of the triage tree (whole words, any case); these replace the built-in lists.
# [triage.signals]
# outage = ["everyone", "outage", "nobody can"]
# money_at_risk = ["charged twice", "stolen", "fraud"]
# blocked = ["can't log in", "locked out", "declined"]
# how_to = ["how do i", "feature request"]
# Phrases that point at a ticket type regardless of the articles.
# [[triage.keyword_rules]]
# phrase = "chargeback"
# ticket_type = "request_refund"
# weight = 1.0

# Hand new tickets to a help desk: a signed JSON POST per ticket from a durable outbox.
# [webhook]
# url = "http://helpdesk.internal/hooks/deflect"
# Prefer the DEFLECT_WEBHOOK_SECRET variable; signs X-Deflect-Signature: sha256=<hex>.
# secret = "change-me"
# timeout_secs = 10
# retry_base_secs = 2
# retry_max_secs = 600

# The suggestion endpoint (POST /api/v1/suggest): answer when the confidence (a calibrated
# probability that the first article is right) reaches answer_threshold, suggest articles
# from suggest_threshold, hand off below.
[suggest]
answer_threshold = 0.75
suggest_threshold = 0.2
max_articles = 3
# Tiers that go straight to a human, e.g. ["enterprise"].
handoff_tiers = []
# Articles whose category or tag the widget's page names score this much higher.
page_boost = 0.2
# The contact form the hand-off links to (prefilled with subject and description).
contact_path = "/contact"
# How far what traffic taught counts as evidence for the first article (0 = not at all): a
# learned probability p removes learned_trust × p² × (share of the message the article
# matches) of the remaining doubt.
learned_trust = 1.4

# Learning from traffic: clicks (corrected for position), helpful votes, "this answered my
# question", tickets after a search and the ticket types agents set teach search, suggest and
# triage which article answers which wording. One client's many sessions count once.
[learning]
enabled = true
# Evidence loses half its weight every this many days.
half_life_days = 60.0
# Distinct clients needed before an article is learned for a wording at all.
min_support = 3
# The most weight one client gives one article, and gives in all.
per_client_cap = 3.0
# Share of sessions served without learning: the A/B report compares them.
ab_control_share = 0.1
# Retrain at least this often (minutes) and after this many new clicks, votes and labels.
retrain_minutes = 60
retrain_after_events = 2000
# Read at most this many days of traffic.
history_days = 365

# The embeddable widget (/widget.js).
[widget]
# Sites allowed to call the API from the browser (CORS), e.g. ["https://app.example.com"].
allowed_origins = []
# Client IP from X-Forwarded-For: only behind a load balancer that sets it.
trust_proxy = false
# Suggestions per minute (0 = unlimited) and burst, per session and per client IP.
session_per_minute = 30
session_burst = 10
ip_per_minute = 600
ip_burst = 120
# Sessions and IPs tracked at most (bounds memory).
max_tracked = 100000

# Connections: a client that opens one and sends nothing, or trickles a request's headers, is
# cut off; at the cap the longest-idle connection makes room for a new one, and when every
# connection is busy a newcomer gets a quick 503 while /healthz and /readyz still answer.
[connections]
max_connections = 10000
# From a request's first byte to the end of its headers.
header_read_timeout_secs = 10
# Idle: after a response (kept alive) or since the connection opened, before any request.
idle_timeout_secs = 60
"#;

impl Layer {
    /// Parses a TOML layer; errors name the file and line.
    pub fn from_toml(path: &Path, src: &str) -> anyhow::Result<Self> {
        toml::from_str(src).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                crate::content::diagnostic::line_of_offset(src, s.start)
            });
            anyhow::anyhow!(
                "{}:{line}: {} — see `deflect config --example`",
                path.display(),
                e.message().trim()
            )
        })
    }

    /// Reads `DEFLECT_*` variables through `get`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let parse_bool = |name: &str, v: String| match v.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => bail!("{name}={v} is not a boolean — use true or false"),
        };
        Ok(Self {
            content: get("DEFLECT_CONTENT").map(PathBuf::from),
            bind: get("DEFLECT_BIND")
                .map(|v| {
                    v.parse().with_context(|| {
                        format!("DEFLECT_BIND={v} is not an address like 127.0.0.1:8080")
                    })
                })
                .transpose()?,
            templates: get("DEFLECT_TEMPLATES").map(PathBuf::from),
            site_name: get("DEFLECT_SITE_NAME"),
            public_url: get("DEFLECT_PUBLIC_URL"),
            admin_token: get("DEFLECT_ADMIN_TOKEN")
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            watch: get("DEFLECT_WATCH")
                .map(|v| parse_bool("DEFLECT_WATCH", v))
                .transpose()?,
            frame_ancestors: get("DEFLECT_FRAME_ANCESTORS")
                .map(|v| v.split_whitespace().map(String::from).collect()),
            data_dir: get("DEFLECT_DATA_DIR").map(PathBuf::from),
            triage: None,
            webhook: crate::webhook::WebhookConfig::from_env(&get),
            database_url: get("DEFLECT_DATABASE_URL")
                .filter(|u| !u.is_empty())
                .map(Secret::new),
            request_timeout_secs: get("DEFLECT_REQUEST_TIMEOUT_SECS")
                .map(|v| {
                    v.parse().with_context(|| {
                        format!("DEFLECT_REQUEST_TIMEOUT_SECS={v} is not a number of seconds")
                    })
                })
                .transpose()?,
            analytics: crate::store::retention::AnalyticsLayer::from_env(&get)?,
            suggest: None,
            learning: None,
            widget: None,
            connections: None,
        })
    }

    fn apply(self, c: &mut Config) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { c.$f = v; } )* };
        }
        set!(
            content,
            bind,
            templates,
            site_name,
            public_url,
            watch,
            frame_ancestors,
            request_timeout_secs,
            data_dir
        );
        if self.admin_token.is_some() {
            c.admin_token = self.admin_token;
        }
        if self.database_url.is_some() {
            c.database_url = self.database_url;
        }
        c.analytics.apply(self.analytics);
        if let Some(t) = self.triage {
            c.triage = t;
        }
        if let Some(w) = self.webhook {
            c.webhook.merge(w);
        }
        if let Some(l) = self.learning {
            c.learning = l;
        }
        if let Some(s) = self.suggest {
            c.suggest = s;
        }
        if let Some(w) = self.widget {
            c.widget = w;
        }
        if let Some(k) = self.connections {
            c.connections = k;
        }
    }
}

impl Config {
    /// Layers the sources in order: defaults, file, environment, flags.
    pub fn resolve(file: Option<Layer>, env: Layer, flags: Layer) -> Self {
        let mut c = Config::default();
        for layer in [file.unwrap_or_default(), env, flags] {
            layer.apply(&mut c);
        }
        c.public_url = c.public_url.trim_end_matches('/').to_string();
        c
    }

    /// Loads `path` (or `deflect.toml` if present), the process environment and `flags`.
    pub fn load(path: Option<&Path>, flags: Layer) -> anyhow::Result<Self> {
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None => Path::new(DEFAULT_FILE)
                .is_file()
                .then(|| PathBuf::from(DEFAULT_FILE)),
        };
        let file = match file {
            Some(p) => {
                let src = std::fs::read_to_string(&p)
                    .with_context(|| format!("reading config {}", p.display()))?;
                Some(Layer::from_toml(&p, &src)?)
            }
            None => None,
        };
        let env = Layer::from_env(|k| std::env::var(k).ok())?;
        Ok(Self::resolve(file, env, flags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_override_in_order() {
        let file = Layer::from_toml(
            Path::new("d.toml"),
            "bind = \"0.0.0.0:9000\"\nsite_name = \"File\"\nwatch = false\n",
        )
        .expect("valid");
        let env = Layer::from_env(|k| (k == "DEFLECT_SITE_NAME").then(|| "Env".to_string()))
            .expect("valid");
        let flags = Layer {
            content: Some("docs".into()),
            ..Layer::default()
        };
        let c = Config::resolve(Some(file), env, flags);
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.site_name, "Env");
        assert_eq!(c.content, PathBuf::from("docs"));
        assert!(!c.watch);
        assert_eq!(c.templates, PathBuf::from("templates"), "default kept");
    }

    #[test]
    fn the_example_parses_and_errors_name_the_line() {
        Layer::from_toml(Path::new("x.toml"), EXAMPLE).expect("example is valid");
        let e = Layer::from_toml(Path::new("x.toml"), "site_name = \"a\"\nbnid = \"x\"\n")
            .expect_err("unknown key");
        assert!(e.to_string().starts_with("x.toml:2:"), "{e}");
        let e = Layer::from_env(|k| (k == "DEFLECT_WATCH").then(|| "maybe".to_string()))
            .expect_err("bad bool");
        assert!(e.to_string().contains("DEFLECT_WATCH=maybe"), "{e}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let c = Config {
            admin_token: Some(s.clone()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter3"));
        assert!(!s.matches(""));
    }
}
