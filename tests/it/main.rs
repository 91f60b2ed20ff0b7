//! The integration tests: one crate, so the exporter and the AWS SDK are linked once.
//!
//! Fixture formulas and golden EMF files, the encoder's limits and properties, settings, the
//! fuzz regressions, the `plan` and `metrics` commands, and the real binary end to end
//! against the simulator (signals, faults, security), the agent output against real sockets,
//! the cloudwatch output against moto (`support::moto`; skipped, and said so, where moto is
//! not installed), and the image and daemon mode through a real dockerd
//! (`scripts/e2e-docker.sh`).

mod support;
// The fuzz targets' harness (fuzz/harness.rs) names the EMF validator `crate::emf_rules`.
use support::emf_rules;
#[path = "../../fuzz/harness.rs"]
mod harness;

mod agent_output;
mod catalog;
mod cloudwatch_output;
mod daemon;
mod docker_awslogs;
mod encoder;
mod encoder_props;
mod end_to_end;
mod exits;
mod faults;
mod formulas;
mod fuzz_regressions;
mod golden;
mod hostile;
mod image;
mod introspection;
mod moto_harness;
mod plan;
mod run_loop;
mod security;
mod settings;
mod tags_api;
