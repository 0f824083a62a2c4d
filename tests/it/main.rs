//! The one integration-test binary: each module builds its own small knowledge base.

mod browser;
mod cli;
mod content;
mod fixture;
mod http;
mod search;
mod store;
mod suggest;
