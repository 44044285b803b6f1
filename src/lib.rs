//! custgrade: a gRPC service that grades a company's business customers.
//!
//! Three layers kept apart: [`grpc`] (validation, mapping to and from the contract, status
//! codes), [`domain`] (pure rules, no I/O) and [`storage`] (sea-orm on SQLite or PostgreSQL).

pub mod config;
pub mod domain;
pub mod grpc;
pub mod model_file;
pub mod proto;
pub mod regrade;
pub mod startup;
pub mod storage;
pub mod telemetry;
