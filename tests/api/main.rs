//! The API suite: a real server on a real socket and database, driven through generated tonic
//! clients. Every scenario runs on SQLite, and on PostgreSQL when
//! `CUSTGRADE_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod assessments;
mod auth;
mod concurrency;
mod customers;
mod figures;
mod graded_book;
mod helpers;
mod models;
mod outcomes;
mod overrides;
mod portfolio;
mod python_client;
mod regrade;
mod replicas;
mod server;
mod simulation;
mod stability;
