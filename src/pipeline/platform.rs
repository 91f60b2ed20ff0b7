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

/// Fargate's clock error bound in milliseconds (`ClockDrift.ClockErrorBound`, see
/// [`crate::source::metadata::model::ClockDrift`] for the AWS page it is documented on): only a
/// finite, non-negative JSON number. EC2 tasks have no `ClockDrift`; a string, a negative value
/// or a missing field leaves it out. Whatever `ClockSynchronizationStatus` says: the bound is the
/// agent's own figure either way, and the status goes beside it as a property
/// ([`clock_synchronization_status`]).
pub(crate) fn clock_error_bound(task: &TaskMetadata) -> Option<f64> {
    let ms = task.clock_drift.as_ref()?.clock_error_bound?;
    (ms.is_finite() && ms >= 0.0).then_some(ms)
}

/// `ClockDrift.ClockSynchronizationStatus` when it is one of the two documented values
/// (`SYNCHRONIZED`, `NOT_SYNCHRONIZED`; any case, published in upper case); anything else is
/// left out rather than passed on.
pub(crate) fn clock_synchronization_status(task: &TaskMetadata) -> Option<&'static str> {
    let status = task
        .clock_drift
        .as_ref()?
        .clock_synchronization_status
        .as_deref()?
        .trim();
    ["SYNCHRONIZED", "NOT_SYNCHRONIZED"]
        .into_iter()
        .find(|known| status.eq_ignore_ascii_case(known))
}

/// `ClockDrift.ReferenceTimestamp` when it is a real RFC 3339 time: when the agent last measured
/// the bound. Published as UTC RFC 3339 (`2023-06-20T01:18:13Z`).
pub(crate) fn clock_reference_timestamp(task: &TaskMetadata) -> Option<String> {
    let at = real_time(task.clock_drift.as_ref()?.reference_timestamp.as_deref())?;
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Whether the container has stopped (`KnownStatus` `STOPPED`, any case).
pub(crate) fn is_stopped(c: &ContainerMetadata) -> bool {
    c.known_status
        .as_deref()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("STOPPED"))
}

/// A stopped container's `ExitCode` when it is a whole number a runtime can report: Linux
/// gives 0 to 255 (128 + N when signal N ended the process: 137 is SIGKILL, which the OOM
/// killer and a stop timeout both send), Windows a 32-bit value. Anything else (a fraction,
/// a huge number) is left out, not rounded.
pub(crate) fn exit_code(c: &ContainerMetadata) -> Option<i64> {
    let code = c.exit_code?;
    let whole = code.is_finite() && code.fract() == 0.0;
    (whole && (-2_147_483_648.0..=4_294_967_295.0).contains(&code)).then_some(code as i64)
}

/// A stopped container's `FinishedAt`, normalized, when it is a real time.
pub(crate) fn finished_at(c: &ContainerMetadata) -> Option<String> {
    let at = real_time(c.finished_at.as_deref())?;
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::metadata::parse;

    fn task(clock_drift: &str) -> TaskMetadata {
        let body = format!(r#"{{"LaunchType":"FARGATE","ClockDrift":{clock_drift}}}"#);
        parse::task(body.as_bytes()).expect("the task parses whatever ClockDrift holds")
    }

    #[test]
    fn clock_error_bound_is_a_finite_non_negative_json_number_or_nothing() {
        let ok = task(
            r#"{"ClockErrorBound":0.4347665,"ReferenceTimestamp":"2023-06-20T01:18:13Z","ClockSynchronizationStatus":"SYNCHRONIZED"}"#,
        );
        assert_eq!(clock_error_bound(&ok), Some(0.4347665));
        assert_eq!(clock_synchronization_status(&ok), Some("SYNCHRONIZED"));
        assert_eq!(
            clock_reference_timestamp(&ok).as_deref(),
            Some("2023-06-20T01:18:13Z")
        );
        // An integer is a number too; 0 is a real bound.
        assert_eq!(
            clock_error_bound(&task(r#"{"ClockErrorBound":3}"#)),
            Some(3.0)
        );
        assert_eq!(
            clock_error_bound(&task(r#"{"ClockErrorBound":0}"#)),
            Some(0.0)
        );
        for bad in [
            r#"{"ClockErrorBound":"0.43"}"#,
            r#"{"ClockErrorBound":-0.5}"#,
            r#"{"ClockErrorBound":-1}"#,
            r#"{"ClockErrorBound":null}"#,
            r#"{"ClockErrorBound":true}"#,
            r#"{"ClockErrorBound":[1]}"#,
            r#"{"ClockErrorBound":{"ms":1}}"#,
            r#"{}"#,
            r#"null"#,
            r#""SYNCHRONIZED""#,
            r#"[0.4]"#,
        ] {
            let t = task(bad);
            assert_eq!(clock_error_bound(&t), None, "{bad}");
            assert_eq!(clock_synchronization_status(&t), None, "{bad}");
            assert_eq!(clock_reference_timestamp(&t), None, "{bad}");
        }
        // A number too large for f64 is not finite: serde_json refuses the whole body then, so
        // it is not a case here; EC2 has no ClockDrift at all.
        let ec2 = parse::task(br#"{"LaunchType":"EC2"}"#).expect("parses");
        assert_eq!(clock_error_bound(&ec2), None);
    }

    #[test]
    fn only_the_two_documented_statuses_and_real_times_are_kept() {
        let t = task(
            r#"{"ClockErrorBound":12.5,"ReferenceTimestamp":"2026-01-01T01:00:00+01:00","ClockSynchronizationStatus":"not_synchronized"}"#,
        );
        assert_eq!(clock_error_bound(&t), Some(12.5));
        assert_eq!(clock_synchronization_status(&t), Some("NOT_SYNCHRONIZED"));
        assert_eq!(
            clock_reference_timestamp(&t).as_deref(),
            Some("2026-01-01T00:00:00Z"),
            "written in UTC"
        );
        for (status, at) in [
            (r#""UNKNOWN""#, r#""yesterday""#),
            ("1", r#""0001-01-01T00:00:00Z""#),
            (r#""""#, "1700000000"),
        ] {
            let t = task(&format!(
                r#"{{"ClockErrorBound":0.3,"ReferenceTimestamp":{at},"ClockSynchronizationStatus":{status}}}"#
            ));
            assert_eq!(clock_error_bound(&t), Some(0.3), "the bound stands alone");
            assert_eq!(clock_synchronization_status(&t), None, "{status}");
            assert_eq!(clock_reference_timestamp(&t), None, "{at}");
        }
    }
}
