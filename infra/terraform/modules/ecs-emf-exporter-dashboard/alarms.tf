# Each alarm's unit is exactly the unit the exporter publishes the metric with: CloudWatch keeps
# a metric's datapoints per unit, so an alarm with another unit would never see data.
# An alarm exists only when the sidecar publishes its metric (metrics.tf): an alarm on a filtered-out
# metric would sit in INSUFFICIENT_DATA / OK forever and give false comfort.

# Every alarm states treat_missing_data on purpose. Only the no-data alarm reads missing data as
# breaching (no datapoint at all is what it looks for); for the others no datapoint means nothing
# happened (no restart, no exit, no exporter error) or nothing can be judged, which is not a
# reason to page.

locals {
  alarm_name_prefix = coalesce(var.alarm_name_prefix, var.dashboard_name)

  # The no-data alarm's period: the dashboard period, but never shorter than the exporter's
  # interval rounded up to a whole minute. A period shorter than the interval would hold periods
  # without a datapoint even while the sidecar is healthy, and breach falsely.
  no_data_period = max(var.period, ceil(var.metric_config.interval_seconds / 60) * 60)

  # Restart alarms: ECS reports RestartCount (and the exporter publishes ContainerRestarts) only for
  # containers with an enabled restartPolicy, so only those can be watched.
  task_container_names      = [for container in var.task_container_definitions : try(container.name, "")]
  restart_policy_containers = distinct([for container in var.task_container_definitions : try(container.name, "") if try(container.restartPolicy.enabled == true, false)])

  # An explicit restart_alarm_containers list may only name such containers, and none that
  # exclude_containers leaves out (validated in variables.tf); the default skips excluded ones:
  # the exporter publishes nothing for them, so their alarm could never fire (as in CDK).
  restart_alarm_container_names = var.restart_alarm_containers == null ? [
    for name in local.restart_policy_containers : name
    if !anytrue([for pattern in local.exclude_container_regexes : can(regex(pattern, name))])
  ] : distinct(var.restart_alarm_containers)

  # The dimensions of the per-container alarms (restarts, exits), keyed like those alarms: by
  # container when the container dimension set names ContainerName (its value is the container's
  # name); without it every container publishes to one series, which one alarm ("all") watches.
  alarm_container_dimensions = contains(local.container_dimension_names, "ContainerName") ? {
    for container in distinct(concat(local.restart_alarm_container_names, var.exit_alarm_containers)) : container => {
      for name in local.container_dimension_names : name => name == "ContainerName" ? container : lookup(local.dimension_values, name, "")
    }
    } : {
    all = { for name in local.container_dimension_names : name => lookup(local.dimension_values, name, "") }
  }

  # { key = { dimensions, description } }: one alarm per container, or "all" (see above).
  restart_alarms = !(var.create_alarms && contains(local.published_metrics, "ContainerRestarts")) || length(local.restart_alarm_container_names) == 0 ? {} : (
    contains(local.container_dimension_names, "ContainerName") ? {
      for container in local.restart_alarm_container_names : container => {
        dimensions  = local.alarm_container_dimensions[container]
        description = "Container ${container} restarted (ECS restarted it under its restart policy)."
      }
      } : {
      all = {
        dimensions  = local.alarm_container_dimensions["all"]
        description = "A container with a restart policy (${join(", ", local.restart_alarm_container_names)}) restarted."
      }
    }
  )

  # ECS_EMF_EXCLUDE_CONTAINERS as anchored regular expressions matching like the binary's
  # (src/settings/glob.rs): `*` any run of characters, `?` one, every other character itself
  # (regex metacharacters escaped). The exit alarms refuse a container they leave out.
  exclude_container_regexes = [for pattern in coalesce(var.metric_config.exclude_containers, []) :
    "^${replace(replace(replace(trimspace(pattern), "/[\\\\.+^$|(){}\\[\\]]/", "\\$0"), "*", ".*"), "?", ".")}$"
  ]

  # Exit alarms: the containers exit_alarm_containers names (validated in variables.tf). Every
  # container's exits are counted (a STOPPED container, and restarts from RestartCount), so unlike
  # the restart alarms no restart policy is needed. Without ContainerName in the container set one
  # alarm ("all") watches the shared series: any container's exit fires it.
  exit_alarm_container_names = distinct(var.exit_alarm_containers)
  exit_alarms = !(var.create_alarms && contains(local.published_metrics, "ContainerExits")) || length(local.exit_alarm_container_names) == 0 ? {} : (
    contains(local.container_dimension_names, "ContainerName") ? {
      for container in local.exit_alarm_container_names : container => {
        dimensions  = local.alarm_container_dimensions[container]
        description = "Container ${container} exited (found STOPPED, or restarted) at least once in ${var.period}s."
      }
      } : {
      all = {
        dimensions  = local.alarm_container_dimensions["all"]
        description = "A container exited (found STOPPED, or restarted) at least once in ${var.period}s; the container dimension set has no ContainerName, so this counts every container, not only ${join(", ", local.exit_alarm_container_names)}."
      }
    }
  )
}

