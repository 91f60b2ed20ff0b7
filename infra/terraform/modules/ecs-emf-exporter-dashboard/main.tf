# One CloudWatch dashboard with the contract's widget set. Every metric line is the full array
# [namespace, metric, dim1, val1, ..., {stat, label}] (no "..." shorthand), so each line can be
# checked against what the exporter publishes.

locals {
  # [metric, statistic, label] per line.
  task_widget_specs = [
    { title = "Task CPU (CPU units)", threshold = null, lines = [["CpuUtilized", "Average", "CPU used"], ["CpuReserved", "Average", "CPU reserved"]] },
    { title = "Task CPU utilization (%)", threshold = var.cpu_threshold, lines = [["CpuUtilization", "Average", "Average"], ["CpuUtilization", "Maximum", "Maximum"]] },
    { title = "Task memory (MiB)", threshold = null, lines = [["MemoryUtilized", "Average", "Memory used"], ["MemoryReserved", "Average", "Memory reserved"]] },
    { title = "Task memory utilization (%)", threshold = var.memory_threshold, lines = [["MemoryUtilization", "Average", "Average"], ["MemoryUtilization", "Maximum", "Maximum"]] },
    { title = "Task network (bytes/s)", threshold = null, lines = [["NetworkRxBytes", "Average", "Received"], ["NetworkTxBytes", "Average", "Sent"]] },
    { title = "Task storage I/O (bytes per interval)", threshold = null, lines = [["StorageReadBytes", "Sum", "Read"], ["StorageWriteBytes", "Sum", "Written"]] },
    { title = "Ephemeral storage (MiB)", threshold = null, lines = [["EphemeralStorageUtilized", "Average", "Used"], ["EphemeralStorageReserved", "Average", "Reserved"]] },
  ]
  container_widget_specs = [
    { title = "Container CPU (CPU units)", threshold = null, lines = [["ContainerCpuUtilized", "Average", "CPU used"], ["ContainerCpuReserved", "Average", "CPU reserved"]] },
    { title = "Container memory (MiB)", threshold = null, lines = [["ContainerMemoryUtilized", "Average", "memory used"], ["ContainerMemoryReserved", "Average", "memory reserved"]] },
    { title = "Container storage I/O (bytes per interval)", threshold = null, lines = [["ContainerStorageReadBytes", "Sum", "read"], ["ContainerStorageWriteBytes", "Sum", "written"]] },
    { title = "Container restarts", threshold = null, lines = [["ContainerRestarts", "Sum", "restarts"]] },
  ]
  running_widget_specs = [
    { title = "Running containers", threshold = null, lines = [["RunningContainerCount", "Minimum", "Running containers"]] },
  ]
  exporter_widget_specs = [
    { title = "Exporter health", threshold = null, lines = [["ExporterErrors", "Sum", "Errors"], ["ExporterDroppedDatapoints", "Sum", "Dropped datapoints"], ["ExporterCycleDuration", "Average", "Cycle duration (ms)"]] },
  ]
  # Widgets 15 and 16, after tasks reporting so that adding them moved no other widget.
  # ContainerExits is an event metric: no datapoint when nothing exited (Sum per period counts
  # the exits). ClockErrorBound comes from Fargate's ClockDrift only: on EC2 its widget stays
  # empty (exclude_metrics = ["ClockErrorBound"] drops it), hence the title.
  container_exit_widget_specs = [
    { title = "Container exits", threshold = null, lines = [["ContainerExits", "Sum", "exits"]] },
  ]
  clock_widget_specs = [
    { title = "Clock error bound (ms, Fargate only)", threshold = null, lines = [["ClockErrorBound", "Maximum", "Clock error bound"]] },
  ]

  # Only lines of published metrics (metrics.tf: level switches and name filters); a widget left
  # with no line is dropped.
  task_level_widgets = [for spec in concat(local.task_widget_specs, local.running_widget_specs, local.exporter_widget_specs, local.clock_widget_specs) : {
    title     = spec.title
    threshold = spec.threshold
    metrics = [for line in spec.lines :
      concat([local.ns, line[0]], local.task_dimension_pairs, [{ stat = line[1], label = line[2] }])
      if contains(local.published_metrics, line[0])
    ]
  }]
  container_level_widgets = [for spec in concat(local.container_widget_specs, local.container_exit_widget_specs) : {
    title     = spec.title
    threshold = spec.threshold
    # One line per container and metric, grouped by container.
    metrics = [for pair in setproduct(local.container_keys, spec.lines) :
      concat([local.ns, pair[1][0]], local.container_dimension_pairs[pair[0]], [{ stat = pair[1][1], label = "${pair[0]} ${pair[1][2]}" }])
      if contains(local.published_metrics, pair[1][0])
    ]
  }]

  # Tasks reporting (tasks_reporting.tf): metric math over RunningContainerCount's SampleCount,
  # at its own period; only when RunningContainerCount is published.
  tasks_reporting_widget = {
    title     = "Tasks reporting"
    threshold = local.tasks_reporting_threshold
    period    = local.tasks_reporting_period
    metrics = [for line in [
      concat([local.ns, "RunningContainerCount"], local.task_dimension_pairs, [{ stat = "SampleCount", id = "m1", visible = false, label = "RunningContainerCount samples" }]),
      [{ expression = local.tasks_reporting_expression, id = "e1", label = "Tasks reporting" }],
    ] : line if contains(local.published_metrics, "RunningContainerCount")]
  }

  # Contract order: task widgets 1-7, container widgets 8-11 (with container metrics), running
  # containers 12, exporter health 13 (with self metrics), tasks reporting 14, container exits 15
  # (with container metrics), clock error bound 16: each added widget went last, so it moved no
  # other widget. The level switches are part of published_metrics, so dropping empty widgets
  # also drops the switched-off levels.
  ordered_widgets = [for widget in concat(
    [for widget in slice(local.task_level_widgets, 0, 7) : merge(widget, { period = var.period })],
    [for widget in slice(local.container_level_widgets, 0, 4) : merge(widget, { period = var.period })],
    [for widget in slice(local.task_level_widgets, 7, 9) : merge(widget, { period = var.period })],
    [local.tasks_reporting_widget],
    [for widget in slice(local.container_level_widgets, 4, 5) : merge(widget, { period = var.period })],
    [for widget in slice(local.task_level_widgets, 9, 10) : merge(widget, { period = var.period })],
  ) : widget if length(widget.metrics) > 0]

  # Two columns of 12 x 6.
  widgets = [for index, widget in local.ordered_widgets : {
    type   = "metric"
    x      = (index % 2) * 12
    y      = floor(index / 2) * 6
    width  = 12
    height = 6
    properties = merge(
      {
        title   = widget.title
        region  = local.region
        period  = widget.period
        view    = "timeSeries"
        stacked = false
        metrics = widget.metrics
      },
      { for key, value in { annotations = { horizontal = [{ label = "Alarm threshold", value = widget.threshold }] } } : key => value if widget.threshold != null },
    )
  }]
}

# Not taggable: CloudWatch dashboards take no tags (the resource has no tags argument), so the
# tags input reaches the alarms only.
resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.dashboard_name
  dashboard_body = jsonencode({ widgets = local.widgets })

  lifecycle {
    # An empty dashboard is a deployment mistake, not a request: fail the plan (the CDK
    # construct throws at synth for the same settings).
    precondition {
      condition     = length(local.published_metrics) > 0
      error_message = "The dashboard would be empty: the sidecar's switches and metrics/exclude_metrics publish none of its metrics. Publish more metrics or do not create the dashboard."
    }
  }
}
