#![allow(non_upper_case_globals)] // statics are named exactly like the metrics they define
//! The metric catalog: every metric the exporter can publish, with its unit and meaning.
//! `ecs-emf-exporter metrics --json` prints this table; docs, dashboards and alarms are
//! checked against it. Names follow CloudWatch Container Insights where one exists.

use serde::Serialize;

/// CloudWatch units used by the catalog (a subset of the EMF unit list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    None,
    Percent,
    Megabytes,
    Bytes,
    #[serde(rename = "Bytes/Second")]
    BytesPerSecond,
    #[serde(rename = "Count/Second")]
    CountPerSecond,
    Count,
    Seconds,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::None => "None",
            Unit::Percent => "Percent",
            Unit::Megabytes => "Megabytes",
            Unit::Bytes => "Bytes",
            Unit::BytesPerSecond => "Bytes/Second",
            Unit::CountPerSecond => "Count/Second",
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Which document a metric belongs to (the `Type` property of the EMF document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    Task,
    Container,
    /// The exporter's own health (`ECS_EMF_SELF_METRICS=true`).
    Exporter,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Task => "Task",
            Level::Container => "Container",
            Level::Exporter => "Exporter",
        }
    }
}

#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct MetricDef {
    /// Its position in [`CATALOG`], for [`MetricSet`].
    #[serde(skip)]
    pub index: u8,
    pub name: &'static str,
    pub unit: Unit,
    pub level: Level,
    pub description: &'static str,
}

impl MetricDef {
    /// The `index` of a metric made outside the catalog (encoder tests): no [`MetricSet`]
    /// holds it.
    pub const NOT_IN_CATALOG: u8 = u8::MAX;
}

/// Defines every metric once: a `static` named like the metric (its definition), in this
/// order in [`CATALOG`], each knowing its position there.
macro_rules! catalog {
    ($($ident:ident: $level:ident, $unit:ident, $desc:expr;)*) => {
        /// The metrics' positions in the catalog, in declaration order.
        #[repr(u8)]
        enum Position {
            $($ident,)*
        }
        $(
            pub static $ident: MetricDef = MetricDef {
                index: Position::$ident as u8,
                name: stringify!($ident),
                unit: Unit::$unit,
                level: Level::$level,
                description: $desc,
            };
        )*
        /// Every metric, in publication order.
        pub static CATALOG: &[&MetricDef] = &[$(&$ident,)*];
    };
}

