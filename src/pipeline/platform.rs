//! Platform quirks, one function each, with the fixture that shows it.
//!
//! Everything here is pure: it reads models and returns values or "not known" (`None`).

use chrono::{DateTime, Utc};

use crate::source::metadata::model::{
    ContainerMetadata, ContainerStats, CpuStats, MemoryStats, TaskMetadata,
};

/// Bytes per MiB. CloudWatch's unit is called "Megabytes"; the values are MiB, like
/// Container Insights and the task definition's `memory`.
pub(crate) const MIB: f64 = 1_048_576.0;

/// `memory_stats.limit` at or above this is "no limit" (Fargate reports 2^63−4096, cgroup v2
/// hosts u64::MAX; fixtures `fargate_task_stats.json`, `instance_tasks_stats.json`).
const UNLIMITED_MEMORY: u64 = 1 << 62;

/// Only the containers users defined count: `Type` NORMAL (or absent), never the CNI pause
/// container or other `~internal~` ones the agent lists on EC2 awsvpc tasks.
pub(crate) fn is_user_container(c: &ContainerMetadata) -> bool {
    let normal = c
        .kind
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case("NORMAL"));
    let internal = c
        .name
        .as_deref()
        .is_some_and(|n| n.starts_with("~internal~"));
    normal && !internal
}

/// RUNNING, or no status reported at all (nothing says it stopped).
pub(crate) fn is_running(c: &ContainerMetadata) -> bool {
    c.known_status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("RUNNING"))
}

/// awsvpc: all containers share the task ENI's network namespace (Fargate always).
pub(crate) fn is_awsvpc(task: &TaskMetadata) -> bool {
    let fargate = task
        .launch_type
        .as_deref()
        .is_some_and(|l| l.eq_ignore_ascii_case("FARGATE"));
    fargate
        || task.containers.iter().any(|c| {
            c.networks.iter().any(|n| {
                n.network_mode
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case("awsvpc"))
            })
        })
}

/// The container's CPU reservation in CPU units. 0 means none, and Fargate reports 2
/// (Docker's minimum share) when the task definition set none (`fargate_task_metadata.json`).
pub(crate) fn container_cpu_reservation(c: &ContainerMetadata) -> Option<f64> {
    let cpu = c.limits.as_ref()?.cpu?;
    (cpu > 0.0 && cpu != 2.0).then_some(cpu)
}

/// Task CPU reservation in CPU units: task `Limits.CPU` is in vCPU (Fargate, or EC2 with
/// task-level cpu); without it (`ec2_task_metadata.json`) the containers' reservations add up.
pub(crate) fn task_cpu_reserved<'a>(
    task: &TaskMetadata,
    containers: impl Iterator<Item = &'a ContainerMetadata>,
) -> Option<f64> {
    if let Some(vcpu) = task
        .limits
        .as_ref()
        .and_then(|l| l.cpu)
        .filter(|v| *v > 0.0)
    {
        return Some(vcpu * 1024.0);
    }
    let sum: f64 = containers.filter_map(container_cpu_reservation).sum();
    (sum > 0.0).then_some(sum)
}

/// Task memory reservation in MiB: task `Limits.Memory`, else the containers' limits.
pub(crate) fn task_memory_reserved<'a>(
    task: &TaskMetadata,
    containers: impl Iterator<Item = &'a ContainerMetadata>,
) -> Option<f64> {
    if let Some(mib) = task
        .limits
        .as_ref()
        .and_then(|l| l.memory)
        .filter(|v| *v > 0.0)
    {
        return Some(mib);
    }
    let sum: f64 = containers
        .filter_map(|c| c.limits.as_ref()?.memory)
        .filter(|m| *m > 0.0)
        .sum();
    (sum > 0.0).then_some(sum)
}

/// The container's memory reservation in MiB: `Limits.Memory`, else the cgroup limit when it
/// is a real one (EC2 with a hard limit reports it in `memory_stats.limit`).
pub(crate) fn container_memory_reserved(
    c: &ContainerMetadata,
    stats: Option<&ContainerStats>,
) -> Option<f64> {
    if let Some(mib) = c
        .limits
        .as_ref()
        .and_then(|l| l.memory)
        .filter(|m| *m > 0.0)
    {
        return Some(mib);
    }
    let limit = stats?.memory_stats.as_ref()?.limit?;
    (limit > 0 && limit < UNLIMITED_MEMORY).then(|| limit as f64 / MIB)
}

/// Working-set bytes, as the ECS agent reports it to Container Insights: cgroup v1
/// `usage − cache`, cgroup v2 `usage − inactive_file`, else `usage`; never below zero.
/// (`docker stats` subtracts `total_inactive_file` on v1 instead.)
pub(crate) fn working_set_bytes(mem: &MemoryStats) -> Option<u64> {
    let usage = mem.usage?;
    let detail = mem.stats.as_ref();
    let reclaimable = match (
        detail.and_then(|d| d.cache),
        detail.and_then(|d| d.inactive_file),
    ) {
        (Some(cache), _) => cache,
        (None, Some(inactive)) => inactive,
        (None, None) => 0,
    };
    Some(usage.saturating_sub(reclaimable))
}

/// Σ block I/O bytes for one op (`read`/`write`) over devices. cgroup v1 writes `Read`, v2
/// `read`; the other ops (`Sync`, `Total`, …) double-count and are skipped. `None` when the
/// list is not reported (`null`), `Some(0)` when it is reported empty.
pub(crate) fn blkio_bytes(stats: &ContainerStats, op: &str) -> Option<u128> {
    let entries = stats
        .blkio_stats
        .as_ref()?
        .io_service_bytes_recursive
        .as_ref()?;
    Some(
        entries
            .iter()
            .filter(|e| e.op.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(op)))
            .filter_map(|e| e.value)
            .map(u128::from)
            .sum(),
    )
}

/// An RFC 3339 time that is real: Docker writes `0001-01-01T00:00:00Z` for "never".
pub(crate) fn real_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(text?)
        .ok()?
        .with_timezone(&Utc);
    (t.timestamp() > 0).then_some(t)
}

pub(crate) fn total_cpu_ns(cpu: Option<&CpuStats>) -> Option<u64> {
    cpu?.cpu_usage.as_ref()?.total_usage
}

/// The embedded previous CPU sample (`precpu_stats` at `preread`) when it is real: Fargate
/// sends zeros and `0001-01-01` there, so its first cycle has no CPU rate.
pub(crate) fn embedded_previous_cpu(stats: &ContainerStats) -> Option<(u64, f64)> {
    let prev_total = total_cpu_ns(stats.precpu_stats.as_ref()).filter(|t| *t > 0)?;
    let read = real_time(stats.read.as_deref())?;
    let preread = real_time(stats.preread.as_deref())?;
    let dt = seconds_between(preread, read)?;
    Some((prev_total, dt))
}

/// Seconds from `earlier` to `later`, only when time moved forward.
pub(crate) fn seconds_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> Option<f64> {
    let ns = (later - earlier).num_nanoseconds()?;
    (ns > 0).then(|| ns as f64 / 1e9)
}

/// A counter's increase; `None` when either side is missing or it went down (the container
/// restarted or the counter was reset): such an interval has no value, never a negative or
/// wrapped one.
pub(crate) fn increase(current: Option<u128>, previous: Option<u128>) -> Option<u128> {
    let (c, p) = (current?, previous?);
    c.checked_sub(p)
}
