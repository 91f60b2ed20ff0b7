//! Serde models of the Task Metadata Endpoint v4 responses.
//!
//! Only the fields the exporter uses are modelled; everything else is ignored. Every field
//! is optional because real responses omit them freely (see `tests/fixtures/*/SOURCE.md`):
//! Fargate has no `ServiceName` in older agents, EC2 has no task `Limits`, cgroup v2 stats
//! have no `cache`, stopped containers have `null` or `{}` stats.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::lenient::{
    f64_opt, map_lenient, number_opt, object_opt, opt_vec_lenient, string_opt, u64_opt, vec_lenient,
};

/// `GET ${ECS_CONTAINER_METADATA_URI_V4}/task` (and `/taskWithTags`, which adds the tag maps).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskMetadata {
    #[serde(default, deserialize_with = "string_opt")]
    pub cluster: Option<String>,
    #[serde(default, rename = "TaskARN", deserialize_with = "string_opt")]
    pub task_arn: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub family: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub revision: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub service_name: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub launch_type: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub availability_zone: Option<String>,
    #[serde(default, deserialize_with = "object_opt")]
    pub limits: Option<Limits>,
    #[serde(default, deserialize_with = "string_opt")]
    pub pull_started_at: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub pull_stopped_at: Option<String>,
    #[serde(default, deserialize_with = "vec_lenient")]
    pub containers: Vec<ContainerMetadata>,
    #[serde(default, deserialize_with = "object_opt")]
    pub ephemeral_storage_metrics: Option<EphemeralStorage>,
    /// Fargate only (platform 1.4+): the task's clock error bound and its synchronization.
    #[serde(default, deserialize_with = "object_opt")]
    pub clock_drift: Option<ClockDrift>,
}

/// Where a task's throttling counters are real (daemon mode): its containers' Docker stats
/// (`cpu_stats.throttling_data`, from each container's cgroup) and, when the task has a
/// cgroup of its own, that cgroup's `cpu.stat`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Throttling {
    /// The task cgroup's counters; `None` when it has none or it could not be read.
    pub(crate) task: Option<crate::source::cgroup::CpuStat>,
}

/// Task or container limits. Task CPU is in vCPU (`0.25`), container CPU in CPU units (`128`);
/// memory is in MiB in both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Limits {
    #[serde(default, rename = "CPU", deserialize_with = "f64_opt")]
    pub(crate) cpu: Option<f64>,
    #[serde(default, deserialize_with = "f64_opt")]
    pub(crate) memory: Option<f64>,
}

/// Fargate only (platform 1.4+): the task's ephemeral storage, in MiB.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) utilized: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) reserved: Option<u64>,
}

/// `ClockDrift`, Fargate only. "Amazon ECS task metadata v4 JSON response for tasks on
/// Fargate"
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate-response.html>):
/// `ClockErrorBound` is "the measure of clock error, defined as the offset to UTC ... the
/// difference in milliseconds between the reference time and the system time";
/// `ClockSynchronizationStatus` says whether "the most recent synchronization attempt between
/// the system time and the reference time was successful" (`SYNCHRONIZED` or
/// `NOT_SYNCHRONIZED`). The page calls the time `ReferenceTime`; the agent's JSON key is
/// `ReferenceTimestamp` (ecs-agent `tmds/handlers/v4/state`, and both Fargate captures in
/// `tests/fixtures/`). The agent writes all three with `omitempty`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClockDrift {
    /// Milliseconds. Only a JSON number: see [`number_opt`].
    #[serde(default, deserialize_with = "number_opt")]
    pub(crate) clock_error_bound: Option<f64>,
    /// RFC 3339.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) reference_timestamp: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) clock_synchronization_status: Option<String>,
}

