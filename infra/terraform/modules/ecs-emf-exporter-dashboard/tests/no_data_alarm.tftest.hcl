# The no-data alarm: it fires when the service's tasks publish no RunningContainerCount at all,
# which every other alarm (missing data notBreaching) would read as "all is well".
# Expectations worked out by hand: SampleCount < 1 with missing data breaching, period
# max(period, ceil(interval / 60) * 60), no_data_evaluation_periods of as many periods.

mock_provider "aws" {}

variables {
  dashboard_name = "orders"
  region         = "eu-west-1"
  metric_config = {
    namespace              = "ECS/TaskMetrics"
    task_dimensions        = [["ClusterName", "ServiceName"]]
    container_dimensions   = [["ClusterName", "ServiceName", "ContainerName"]]
    tag_dimensions         = []
    static_dimensions      = {}
    container_metrics      = true
    self_metrics           = true
    container_name         = "ecs-emf-exporter"
    metrics                = null
    exclude_metrics        = null
    interval_seconds       = 60
    restart_policy_enabled = true
  }
  dimension_values = { ClusterName = "main", ServiceName = "orders-api" }
  container_names  = ["api"]
}

run "defaults" {
  command = apply

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data) == 1
    error_message = "the no-data alarm is on by default"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.no_data[0].alarm_name == "orders-no-data" &&
      aws_cloudwatch_metric_alarm.no_data[0].namespace == "ECS/TaskMetrics" &&
      aws_cloudwatch_metric_alarm.no_data[0].metric_name == "RunningContainerCount" &&
      aws_cloudwatch_metric_alarm.no_data[0].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api" }) &&
      aws_cloudwatch_metric_alarm.no_data[0].statistic == "SampleCount" &&
      aws_cloudwatch_metric_alarm.no_data[0].extended_statistic == null &&
      aws_cloudwatch_metric_alarm.no_data[0].unit == "Count" &&
      aws_cloudwatch_metric_alarm.no_data[0].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.no_data[0].threshold == 1 &&
      aws_cloudwatch_metric_alarm.no_data[0].period == 60 &&
      aws_cloudwatch_metric_alarm.no_data[0].evaluation_periods == 5 &&
      aws_cloudwatch_metric_alarm.no_data[0].datapoints_to_alarm == 5 &&
      aws_cloudwatch_metric_alarm.no_data[0].treat_missing_data == "breaching"
    )
    error_message = "no-data alarm: ${jsonencode(aws_cloudwatch_metric_alarm.no_data[0])}"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].dimensions == aws_cloudwatch_metric_alarm.cpu_utilization_high[0].dimensions
    error_message = "the no-data alarm selects the same task dimensions as the CPU alarm"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].alarm_description == "The service's tasks published no RunningContainerCount for 5 periods of 60s: the metrics exporter (sidecar or daemon) is down or stalled, or its log delivery is broken, so no other alarm can see anything."
    error_message = "description: ${aws_cloudwatch_metric_alarm.no_data[0].alarm_description}"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data[0].alarm_actions) == 0 && length(aws_cloudwatch_metric_alarm.no_data[0].ok_actions) == 0
    error_message = "no actions unless given"
  }
}

run "interval_5m" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { interval_seconds = 300 })
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].period == 300 && aws_cloudwatch_metric_alarm.no_data[0].evaluation_periods == 5 && aws_cloudwatch_metric_alarm.no_data[0].datapoints_to_alarm == 5
    error_message = "a 5m interval: 5 periods of 300 s, got period ${aws_cloudwatch_metric_alarm.no_data[0].period}"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.cpu_utilization_high[0].period == 60
    error_message = "the other alarms keep the dashboard period"
  }

  assert {
    condition     = strcontains(aws_cloudwatch_metric_alarm.no_data[0].alarm_description, "5 periods of 300s")
    error_message = "the description names the alarm's own period"
  }
}

