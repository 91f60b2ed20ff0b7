# Tasks reporting: metric math over RunningContainerCount's SampleCount, no custom metric.
# Expectations worked out by hand: period P = max(period, ceil(interval / 60) * 60); every task
# publishes P / I samples per period, so the expression is "m1 / (P/I)" with P/I rendered
# (I = 60 s, P = 300 s: "m1 / 5"; I = 30 s, P = 60 s: "m1 / 2"), or "m1 * I / P" when P/I is not
# whole (I = 45 s, P = 60 s: "m1 * 45 / 60"). The alarm: expression < N - 0.5 for all of
# max(3, ceil(300 / P)) periods, missing data notBreaching.

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

run "widget_by_default_no_alarm" {
  command = apply

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13]) == jsonencode({
      height = 6
      properties = {
        metrics = [
          ["ECS/TaskMetrics", "RunningContainerCount", "ClusterName", "main", "ServiceName", "orders-api", { id = "m1", label = "RunningContainerCount samples", stat = "SampleCount", visible = false }],
          [{ expression = "m1 / 1", id = "e1", label = "Tasks reporting" }],
        ]
        period  = 60
        region  = "eu-west-1"
        stacked = false
        title   = "Tasks reporting"
        view    = "timeSeries"
      }
      type  = "metric"
      width = 12
      x     = 12
      y     = 36
    })
    error_message = "tasks reporting widget: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13])}"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.tasks_reporting_low) == 0
    error_message = "no tasks-reporting alarm unless min_tasks_reporting is set"
  }
}

run "interval_60_period_300_alarm_3" {
  command = apply

  variables {
    period              = 300
    min_tasks_reporting = 3
    alarm_actions       = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties.metrics[1][0].expression == "m1 / 5" && jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties.period == 300
    error_message = "widget: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties)}"
  }

  assert {
    condition     = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties.annotations) == jsonencode({ horizontal = [{ label = "Alarm threshold", value = 2.5 }] })
    error_message = "the widget shows the alarm threshold 3 - 0.5"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].alarm_name == "orders-tasks-reporting-low" &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].threshold == 2.5 &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].datapoints_to_alarm == 3 &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].treat_missing_data == "notBreaching" &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_name == null &&
      aws_cloudwatch_metric_alarm.tasks_reporting_low[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"])
    )
    error_message = "alarm: ${jsonencode(aws_cloudwatch_metric_alarm.tasks_reporting_low[0])}"
  }

  assert {
    condition = jsonencode([for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : q.metric if q.id == "m1"][0]) == jsonencode([{
      dimensions  = { ClusterName = "main", ServiceName = "orders-api" }
      metric_name = "RunningContainerCount"
      namespace   = "ECS/TaskMetrics"
      period      = 300
      stat        = "SampleCount"
      unit        = "Count"
    }])
    error_message = "m1: ${jsonencode(aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query)}"
  }

  assert {
    condition     = [for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : [q.expression, q.return_data] if q.id == "e1"] == [["m1 / 5", true]] && [for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : q.return_data if q.id == "m1"] == [false]
    error_message = "e1 returns the expression, m1 does not: ${jsonencode(aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query)}"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.tasks_reporting_low[0].alarm_description == "Fewer than 3 tasks reporting (m1 / 5 below 2.5, m1 = SampleCount of RunningContainerCount) for 3 periods of 300s. No task at all is the no-data alarm's."
    error_message = "description: ${aws_cloudwatch_metric_alarm.tasks_reporting_low[0].alarm_description}"
  }

  assert {
    condition     = contains(keys(output.alarm_arns), "orders-tasks-reporting-low")
    error_message = "alarm_arns lists the tasks-reporting alarm"
  }
}

