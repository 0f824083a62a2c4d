//! Deflect: a self-hosted help center and self-service search engine.
//!
//! Data flows one way: content → search → CLI; nothing low imports anything high.

/// The knowledge base as authors write it: articles, synonyms, ticket types, and their checks.
pub mod content;
/// The tantivy search engine: analysis, query building, typo tolerance, snippets, did-you-mean.
pub mod search;
/// Relevance evaluation against labelled customer questions.
pub mod eval;
/// The command-line interface, one module per subcommand.
pub mod cli;