catalog! {
    // Task level.
    CpuUtilized: Task, None, "CPU used by the task's counted containers, in CPU units (1024 = 1 vCPU)";
    CpuReserved: Task, None, "CPU reserved for the task, in CPU units: task Limits.CPU x 1024, else the sum of container reservations";
    CpuUtilization: Task, Percent, "CpuUtilized / CpuReserved x 100";
    MemoryUtilized: Task, Megabytes, "Working-set memory of the counted containers, MiB";
    MemoryReserved: Task, Megabytes, "Memory reserved for the task, MiB: task Limits.Memory, else the sum of container limits";
    MemoryUtilization: Task, Percent, "MemoryUtilized / MemoryReserved x 100";
    NetworkRxBytes: Task, BytesPerSecond, "Bytes received per second by the task";
    NetworkTxBytes: Task, BytesPerSecond, "Bytes sent per second by the task";
    NetworkRxPackets: Task, CountPerSecond, "Packets received per second by the task";
    NetworkTxPackets: Task, CountPerSecond, "Packets sent per second by the task";
    NetworkRxDropped: Task, Count, "Received packets dropped during the interval";
    NetworkTxDropped: Task, Count, "Sent packets dropped during the interval";
    NetworkRxErrors: Task, Count, "Receive errors during the interval";
    NetworkTxErrors: Task, Count, "Transmit errors during the interval";
    StorageReadBytes: Task, Bytes, "Bytes read from block devices during the interval";
    StorageWriteBytes: Task, Bytes, "Bytes written to block devices during the interval";
    EphemeralStorageUtilized: Task, Megabytes, "Fargate ephemeral storage in use, MiB";
    EphemeralStorageReserved: Task, Megabytes, "Fargate ephemeral storage reserved, MiB";
    RunningContainerCount: Task, Count, "Counted containers whose KnownStatus is RUNNING";
    ImagePullTime: Task, Seconds, "PullStoppedAt - PullStartedAt, published once per task";
    ClockErrorBound: Task, Milliseconds, "Fargate's bound on the task clock's error against UTC (ClockDrift.ClockErrorBound); absent elsewhere";
    CpuThrottledTime: Task, Milliseconds, "Daemon mode: time the task cgroup's threads were held back by its CPU quota during the interval (cpu.stat throttled time); absent in the sidecar and without a task quota";
    CpuThrottledPercent: Task, Percent, "Daemon mode: share of the interval's CFS periods in which the task cgroup was throttled (nr_throttled / nr_periods x 100)";
    // Container level.
    ContainerCpuUtilized: Container, None, "CPU used by the container, in CPU units";
    ContainerCpuReserved: Container, None, "The container's CPU reservation (Limits.CPU), when one is set";
    ContainerCpuUtilization: Container, Percent, "ContainerCpuUtilized / ContainerCpuReserved x 100";
    ContainerMemoryUtilized: Container, Megabytes, "The container's working-set memory, MiB";
    ContainerMemoryReserved: Container, Megabytes, "The container's memory limit, MiB (Limits.Memory, else a real cgroup limit)";
    ContainerMemoryUtilization: Container, Percent, "ContainerMemoryUtilized / ContainerMemoryReserved x 100";
    ContainerNetworkRxBytes: Container, BytesPerSecond, "Bytes received per second (not in awsvpc, where containers share the task ENI)";
    ContainerNetworkTxBytes: Container, BytesPerSecond, "Bytes sent per second (not in awsvpc, where containers share the task ENI)";
    ContainerStorageReadBytes: Container, Bytes, "Bytes read from block devices during the interval";
    ContainerStorageWriteBytes: Container, Bytes, "Bytes written to block devices during the interval";
    ContainerRestarts: Container, Count, "Restarts during the interval (RestartCount; needs a restart policy)";
    ContainerPidCount: Container, Count, "Processes and threads in the container (pids_stats.current)";
    ContainerExits: Container, Count, "Exits seen during the interval: a container found STOPPED (once per DockerId) plus the restarts its RestartCount shows; published only when at least 1";
    ContainerCpuThrottledTime: Container, Milliseconds, "Daemon mode: time the container was held back by its CPU quota during the interval (Docker's throttling_data); absent in the sidecar and without a container quota";
    ContainerCpuThrottledPercent: Container, Percent, "Daemon mode: share of the interval's CFS periods in which the container was throttled";
    ExporterErrors: Exporter, Count, "Problems during the interval (failed polls, unusable answers, rejected values)";
    ExporterDroppedDatapoints: Exporter, Count, "Values that could not be delivered during the interval";
    ExporterCycleDuration: Exporter, Milliseconds, "Wall-clock time of the last collection cycle";
}

/// The metrics every collected cycle publishes whatever the task (when the settings publish
/// them): `RunningContainerCount` comes from `/task` alone (no stats, no rate, no first-cycle
/// gap), the exporter's own metrics from the exporter. Their absence means the exporter did not
/// publish, so an alarm may read missing data on them as breaching (infra/README.md, "Missing
/// data"); on any other metric missing data can be a quiet task.
pub(crate) const EVERY_CYCLE: [&MetricDef; 4] = [
    &RunningContainerCount,
    &ExporterErrors,
    &ExporterDroppedDatapoints,
    &ExporterCycleDuration,
];

/// What only the daemon publishes (docs/daemon.md, "CPU throttling"): the CFS counters of the
/// task cgroup and of Docker's `throttling_data`. The Task Metadata Endpoint serves zeros
/// there (docs/metrics.md, "CPU throttling", cites the agent issues), so the sidecar never
/// reads them.
pub(crate) const DAEMON_ONLY: [&MetricDef; 4] = [
    &CpuThrottledTime,
    &CpuThrottledPercent,
    &ContainerCpuThrottledTime,
    &ContainerCpuThrottledPercent,
];

