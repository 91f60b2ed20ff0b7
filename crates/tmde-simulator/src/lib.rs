//! A simulated ECS Task Metadata Endpoint v4, for `demo`, `simulate` and the tests.
//!
//! It answers like the ECS agent (EC2) or Fargate: `<base>/task`, `<base>/taskWithTags`,
//! `<base>/task/stats` and `<base>` itself, with deterministic numbers (see [`scenario`]),
//! injected faults ([`faults`]), container restarts and exits, or captured files served
//! verbatim ([`replay`]). On EC2 it also answers the agent's introspection API
//! (`/v1/metadata`, `/v1/tasks`) on the same listener; `/v1/tasks` may instead list the tasks
//! of a file a test keeps up to date with real containers (`simulate --agent-tasks`, for the
//! exporter's daemon mode). It only ever binds 127.0.0.1.

pub mod args;
pub mod faults;
mod handler;
pub mod replay;
pub mod scenario;
pub mod server;

mod identity;
mod introspection;
mod routes;
mod stats;
mod task;
#[cfg(test)]
mod test_support;

pub use args::{SimulateArgs, run_simulate};
pub use faults::{ExitEvent, Fault, FaultKind, FaultPath, RequestRange, RestartEvent};
pub use handler::{Reply, Simulator};
pub use scenario::{Cgroup, ClockDriftMode, NetworkMode, Platform, Scenario};
pub use server::{SimOptions, SimServer, start};
