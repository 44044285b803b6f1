//! The domain: what a customer and its figures are, and the rules their values obey. Pure:
//! nothing here knows about gRPC or SQL, so every rule is tested without a server.

pub mod accuracy;
pub mod customer;
pub mod figures;
pub mod grading;
mod id;
pub mod invalid;
pub mod outcome;
pub mod override_report;
pub mod portfolio;
pub mod regrade;
pub mod scoring;
pub mod simulation;
pub mod stability;

pub use invalid::{InvalidValue, Refusal};
