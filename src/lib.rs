//! Deflect: a self-hosted help center and self-service search engine.
//!
//! The modules below are the tour, in layer order: each imports only the ones listed before
//! it (`tests/it/layers.rs` fails when one reaches up; `rustfmt.toml` keeps this order).

/// A secret string (tokens, database URLs): compared in constant time, never printed.
pub mod secret;
/// The one CSV writer of every export: cells a spreadsheet would run as formulas made text.
pub mod spreadsheet;
/// The knowledge base as authors write it: articles, synonyms, ticket types, and their checks.
pub mod content;
/// Content from elsewhere: Zendesk Guide, Help Scout Docs, Intercom Articles and docs sites'
/// Markdown turned into a content directory, with redirects from the old URLs.
pub mod import;
/// The tantivy search engine: analysis, query building, typo tolerance, snippets, did-you-mean.
pub mod search;
/// The live site: content plus index, reloaded and swapped atomically.
pub mod site;
/// Learning from traffic: signals become weighted examples; a robust model of which article
/// (and ticket type) answers which wording re-ranks and extends search, suggest and triage.
pub mod learning;
/// The suggestion decision: answer, suggest or hand off, with a calibrated confidence.
pub mod suggest;
/// Ticket triage as pure functions: ticket type, priority tree, SLA clocks, lifecycle.
pub mod triage;
/// Relevance evaluation against labelled customer questions.
pub mod eval;
/// The store: searches, clicks, votes and tickets in SQLite or PostgreSQL.
pub mod store;
/// The ticket domain: filing (triage, SLA, audit, outbox), the queue, updates, export.
pub mod tickets;
/// The KB manager's reports: metrics against targets, six reports, tables and CSV.
pub mod reports;
/// The durable webhook outbox: signed ticket hand-offs to a help desk, retried with backoff.
pub mod webhook;
/// One typed configuration: defaults < deflect.toml < DEFLECT_* < flags.
pub mod config;
/// The help center over HTTP: route table, extractors, pages, JSON API, admin.
pub mod http;
/// The command-line interface, one module per subcommand.
pub mod cli;
