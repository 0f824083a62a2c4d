//! Deflect: a self-hosted help center and self-service search engine.
//!
//! The modules below are the tour, in layer order: each imports only the ones listed before
//! it (`tests/it/layers.rs` fails the build's tests when one reaches up).

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
/// The KB manager's reports: metrics against targets, six reports, tables and CSV.
pub mod reports;
/// The tantivy search engine: analysis, query building, typo tolerance, snippets, did-you-mean.
pub mod search;
/// A secret string (tokens, database URLs): compared in constant time, never printed.
pub mod secret;
/// The live site: content plus index, reloaded and swapped atomically.
pub mod site;
/// The store: searches, clicks, votes and tickets in SQLite or PostgreSQL.
pub mod store;
/// The suggestion decision: answer, suggest or hand off, with a calibrated confidence.
pub mod suggest;
/// The ticket domain: filing (triage, SLA, audit, outbox), the queue, updates, export.
pub mod tickets;
/// Ticket triage as pure functions: ticket type, priority tree, SLA clocks, lifecycle.
pub mod triage;
/// The durable webhook outbox: signed ticket hand-offs to a help desk, retried with backoff.
pub mod webhook;
