//! Learning from traffic: clicks, votes and tickets become weighted examples of which label
//! (article, ticket type) answers which wording; a robust sparse classifier learns them, and
//! its scores re-rank and extend the search engine's results.

pub mod blend;
pub mod features;
pub mod live;
pub mod model;
pub mod phrasings;
pub mod rerank;
pub mod signals;

pub use blend::{BlendConfig, Blended, blend};
pub use live::{Learned, LearnedStats, LearningConfig, LiveLearning};
pub use model::{Example, Model, ModelStats, TrainConfig};
pub use rerank::{Reranked, learned_text, rerank, rerank_scored};
