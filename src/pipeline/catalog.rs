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
    pub name: &'static str,
    pub unit: Unit,
    pub level: Level,
    pub description: &'static str,
}

macro_rules! metric {
    ($ident:ident, $level:ident, $unit:ident, $desc:expr) => {
        pub static $ident: MetricDef = MetricDef {
            name: stringify!($ident),
            unit: Unit::$unit,
            level: Level::$level,
            description: $desc,
        };
    };
}

// Task level.
metric!(
    CpuUtilized,
    Task,
    None,
    "CPU used by the task's counted containers, in CPU units (1024 = 1 vCPU)"
);
metric!(
    CpuReserved,
    Task,
    None,
    "CPU reserved for the task, in CPU units: task Limits.CPU x 1024, else the sum of container reservations"
);
metric!(
    CpuUtilization,
    Task,
    Percent,
    "CpuUtilized / CpuReserved x 100"
);
metric!(
    MemoryUtilized,
    Task,
    Megabytes,
    "Working-set memory of the counted containers, MiB"
);
metric!(
    MemoryReserved,
    Task,
    Megabytes,
    "Memory reserved for the task, MiB: task Limits.Memory, else the sum of container limits"
);
metric!(
    MemoryUtilization,
    Task,
    Percent,
    "MemoryUtilized / MemoryReserved x 100"
);
metric!(
    NetworkRxBytes,
    Task,
    BytesPerSecond,
    "Bytes received per second by the task"
);
metric!(
    NetworkTxBytes,
    Task,
    BytesPerSecond,
    "Bytes sent per second by the task"
);
metric!(
    NetworkRxPackets,
    Task,
    CountPerSecond,
    "Packets received per second by the task"
);
metric!(
    NetworkTxPackets,
    Task,
    CountPerSecond,
    "Packets sent per second by the task"
);
metric!(
    NetworkRxDropped,
    Task,
    Count,
    "Received packets dropped during the interval"
);
metric!(
    NetworkTxDropped,
    Task,
    Count,
    "Sent packets dropped during the interval"
);
metric!(
    NetworkRxErrors,
    Task,
    Count,
    "Receive errors during the interval"
);
metric!(
    NetworkTxErrors,
    Task,
    Count,
    "Transmit errors during the interval"
);
metric!(
    StorageReadBytes,
    Task,
    Bytes,
    "Bytes read from block devices during the interval"
);
metric!(
    StorageWriteBytes,
    Task,
    Bytes,
    "Bytes written to block devices during the interval"
);
metric!(
    EphemeralStorageUtilized,
    Task,
    Megabytes,
    "Fargate ephemeral storage in use, MiB"
);
metric!(
    EphemeralStorageReserved,
    Task,
    Megabytes,
    "Fargate ephemeral storage reserved, MiB"
);
metric!(
    RunningContainerCount,
    Task,
    Count,
    "Counted containers whose KnownStatus is RUNNING"
);
metric!(
    ImagePullTime,
    Task,
    Seconds,
    "PullStoppedAt - PullStartedAt, published once per task"
);

// Container level.
metric!(
    ContainerCpuUtilized,
    Container,
    None,
    "CPU used by the container, in CPU units"
);
metric!(
    ContainerCpuReserved,
    Container,
    None,
    "The container's CPU reservation (Limits.CPU), when one is set"
);
metric!(
    ContainerCpuUtilization,
    Container,
    Percent,
    "ContainerCpuUtilized / ContainerCpuReserved x 100"
);
metric!(
    ContainerMemoryUtilized,
    Container,
    Megabytes,
    "The container's working-set memory, MiB"
);
metric!(
    ContainerMemoryReserved,
    Container,
    Megabytes,
    "The container's memory limit, MiB (Limits.Memory, else a real cgroup limit)"
);
metric!(
    ContainerMemoryUtilization,
    Container,
    Percent,
    "ContainerMemoryUtilized / ContainerMemoryReserved x 100"
);
metric!(
    ContainerNetworkRxBytes,
    Container,
    BytesPerSecond,
    "Bytes received per second (not in awsvpc, where containers share the task ENI)"
);
metric!(
    ContainerNetworkTxBytes,
    Container,
    BytesPerSecond,
    "Bytes sent per second (not in awsvpc, where containers share the task ENI)"
);
metric!(
    ContainerStorageReadBytes,
    Container,
    Bytes,
    "Bytes read from block devices during the interval"
);
metric!(
    ContainerStorageWriteBytes,
    Container,
    Bytes,
    "Bytes written to block devices during the interval"
);
metric!(
    ContainerRestarts,
    Container,
    Count,
    "Restarts during the interval (RestartCount; needs a restart policy)"
);
metric!(
    ContainerPidCount,
    Container,
    Count,
    "Processes and threads in the container (pids_stats.current)"
);

// The exporter's own health.
metric!(
    ExporterErrors,
    Exporter,
    Count,
    "Problems during the interval (failed polls, unusable answers, rejected values)"
);
metric!(
    ExporterDroppedDatapoints,
    Exporter,
    Count,
    "Values that could not be delivered during the interval"
);
metric!(
    ExporterCycleDuration,
    Exporter,
    Milliseconds,
    "Wall-clock time of the last collection cycle"
);

/// Every metric, in publication order.
pub static CATALOG: [&MetricDef; 35] = [
    &CpuUtilized,
    &CpuReserved,
    &CpuUtilization,
    &MemoryUtilized,
    &MemoryReserved,
    &MemoryUtilization,
    &NetworkRxBytes,
    &NetworkTxBytes,
    &NetworkRxPackets,
    &NetworkTxPackets,
    &NetworkRxDropped,
    &NetworkTxDropped,
    &NetworkRxErrors,
    &NetworkTxErrors,
    &StorageReadBytes,
    &StorageWriteBytes,
    &EphemeralStorageUtilized,
    &EphemeralStorageReserved,
    &RunningContainerCount,
    &ImagePullTime,
    &ContainerCpuUtilized,
    &ContainerCpuReserved,
    &ContainerCpuUtilization,
    &ContainerMemoryUtilized,
    &ContainerMemoryReserved,
    &ContainerMemoryUtilization,
    &ContainerNetworkRxBytes,
    &ContainerNetworkTxBytes,
    &ContainerStorageReadBytes,
    &ContainerStorageWriteBytes,
    &ContainerRestarts,
    &ContainerPidCount,
    &ExporterErrors,
    &ExporterDroppedDatapoints,
    &ExporterCycleDuration,
];

pub fn find(name: &str) -> Option<&'static MetricDef> {
    CATALOG.iter().copied().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
