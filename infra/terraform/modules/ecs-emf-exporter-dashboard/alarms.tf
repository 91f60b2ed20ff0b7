# Each alarm's unit is exactly the unit the exporter publishes the metric with: CloudWatch keeps
# a metric's datapoints per unit, so an alarm with another unit would never see data.
# An alarm exists only when the sidecar publishes its metric (metrics.tf): an alarm on a filtered-out
# metric would sit in INSUFFICIENT_DATA / OK forever and give false comfort.

locals {
  alarm_name_prefix = coalesce(var.alarm_name_prefix, var.dashboard_name)
  restart_alarms    = var.create_alarms && contains(local.published_metrics, "ContainerRestarts") ? toset(local.container_keys) : toset([])
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
}

resource "aws_cloudwatch_metric_alarm" "container_restarts" {
  for_each = local.restart_alarms

  alarm_name          = "${local.alarm_name_prefix}-${each.key}-restarts"
  alarm_description   = "Container ${each.key} restarted."
  namespace           = local.ns
  metric_name         = "ContainerRestarts"
  dimensions          = local.container_dimensions[each.key]
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
}

resource "aws_cloudwatch_metric_alarm" "exporter_errors" {
  count = var.create_alarms && contains(local.published_metrics, "ExporterErrors") ? 1 : 0

  alarm_name          = "${local.alarm_name_prefix}-exporter-errors"
  alarm_description   = "The metrics exporter sidecar failed a cycle in each of 3 periods: task metrics may be missing."
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
}