/// What the daemon never publishes (docs/daemon.md, "What daemon mode cannot know"): neither
/// the agent's introspection API nor Docker has ephemeral storage or the clock bound (Fargate
/// only), the image pull times, or the agent's restart count; and the daemon refuses the
/// exporter's own metrics (`ECS_EMF_SELF_METRICS`).
pub(crate) const SIDECAR_ONLY: [&MetricDef; 8] = [
    &EphemeralStorageUtilized,
    &EphemeralStorageReserved,
    &ImagePullTime,
    &ClockErrorBound,
    &ContainerRestarts,
    &ExporterErrors,
    &ExporterDroppedDatapoints,
    &ExporterCycleDuration,
];

/// Whether CloudWatch accepts `value` for a metric: 0, or a magnitude from 8.515920e-109 to
/// 1.174271e+108 (PutMetricData's documented range; the same holds for EMF). Anything else
/// costs a whole PutMetricData request or the whole EMF document.
pub fn cloudwatch_accepts(value: f64) -> bool {
    const SMALLEST: f64 = 8.515920e-109;
    const LARGEST: f64 = 1.174271e+108;
    value == 0.0 || (SMALLEST..=LARGEST).contains(&value.abs())
}

/// A set of catalog metrics (a bit per position): which ones the settings publish, which
/// ones the computation needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MetricSet(u64);

// Every metric has a bit.
const _: () = assert!(CATALOG.len() <= 64);

impl MetricSet {
    pub(crate) fn of<'a>(metrics: impl IntoIterator<Item = &'a MetricDef>) -> MetricSet {
        let mut set = MetricSet::default();
        for m in metrics {
            set.insert(m);
        }
        set
    }

    /// The metric's bit (none for a metric outside the catalog).
    fn bit(metric: &MetricDef) -> u64 {
        1u64.checked_shl(u32::from(metric.index)).unwrap_or(0)
    }

    pub(crate) fn insert(&mut self, metric: &MetricDef) {
        self.0 |= MetricSet::bit(metric);
    }

    pub(crate) fn contains(self, metric: &MetricDef) -> bool {
        self.0 & MetricSet::bit(metric) != 0
    }
}

pub(crate) fn find(name: &str) -> Option<&'static MetricDef> {
    CATALOG.iter().copied().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metric_knows_its_position() {
        for (i, m) in CATALOG.iter().enumerate() {
            assert_eq!(usize::from(m.index), i, "{}", m.name);
        }
        let set = MetricSet::of([&CpuUtilized, &ContainerPidCount]);
        assert!(set.contains(&CpuUtilized) && set.contains(&ContainerPidCount));
        assert!(!set.contains(&CpuReserved) && !set.contains(&ExporterErrors));
    }

    #[test]
    fn values_outside_cloudwatchs_range_are_refused() {
        for ok in [0.0, -0.0, 1.0, 8.6e-109, 1.17e108, -5.0] {
            assert!(cloudwatch_accepts(ok), "{ok}");
        }
        for refused in [1e308, 1.2e108, 8e-109, 5e-324, f64::NAN, f64::INFINITY] {
            assert!(!cloudwatch_accepts(refused), "{refused}");
        }
    }

    #[test]
    fn names_are_unique_and_valid_for_cloudwatch() {
        let mut names: Vec<_> = CATALOG.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len());
        assert!(
            CATALOG
                .iter()
                .all(|m| m.name.is_ascii() && m.name.len() <= 255)
        );
    }

    #[test]
    fn units_serialize_with_cloudwatch_spelling() {
        let json = serde_json::to_string(&NetworkRxBytes).expect("serializes");
        assert!(json.contains(r#""unit":"Bytes/Second""#), "{json}");
        assert_eq!(Unit::CountPerSecond.as_str(), "Count/Second");
    }
}
