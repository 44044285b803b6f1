//! Scoring: turning a customer's figures into a score, a grade and a credit recommendation
//! with a rationale for every step. A model is data ([`model::ScoringModel`]); the engine
//! ([`engine::assess`], and [`engine::score`] for the score and grade alone) is a pure function
//! of a model and a snapshot, so any past grade can be reproduced and every rule is tested
//! without a server.

pub mod assessment;
mod decimal;
pub mod document;
pub mod engine;
pub mod explain;
pub mod input;
pub mod knockout;
pub mod mapping;
mod measure;
pub mod model;
mod number;
pub mod policy;
pub mod rationale;
mod tally;
pub mod validate;

#[cfg(test)]
mod defaults_tests;
#[cfg(test)]
mod engine_tests;
#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod properties;

pub use assessment::Assessment;
pub use document::{DocumentError, default_models};
pub use engine::{Score, assess, assess_without_sentences, score};
pub use explain::explain;
pub use model::ScoringModel;
pub use rationale::Locale;
pub use validate::{ModelProblem, validate};
