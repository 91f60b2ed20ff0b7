//! ecs-emf-exporter: Amazon ECS Task Metadata Endpoint v4 → CloudWatch metrics.
//!
//! The program is one pipeline per interval:
//! `settings` → `metadata` (poll) → `metrics` (compute) → `dimensions` (label) →
//! `emf` (encode) → `output` (deliver). `runner` drives it; `simulator` stands in for the
//! endpoint in `demo`, `simulate` and the tests.

pub mod app;
pub mod aws;
pub mod catalog_report;
pub mod cli;
pub mod cycle;
pub mod demo;
pub mod dimensions;
pub mod emf;
pub mod glob;
pub mod health;
pub mod logging;
pub mod metadata;
pub mod metrics;
pub mod output;
pub mod plan;
pub mod runner;
pub mod settings;
pub mod simulator;
pub mod tags_api;
pub mod ticker;
