//! The one integration-test binary: each module builds its own small knowledge base.

mod browser;
mod cli;
mod content;
mod events;
mod fixture;
mod http;
mod reports;
mod scale_out;
mod search;
mod store;
mod suggest;
mod tickets;