/// One entry of `Containers[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerMetadata {
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) docker_id: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) image: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) known_status: Option<String>,
    #[serde(default, rename = "Type", deserialize_with = "string_opt")]
    pub(crate) kind: Option<String>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) limits: Option<Limits>,
    /// Present only when the task definition sets a restart policy (agent 1.70+).
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) restart_count: Option<u64>,
    /// The exit code of a stopped container (the agent's `GetKnownExitCode`, written with
    /// `omitempty`): only a JSON number, like [`ClockDrift::clock_error_bound`]; whether it
    /// is a usable code is decided in `pipeline::platform::exit_code`.
    #[serde(default, deserialize_with = "number_opt")]
    pub(crate) exit_code: Option<f64>,
    /// RFC 3339; Docker writes `0001-01-01T00:00:00Z` for "not finished".
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) finished_at: Option<String>,
    /// Whether the kernel's OOM killer ended the container: daemon mode only, from Docker
    /// inspect's `State.OOMKilled` (Task Metadata v4 has no such field: docs/metrics.md,
    /// "Container exits").
    #[serde(skip)]
    pub(crate) oom_killed: Option<bool>,
    #[serde(default, deserialize_with = "vec_lenient")]
    pub(crate) networks: Vec<ContainerNetwork>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ContainerNetwork {
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) network_mode: Option<String>,
}

/// The tag maps `/taskWithTags` adds. `Errors` is non-empty when the agent could not read
/// them (for example `AccessDeniedException` when the instance role may not call
/// `ecs:ListTagsForResource`); the rest of the response is still valid then.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskTagsResponse {
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) task_tags: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) container_instance_tags: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "vec_lenient")]
    pub(crate) errors: Vec<serde_json::Value>,
}

/// One container's entry in `/task/stats` (Docker's stats format).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContainerStats {
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) read: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) preread: Option<String>,
    #[serde(default, deserialize_with = "object_opt")]
    pub cpu_stats: Option<CpuStats>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) precpu_stats: Option<CpuStats>,
    #[serde(default, deserialize_with = "object_opt")]
    pub memory_stats: Option<MemoryStats>,
    /// Interface name → counters. `BTreeMap` so sums run in a stable order.
    #[serde(default, deserialize_with = "map_lenient")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
    #[serde(default, deserialize_with = "object_opt")]
    pub blkio_stats: Option<BlkioStats>,
    #[serde(default, deserialize_with = "object_opt")]
    pub pids_stats: Option<PidsStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CpuStats {
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) cpu_usage: Option<CpuUsage>,
    /// The container cgroup's CFS bandwidth counters. Real in Docker's own stats (daemon
    /// mode); zeros from the ECS agent (aws/amazon-ecs-agent#4473), so read only where
    /// the snapshot's `throttling` says they are real.
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) throttling_data: Option<ThrottlingData>,
}

/// Docker's `ThrottlingData` (cgroup `cpu.stat`: v1 `nr_periods`, `nr_throttled`,
/// `throttled_time` ns; v2 the same from `throttled_usec` × 1000).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ThrottlingData {
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) periods: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) throttled_periods: Option<u64>,
    /// Nanoseconds.
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) throttled_time: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct CpuUsage {
    /// Cumulative CPU time in nanoseconds.
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) total_usage: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemoryStats {
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) usage: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) limit: Option<u64>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) stats: Option<MemoryStatDetail>,
}

/// The cgroup memory.stat keys that decide the working set.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct MemoryStatDetail {
    /// cgroup v1 only.
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) cache: Option<u64>,
    /// cgroup v1 and v2 (v1 also has `total_inactive_file`).
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) inactive_file: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkStats {
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) rx_bytes: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) rx_packets: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) rx_errors: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) rx_dropped: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) tx_bytes: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) tx_packets: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) tx_errors: Option<u64>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) tx_dropped: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BlkioStats {
    /// `None` when not reported; entries with an unexpected shape are skipped.
    #[serde(default, deserialize_with = "opt_vec_lenient")]
    pub(crate) io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct BlkioEntry {
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) op: Option<String>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) value: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PidsStats {
    #[serde(default, deserialize_with = "u64_opt")]
    pub current: Option<u64>,
}
