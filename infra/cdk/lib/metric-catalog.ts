// What the exporter publishes: metric names and units, as `ecs-emf-exporter metrics --json`
// lists them (src/pipeline/catalog.rs; infra/tests/check_catalogs.py fails the build when
// they part). Alarms take their unit from here,
// because an alarm whose unit differs from the published one never sees a datapoint.
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";

export type MetricLevel = "task" | "container" | "exporter";

export interface CatalogMetric {
  readonly name: string;
  readonly unit: cloudwatch.Unit;
  readonly level: MetricLevel;
}

const U = cloudwatch.Unit;

export const METRIC_CATALOG: readonly CatalogMetric[] = [
  { name: "CpuUtilized", unit: U.NONE, level: "task" },
  { name: "CpuReserved", unit: U.NONE, level: "task" },
  { name: "CpuUtilization", unit: U.PERCENT, level: "task" },
  { name: "MemoryUtilized", unit: U.MEGABYTES, level: "task" },
  { name: "MemoryReserved", unit: U.MEGABYTES, level: "task" },
  { name: "MemoryUtilization", unit: U.PERCENT, level: "task" },
  { name: "NetworkRxBytes", unit: U.BYTES_PER_SECOND, level: "task" },
  { name: "NetworkTxBytes", unit: U.BYTES_PER_SECOND, level: "task" },
  { name: "NetworkRxPackets", unit: U.COUNT_PER_SECOND, level: "task" },
  { name: "NetworkTxPackets", unit: U.COUNT_PER_SECOND, level: "task" },
  { name: "NetworkRxDropped", unit: U.COUNT, level: "task" },
  { name: "NetworkTxDropped", unit: U.COUNT, level: "task" },
  { name: "NetworkRxErrors", unit: U.COUNT, level: "task" },
  { name: "NetworkTxErrors", unit: U.COUNT, level: "task" },
  { name: "StorageReadBytes", unit: U.BYTES, level: "task" },
  { name: "StorageWriteBytes", unit: U.BYTES, level: "task" },
  { name: "EphemeralStorageUtilized", unit: U.MEGABYTES, level: "task" },
  { name: "EphemeralStorageReserved", unit: U.MEGABYTES, level: "task" },
  { name: "RunningContainerCount", unit: U.COUNT, level: "task" },
  { name: "ImagePullTime", unit: U.SECONDS, level: "task" },
  { name: "ClockErrorBound", unit: U.MILLISECONDS, level: "task" },
  // Daemon mode only (real cgroup counters); the sidecar publishes no throttling.
  { name: "CpuThrottledTime", unit: U.MILLISECONDS, level: "task" },
  { name: "CpuThrottledPercent", unit: U.PERCENT, level: "task" },
  { name: "ContainerCpuUtilized", unit: U.NONE, level: "container" },
  { name: "ContainerCpuReserved", unit: U.NONE, level: "container" },
  { name: "ContainerCpuUtilization", unit: U.PERCENT, level: "container" },
  { name: "ContainerMemoryUtilized", unit: U.MEGABYTES, level: "container" },
  { name: "ContainerMemoryReserved", unit: U.MEGABYTES, level: "container" },
  { name: "ContainerMemoryUtilization", unit: U.PERCENT, level: "container" },
  { name: "ContainerNetworkRxBytes", unit: U.BYTES_PER_SECOND, level: "container" },
  { name: "ContainerNetworkTxBytes", unit: U.BYTES_PER_SECOND, level: "container" },
  { name: "ContainerStorageReadBytes", unit: U.BYTES, level: "container" },
  { name: "ContainerStorageWriteBytes", unit: U.BYTES, level: "container" },
  { name: "ContainerRestarts", unit: U.COUNT, level: "container" },
  { name: "ContainerPidCount", unit: U.COUNT, level: "container" },
  // An event metric: published only when a container exited (a STOPPED container, restarts).
  { name: "ContainerExits", unit: U.COUNT, level: "container" },
  { name: "ContainerCpuThrottledTime", unit: U.MILLISECONDS, level: "container" },
  { name: "ContainerCpuThrottledPercent", unit: U.PERCENT, level: "container" },
  { name: "ExporterErrors", unit: U.COUNT, level: "exporter" },
  { name: "ExporterDroppedDatapoints", unit: U.COUNT, level: "exporter" },
  { name: "ExporterCycleDuration", unit: U.MILLISECONDS, level: "exporter" },
];

export function catalogMetric(name: string): CatalogMetric {
  const found = METRIC_CATALOG.find((metric) => metric.name === name);
  if (found === undefined) {
    // A typo in this package, not a user error: the dashboard and alarms name metrics literally.
    throw new Error(`ecs-emf-exporter: internal error: ${name} is not in the metric catalog`);
  }
  return found;
}
