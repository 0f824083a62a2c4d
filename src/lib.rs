//! Deflect: a self-hosted help center and self-service search engine.
//!
//! Data flows one way: content → search → http / CLI; nothing low imports anything high.

/// The KB manager's reports: metric definitions, targets, statuses and report rows.
pub mod analytics;
/// The command-line interface, one module per subcommand.
pub mod cli;
/// One typed configuration: defaults < deflect.toml < DEFLECT_* < flags.
pub mod config;
/// The knowledge base as authors write it: articles, synonyms, ticket types, and their checks.
pub mod content;
/// Relevance evaluation against labelled customer questions.
pub mod eval;
/// The help center over HTTP: route table, pages, JSON API.
pub mod http;
/// Learning from traffic: behaviour → weighted examples → a robust model that re-ranks search.
pub mod learning;
/// The tantivy search engine: analysis, query building, typo tolerance, snippets, did-you-mean.
pub mod search;
/// The live site: content plus index, reloaded and swapped atomically.
pub mod site;
/// The store: searches, clicks, votes and tickets in SQLite or PostgreSQL.
pub mod store;
/// The suggestion decision: answer, suggest or hand off, with a calibrated confidence.
pub mod suggest;
/// Ticket triage as pure functions: category, priority tree, SLA clocks, lifecycle.
pub mod triage;
/// The durable webhook outbox: signed ticket hand-offs to a help desk, retried with backoff.
pub mod webhook;
