# Tasks reporting: how many of the service's tasks published, worked out from what every task
# already publishes, so it costs no custom metric. Every task's sidecar publishes
# RunningContainerCount once per interval I at the task dimension set, whatever its value, so over
# a period P the service's SampleCount is about tasks x P / I, and
#
#   tasks reporting = SampleCount(RunningContainerCount) / (P / I)      (metric math "m1 / (P/I)")
#
# with P / I rendered as a number ("m1 / 5" for I = 60 s, P = 300 s). Precision (README): a task
# that started or stopped within the period counts fractionally; a skipped (overrun) tick or a
# datapoint still on its way through awslogs lowers a period; P must be >= I (P is at least the
# interval rounded up to a whole minute, like the no-data alarm's period).

locals {
  # The no-data alarm's period: max(period, the interval rounded up to a whole minute).
  tasks_reporting_period = local.no_data_period

  # Whole milliseconds: the interval can be given in ms (e.g. "1500ms").
  tasks_reporting_interval_ms = floor(var.metric_config.interval_seconds * 1000 + 0.5)
  tasks_reporting_period_ms   = local.tasks_reporting_period * 1000

  # "m1 / (P/I)" with P/I rendered when it is a whole number; otherwise "m1 * I / P" (seconds, or
  # milliseconds for an interval that is not whole seconds), exact without a rounded decimal.
  tasks_reporting_expression = (
    local.tasks_reporting_period_ms % local.tasks_reporting_interval_ms == 0
    ? "m1 / ${local.tasks_reporting_period_ms / local.tasks_reporting_interval_ms}"
    : (local.tasks_reporting_interval_ms % 1000 == 0
      ? "m1 * ${local.tasks_reporting_interval_ms / 1000} / ${local.tasks_reporting_period}"
    : "m1 * ${local.tasks_reporting_interval_ms} / ${local.tasks_reporting_period_ms}")
  )

  # "Fewer than N tasks": below N - 0.5, i.e. at least half a task's samples missing across the
  # service in every evaluated period. A task missing one tick, or starting/stopping within the
  # period (it counts fractionally), does not by itself read as a missing task.
  tasks_reporting_threshold = var.min_tasks_reporting == null ? null : var.min_tasks_reporting - 0.5

  # All of at least 3 periods and at least 5 minutes must be low: the newest period or two are
  # low while their EMF is still on its way (typically a minute or two), so one low period proves
  # nothing. 60 s periods: 5 of 5; 120 s and longer: 3 of 3.
  tasks_reporting_evaluation_periods = max(3, ceil(300 / local.tasks_reporting_period))

  tasks_reporting_alarm = var.create_alarms && var.min_tasks_reporting != null && contains(local.published_metrics, "RunningContainerCount")
}

# Missing data is notBreaching on purpose: no datapoint at all means no task reported, which is
# the no-data alarm's to report (missing data breaching, every cycle's RunningContainerCount);
# this alarm judges the periods that have data and does not page twice for one outage.
resource "aws_cloudwatch_metric_alarm" "tasks_reporting_low" {
  count = local.tasks_reporting_alarm ? 1 : 0

  alarm_name          = "${local.alarm_name_prefix}-tasks-reporting-low"
  alarm_description   = "Fewer than ${var.min_tasks_reporting} tasks reporting (${local.tasks_reporting_expression} below ${local.tasks_reporting_threshold}, m1 = SampleCount of RunningContainerCount) for ${local.tasks_reporting_evaluation_periods} periods of ${local.tasks_reporting_period}s. No task at all is the no-data alarm's."
  comparison_operator = "LessThanThreshold"
  threshold           = local.tasks_reporting_threshold
  evaluation_periods  = local.tasks_reporting_evaluation_periods
  datapoints_to_alarm = local.tasks_reporting_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags

  metric_query {
    id          = "m1"
    return_data = false

    metric {
      namespace   = local.ns
      metric_name = "RunningContainerCount"
      dimensions  = local.task_dimensions
      stat        = "SampleCount"
      unit        = "Count"
      period      = local.tasks_reporting_period
    }
  }

  metric_query {
    id          = "e1"
    expression  = local.tasks_reporting_expression
    label       = "Tasks reporting"
    return_data = true
  }

  lifecycle {
    precondition {
      condition     = local.tasks_reporting_period * local.tasks_reporting_evaluation_periods <= 86400
      error_message = "the tasks-reporting alarm would evaluate ${local.tasks_reporting_evaluation_periods} periods of ${local.tasks_reporting_period}s; CloudWatch allows at most one day: lower period."
    }
  }
}