run "interval_90s_rounds_up_to_whole_minutes" {
  command = plan

  variables {
    period        = 60
    metric_config = merge(var.metric_config, { interval_seconds = 90 })
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].period == 120
    error_message = "a 90 s interval needs 120 s periods (a 60 s period would sometimes hold no datapoint), got ${aws_cloudwatch_metric_alarm.no_data[0].period}"
  }
}

run "dashboard_period_longer_than_interval" {
  command = plan

  variables {
    period = 300
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].period == 300
    error_message = "the dashboard period wins when it is longer than the interval"
  }
}

run "high_resolution_period_still_a_minute" {
  command = plan

  variables {
    period        = 10
    metric_config = merge(var.metric_config, { interval_seconds = 1 })
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].period == 60
    error_message = "ceil(1 / 60) * 60 = 60: the no-data alarm never uses a sub-minute period, got ${aws_cloudwatch_metric_alarm.no_data[0].period}"
  }
}

run "interval_absent_from_metric_config" {
  # A hand-written metric_config without interval_seconds: the binary's default, 60 s.
  command = plan

  variables {
    metric_config = {
      namespace            = "ECS/TaskMetrics"
      task_dimensions      = [["ClusterName", "ServiceName"]]
      container_dimensions = [["ClusterName", "ServiceName", "ContainerName"]]
      tag_dimensions       = []
      static_dimensions    = {}
      container_metrics    = true
      self_metrics         = true
      container_name       = "ecs-emf-exporter"
    }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].period == 60
    error_message = "without interval_seconds the period is the dashboard period"
  }
}

run "custom_evaluation_periods" {
  command = plan

  variables {
    no_data_evaluation_periods = 10
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].evaluation_periods == 10 && aws_cloudwatch_metric_alarm.no_data[0].datapoints_to_alarm == 10
    error_message = "all of the evaluated periods must be empty"
  }
}

run "tag_static_dimensions_and_no_other_levels" {
  # RunningContainerCount is task level: container and self metrics off do not matter.
  command = plan

  variables {
    metric_config = merge(var.metric_config, {
      task_dimensions   = [["ServiceName"]]
      tag_dimensions    = ["team"]
      static_dimensions = { env = "prod" }
      container_metrics = false
      self_metrics      = false
    })
    dimension_values = { ServiceName = "orders-api", team = "payments" }
    container_names  = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data) == 1 && aws_cloudwatch_metric_alarm.no_data[0].dimensions == tomap({ ServiceName = "orders-api", team = "payments", env = "prod" })
    error_message = "no-data alarm dimensions follow the first task set plus tag and static names"
  }
}

run "switched_off" {
  command = plan

  variables {
    no_data_alarm = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data) == 0 && length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1
    error_message = "no_data_alarm = false removes that alarm alone"
  }
}

run "no_alarms_at_all" {
  command = plan

  variables {
    create_alarms = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data) == 0
    error_message = "create_alarms = false creates no no-data alarm"
  }
}

run "running_container_count_filtered_out_is_refused" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["RunningContainerCount"] })
  }

  expect_failures = [aws_cloudwatch_metric_alarm.no_data]
}

run "include_list_without_running_container_count_is_refused" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { metrics = ["Cpu*", "Memory*"] })
  }

  expect_failures = [aws_cloudwatch_metric_alarm.no_data]
}

run "running_container_count_filtered_out_without_no_data_alarm" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["RunningContainerCount"] })
    no_data_alarm = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data) == 0 && length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1
    error_message = "with no_data_alarm = false the filter is accepted"
  }
}

run "running_container_count_filtered_out_without_alarms" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["RunningContainerCount"] })
    create_alarms = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_data) == 0
    error_message = "without alarms the filter is accepted"
  }
}

run "one_evaluation_period_refused" {
  command = plan

  variables {
    no_data_evaluation_periods = 1
  }

  expect_failures = [var.no_data_evaluation_periods]
}

run "fractional_evaluation_periods_refused" {
  command = plan

  variables {
    no_data_evaluation_periods = 2.5
  }

  expect_failures = [var.no_data_evaluation_periods]
}