run "interval_30_period_60" {
  command = plan

  variables {
    metric_config       = merge(var.metric_config, { interval_seconds = 30 })
    min_tasks_reporting = 2
  }

  assert {
    condition     = [for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : q.expression if q.id == "e1"] == ["m1 / 2"] && aws_cloudwatch_metric_alarm.tasks_reporting_low[0].threshold == 1.5
    error_message = "30 s interval, 60 s period: 2 samples per task, threshold 2 - 0.5"
  }

  assert {
    # max(3, ceil(300 / 60)) = 5 of 5: at least five minutes, so two delayed periods cannot fire it.
    condition     = aws_cloudwatch_metric_alarm.tasks_reporting_low[0].evaluation_periods == 5 && aws_cloudwatch_metric_alarm.tasks_reporting_low[0].datapoints_to_alarm == 5
    error_message = "60 s periods: 5 of 5"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties.metrics[1][0].expression == "m1 / 2"
    error_message = "the widget shows the same expression"
  }
}

run "sub_minute_period_raised_to_a_minute" {
  command = plan

  variables {
    metric_config       = merge(var.metric_config, { interval_seconds = 10 })
    period              = 10
    min_tasks_reporting = 1
  }

  assert {
    # P = max(10, ceil(10 / 60) * 60) = 60; 60 / 10 = 6 samples per task.
    condition     = [for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : q.expression if q.id == "e1"] == ["m1 / 6"] && jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties.period == 60 && jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.period == 10
    error_message = "the tasks-reporting period is at least a minute; the other widgets keep theirs"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.tasks_reporting_low[0].threshold == 0.5
    error_message = "N = 1: threshold 0.5"
  }
}

run "interval_not_dividing_the_period" {
  command = plan

  variables {
    metric_config       = merge(var.metric_config, { interval_seconds = 45 })
    min_tasks_reporting = 4
  }

  assert {
    condition     = [for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : q.expression if q.id == "e1"] == ["m1 * 45 / 60"]
    error_message = "60 / 45 is not whole: m1 * 45 / 60, no rounded decimal"
  }
}

run "interval_90s_period_120" {
  command = plan

  variables {
    metric_config       = merge(var.metric_config, { interval_seconds = 90 })
    min_tasks_reporting = 2
  }

  assert {
    # P = max(60, ceil(90 / 60) * 60) = 120; 120 / 90 is not whole; max(3, ceil(300 / 120)) = 3.
    condition     = [for q in aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query : q.expression if q.id == "e1"] == ["m1 * 90 / 120"] && aws_cloudwatch_metric_alarm.tasks_reporting_low[0].evaluation_periods == 3
    error_message = "90 s interval: ${jsonencode(aws_cloudwatch_metric_alarm.tasks_reporting_low[0].metric_query)}"
  }
}

run "millisecond_interval" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { interval_seconds = 1.5 })
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[13].properties.metrics[1][0].expression == "m1 / 40"
    error_message = "1500 ms interval, 60 s period: 40 samples per task"
  }
}

run "filtered_out_no_widget" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["RunningContainerCount"] })
    no_data_alarm = false
  }

  assert {
    condition     = !contains([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title], "Tasks reporting") && !contains([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title], "Running containers")
    error_message = "no RunningContainerCount, no tasks-reporting widget"
  }
}

run "filtered_out_alarm_refused" {
  command = plan

  variables {
    metric_config       = merge(var.metric_config, { metrics = ["Cpu*"] })
    no_data_alarm       = false
    min_tasks_reporting = 2
  }

  expect_failures = [var.min_tasks_reporting]
}

run "without_create_alarms_refused" {
  command = plan

  variables {
    create_alarms       = false
    min_tasks_reporting = 2
  }

  expect_failures = [var.min_tasks_reporting]
}

run "zero_refused" {
  command = plan

  variables {
    min_tasks_reporting = 0
  }

  expect_failures = [var.min_tasks_reporting]
}

run "fraction_refused" {
  command = plan

  variables {
    min_tasks_reporting = 2.5
  }

  expect_failures = [var.min_tasks_reporting]
}
