//! Learning from traffic: clicks, votes and tickets become weighted examples of which label
//! (article, ticket type) answers which wording; a robust sparse classifier learns them, and
//! its scores re-rank and extend the search engine's results.

pub mod blend;
pub mod features;
pub mod model;

pub use blend::{BlendConfig, Blended, blend};
pub use model::{Example, Model, ModelStats, TrainConfig};
