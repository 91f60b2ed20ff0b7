# Exit alarms (exit_alarm_containers): ContainerExits Sum >= 1 in one period, missing data
# notBreaching (an event metric: no datapoint when nothing exited). Every container's exits are
# counted, so unlike the restart alarms no restart policy is needed; a name the exporter cannot
# publish ContainerExits for is refused at plan time.

mock_provider "aws" {
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/orders/ecs-emf-exporter"
    }
  }
}

variables {
  dashboard_name = "orders"
  region         = "eu-west-1"
  metric_config = {
    namespace            = "ECS/TaskMetrics"
    task_dimensions      = [["ClusterName", "ServiceName"]]
    container_dimensions = [["ClusterName", "ServiceName", "ContainerName"]]
    tag_dimensions       = []
    static_dimensions    = {}
    container_metrics    = true
    self_metrics         = true
    container_name       = "ecs-emf-exporter"
    metrics              = null
    exclude_metrics      = null
    exclude_containers   = null
    interval_seconds     = 60
  }
  dimension_values = { ClusterName = "main", ServiceName = "orders-api" }
  container_names  = ["api", "worker"]
  # api has a restart policy, worker none: both can have an exit alarm.
  task_container_definitions = [
    { name = "api", image = "example.com/api:1", restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
    { name = "worker", image = "example.com/worker:1" },
    { name = "ecs-emf-exporter", image = "example.com/ecs-emf-exporter:0.1.0", restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
  ]
  exit_alarm_containers = ["api", "worker"]
}

run "no_exit_alarm_by_default" {
  command = plan

  variables {
    exit_alarm_containers = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_exits) == 0
    error_message = "exit_alarm_containers = [] (the default): no exit alarm"
  }
}

run "one_alarm_per_named_container" {
  command = apply

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_exits) == ["api", "worker"]
    error_message = "one exit alarm per named container, worker without a restart policy included: ${jsonencode(keys(aws_cloudwatch_metric_alarm.container_exits))}"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.container_exits["worker"].alarm_name == "orders-worker-exits" &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].namespace == "ECS/TaskMetrics" &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].metric_name == "ContainerExits" &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api", ContainerName = "worker" }) &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].unit == "Count" &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].period == 60 &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].datapoints_to_alarm == 1 &&
      aws_cloudwatch_metric_alarm.container_exits["worker"].treat_missing_data == "notBreaching"
    )
    error_message = "worker's exit alarm: ${jsonencode(aws_cloudwatch_metric_alarm.container_exits["worker"])}"
  }

  assert {
    condition     = contains(keys(output.alarm_arns), "orders-api-exits") && contains(keys(output.alarm_arns), "orders-worker-exits")
    error_message = "alarm_arns lists the exit alarms: ${jsonencode(keys(output.alarm_arns))}"
  }

  assert {
    # The restart alarms still follow the restart policies: api and the sidecar, not worker.
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["api", "ecs-emf-exporter"]
    error_message = "exit alarms do not change the restart alarms"
  }
}

run "period_is_the_dashboard_period" {
  command = plan

  variables {
    period = 300
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.container_exits["api"].period == 300
    error_message = "one period of var.period"
  }
}

run "a_name_given_twice_is_one_alarm" {
  command = plan

  variables {
    exit_alarm_containers = ["api", "api"]
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_exits) == ["api"]
    error_message = "duplicates collapse"
  }
}

run "container_set_without_container_name" {
  # Every container publishes to one series: one alarm watches it, whoever exits.
  command = plan

  variables {
    metric_config   = merge(var.metric_config, { container_dimensions = [["ClusterName", "ServiceName"]] })
    container_names = []
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_exits) == ["all"] && aws_cloudwatch_metric_alarm.container_exits["all"].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api" })
    error_message = "one exit alarm without ContainerName"
  }
}

run "no_exit_alarms_without_alarms" {
  command = plan

  variables {
    create_alarms = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_exits) == 0
    error_message = "create_alarms = false: no exit alarm"
  }
}

run "exclude_pattern_is_matched_as_a_glob_not_a_regex" {
  # "a.i" would match "api" as a regular expression; as the binary's glob it does not.
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_containers = ["a.i", "wor"] })
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_exits) == ["api", "worker"]
    error_message = "neither api nor worker is excluded"
  }
}

# Refusals: the alarm could never fire.

run "refused_without_container_metrics" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { container_metrics = false })
  }

  expect_failures = [var.exit_alarm_containers]
}

run "refused_when_exclude_metrics_drops_container_exits" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["Container*"] })
  }

  expect_failures = [var.exit_alarm_containers]
}

run "refused_when_metrics_leaves_container_exits_out" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { metrics = ["Cpu*", "RunningContainerCount", "ContainerRestarts"] })
  }

  expect_failures = [var.exit_alarm_containers]
}

run "refused_for_a_container_the_task_does_not_have" {
  command = plan

  variables {
    exit_alarm_containers = ["api", "db"]
  }

  expect_failures = [var.exit_alarm_containers]
}

run "refused_without_task_container_definitions" {
  command = plan

  variables {
    task_container_definitions = []
  }

  expect_failures = [var.exit_alarm_containers]
}

run "refused_for_an_excluded_container" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_containers = ["envoy", "w?rk*"] })
  }

  expect_failures = [var.exit_alarm_containers]
}

# The exporter module's metric_config carries exclude_containers to the dashboard module.
run "exporter" {
  command = apply

  module {
    source = "../ecs-emf-exporter"
  }

  variables {
    image              = "example.com/ecs-emf-exporter:0.1.0"
    log_group_name     = "/ecs/orders/ecs-emf-exporter"
    region             = "eu-west-1"
    exclude_containers = ["worker"]
  }
}

run "excluded_through_the_exporter_module_refused" {
  command = plan

  variables {
    metric_config = run.exporter.metric_config
  }

  expect_failures = [var.exit_alarm_containers]
}

run "not_excluded_through_the_exporter_module" {
  command = plan

  variables {
    metric_config         = run.exporter.metric_config
    exit_alarm_containers = ["api", "ecs-emf-exporter"]
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_exits) == ["api", "ecs-emf-exporter"]
    error_message = "api and the sidecar are not excluded"
  }
}