resource "aws_cloudwatch_metric_alarm" "cpu_utilization_high" {
  count = var.create_alarms && contains(local.published_metrics, "CpuUtilization") ? 1 : 0

  alarm_name          = "${local.alarm_name_prefix}-cpu-utilization-high"
  alarm_description   = "Task CPU utilization above ${var.cpu_threshold}% for 3 periods of ${var.period}s."
  namespace           = local.ns
  metric_name         = "CpuUtilization"
  dimensions          = local.task_dimensions
  statistic           = "Average"
  unit                = "Percent"
  period              = var.period
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cpu_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "memory_utilization_high" {
  count = var.create_alarms && contains(local.published_metrics, "MemoryUtilization") ? 1 : 0

  alarm_name          = "${local.alarm_name_prefix}-memory-utilization-high"
  alarm_description   = "Task memory utilization above ${var.memory_threshold}% for 3 periods of ${var.period}s."
  namespace           = local.ns
  metric_name         = "MemoryUtilization"
  dimensions          = local.task_dimensions
  statistic           = "Average"
  unit                = "Percent"
  period              = var.period
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.memory_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

# Fires when the service's tasks published no RunningContainerCount at all for
# no_data_evaluation_periods periods in a row: the sidecar is down or stalled, or its delivery is
# broken, and every other alarm (notBreaching) would stay green while nothing is measured.
# RunningContainerCount comes from /task alone (no stats, no rate, no first-cycle gap), every
# cycle, whatever the dimension, container and self-metric settings; only a metric filter can
# remove it (refused below). SampleCount counts datapoints whatever their value, so
# "SampleCount < 1, missing data breaching" is exactly "no datapoint".
resource "aws_cloudwatch_metric_alarm" "no_data" {
  count = var.create_alarms && var.no_data_alarm ? 1 : 0

  alarm_name          = "${local.alarm_name_prefix}-no-data"
  alarm_description   = "The service's tasks published no RunningContainerCount for ${var.no_data_evaluation_periods} periods of ${local.no_data_period}s: the metrics exporter (sidecar or daemon) is down or stalled, or its log delivery is broken, so no other alarm can see anything."
  namespace           = local.ns
  metric_name         = "RunningContainerCount"
  dimensions          = local.task_dimensions
  statistic           = "SampleCount"
  unit                = "Count"
  period              = local.no_data_period
  evaluation_periods  = var.no_data_evaluation_periods
  datapoints_to_alarm = var.no_data_evaluation_periods
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags

  lifecycle {
    # Filtered out, the metric never arrives and the alarm would always be in ALARM: fail the plan
    # instead (the CDK construct throws at synth for the same settings).
    precondition {
      condition     = contains(local.published_metrics, "RunningContainerCount")
      error_message = "the no-data alarm watches RunningContainerCount, which metrics/exclude_metrics leave out; publish it, or set no_data_alarm = false."
    }
  }
}

# No restart means no datapoint, and that is OK: missing data is notBreaching.
resource "aws_cloudwatch_metric_alarm" "container_restarts" {
  for_each = local.restart_alarms

  alarm_name          = "${local.alarm_name_prefix}-${each.key}-restarts"
  alarm_description   = each.value.description
  namespace           = local.ns
  metric_name         = "ContainerRestarts"
  dimensions          = each.value.dimensions
  statistic           = "Sum"
  unit                = "Count"
  period              = var.period
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

# An event metric: no exit means no datapoint, and that is OK: missing data is notBreaching
# (breaching would page for every quiet period). Sum >= 1 in one period: one exit is enough.
resource "aws_cloudwatch_metric_alarm" "container_exits" {
  for_each = local.exit_alarms

  alarm_name          = "${local.alarm_name_prefix}-${each.key}-exits"
  alarm_description   = each.value.description
  namespace           = local.ns
  metric_name         = "ContainerExits"
  dimensions          = each.value.dimensions
  statistic           = "Sum"
  unit                = "Count"
  period              = var.period
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "exporter_errors" {
  count = var.create_alarms && contains(local.published_metrics, "ExporterErrors") ? 1 : 0

  alarm_name          = "${local.alarm_name_prefix}-exporter-errors"
  alarm_description   = "The metrics exporter failed a cycle in each of 3 periods: task metrics may be missing."
  namespace           = local.ns
  metric_name         = "ExporterErrors"
  dimensions          = local.task_dimensions
  statistic           = "Sum"
  unit                = "Count"
  period              = var.period
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}
