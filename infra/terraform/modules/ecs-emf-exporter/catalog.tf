# Facts about the exporter binary that validations and outputs need. Keep in step with
# `ecs-emf-exporter metrics --json` (src/pipeline/catalog.rs) and infra/README.md:
# infra/tests/check_catalogs.py fails the build when metric_names parts from it, and the drift
# check (infra/tests/check_metric_drift.py) compares what the module renders with it.
locals {
  # Built-in dimensions a set may name. ContainerName only makes sense on container metrics.
  task_dimension_names      = ["ClusterName", "ServiceName", "TaskDefinitionFamily", "TaskDefinitionRevision", "TaskId", "LaunchType", "AvailabilityZone"]
  container_dimension_names = concat(local.task_dimension_names, ["ContainerName"])

  # Root members of EMF documents (src/pipeline/dimensions.rs PROPERTY_NAMES); a tag or static
  # dimension of that name would clash. ExitCode, FinishedAt and OOMKilled: ContainerExits documents
  # only (OOMKilled in daemon mode, from Docker).
  # ContainerInstanceArn, AgentVersion (properties) and ContainerInstanceId (a built-in dimension
  # the binary allows only with ECS_EMF_INTROSPECTION_URI, which this module does not set, so it
  # is not in the lists above): from the ECS agent introspection API.
  emf_property_names = ["Type", "ClusterName", "ServiceName", "TaskARN", "TaskId", "TaskDefinitionFamily", "TaskDefinitionRevision", "LaunchType", "AvailabilityZone", "ContainerName", "Image", "DockerId", "KnownStatus", "ClockSynchronizationStatus", "ClockReferenceTimestamp", "ContainerInstanceArn", "AgentVersion", "ContainerInstanceId", "ExitCode", "FinishedAt", "OOMKilled", "_aws"]

  metric_names = [
    "CpuUtilized", "CpuReserved", "CpuUtilization", "MemoryUtilized", "MemoryReserved", "MemoryUtilization",
    "NetworkRxBytes", "NetworkTxBytes", "NetworkRxPackets", "NetworkTxPackets", "NetworkRxDropped", "NetworkTxDropped",
    "NetworkRxErrors", "NetworkTxErrors", "StorageReadBytes", "StorageWriteBytes", "EphemeralStorageUtilized",
    "EphemeralStorageReserved", "RunningContainerCount", "ImagePullTime", "ClockErrorBound",
    "CpuThrottledTime", "CpuThrottledPercent",
    "ContainerCpuUtilized", "ContainerCpuReserved", "ContainerCpuUtilization", "ContainerMemoryUtilized",
    "ContainerMemoryReserved", "ContainerMemoryUtilization", "ContainerNetworkRxBytes", "ContainerNetworkTxBytes",
    "ContainerStorageReadBytes", "ContainerStorageWriteBytes", "ContainerRestarts", "ContainerPidCount", "ContainerExits",
    "ContainerCpuThrottledTime", "ContainerCpuThrottledPercent",
    "ExporterErrors", "ExporterDroppedDatapoints", "ExporterCycleDuration",
  ]

  # Names a tag key or static dimension name must not take (the binary rejects them).
  reserved_extra_names = distinct(concat(local.emf_property_names, local.metric_names))

  # Every variable the module renders from a dedicated input; extra_environment must not set them,
  # or the rendered IAM policy and dashboard would describe a different exporter.
  managed_environment_names = [
    "ECS_EMF_OUTPUT", "ECS_EMF_NAMESPACE", "AWS_EMF_NAMESPACE", "ECS_EMF_INTERVAL", "ECS_EMF_HIGH_RESOLUTION",
    "ECS_EMF_DIMENSIONS", "ECS_EMF_CONTAINER_DIMENSIONS", "ECS_EMF_TAG_DIMENSIONS", "ECS_EMF_STATIC_DIMENSIONS",
    "ECS_EMF_METRICS", "ECS_EMF_EXCLUDE_METRICS", "ECS_EMF_CONTAINER_METRICS", "ECS_EMF_EXCLUDE_CONTAINERS",
    "ECS_EMF_TAGS_REFRESH", "ECS_EMF_TAGS_FROM_API", "AWS_EMF_AGENT_ENDPOINT", "AWS_EMF_LOG_GROUP_NAME",
    "AWS_EMF_LOG_STREAM_NAME", "ECS_EMF_MAX_LINE_BYTES", "ECS_EMF_LOG_FORMAT", "ECS_EMF_LOG_LEVEL",
    "ECS_EMF_SELF_METRICS",
  ]

  # Milliseconds per duration unit, for the "60s" / "5m" / "1h" / "1500ms" forms the binary parses.
  duration_unit_ms = { "" = 1000, ms = 1, s = 1000, m = 60000, h = 3600000 }
  duration_pattern = "^([0-9]+)(ms|s|m|h|)$"
}
