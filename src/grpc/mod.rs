//! The gRPC layer: request validation, mapping between the contract and the domain, status
//! codes, and the tower layers every call passes through (access log, authentication).

pub mod access_log;
pub mod assessments;
pub mod auth;
mod convert;
pub mod customers;
pub mod figures;
mod model_definition;
pub mod models;
mod names;
pub mod operations;
pub mod outcomes;
mod override_report;
mod pagination;
pub mod portfolio;
mod regrade;
mod request_id;
mod simulation;
mod stability;
mod status;
