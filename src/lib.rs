//! ecs-emf-exporter: Amazon ECS Task Metadata Endpoint v4 → CloudWatch metrics.
//!
//! One pipeline per interval, one folder per stage:
//! `settings` (validated once) → `source` (read the task: the metadata endpoint, tags) →
//! `pipeline` (compute, label: a cycle of values with dimensions) → `emf` (encode) →
//! `output` (deliver: stdout, agent, cloudwatch). `run` is the async shell that drives it
//! once per interval; `cli` holds the commands. The endpoint simulator the demo and the
//! tests use is its own crate, `tmde-simulator`.

mod aws;
pub mod cli;
pub mod emf;
pub mod output;
pub mod pipeline;
pub mod run;
pub mod settings;
pub mod source;
