# Restart alarms exist only where restarts can be counted: the exporter publishes ContainerRestarts
# from the RestartCount ECS reports, and ECS reports it only for containers with an enabled
# restartPolicy. An alarm for any other container could never fire.

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
  # The graph lines: the sidecar is not graphed here, but still alarmed (it has a policy).
  container_names = ["api", "worker"]
  # api has a restart policy, worker none, the sidecar the exporter module's default one.
  task_container_definitions = [
    {
      name          = "api"
      image         = "example.com/api:1"
      essential     = true
      portMappings  = [{ containerPort = 8080, protocol = "tcp" }]
      restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 }
    },
    {
      name      = "worker"
      image     = "example.com/worker:1"
      essential = true
      command   = ["worker"]
    },
    {
      name        = "ecs-emf-exporter"
      image       = "example.com/ecs-emf-exporter:0.1.0"
      essential   = false
      environment = [{ name = "ECS_EMF_INTERVAL", value = "60s" }]
      restartPolicy = {
        enabled              = true
        ignoredExitCodes     = [0]
        restartAttemptPeriod = 60
      }
    },
  ]
}

run "only_containers_with_a_restart_policy" {
  command = apply

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["api", "ecs-emf-exporter"]
    error_message = "two alarms (api and the sidecar), none for worker: ${jsonencode(keys(aws_cloudwatch_metric_alarm.container_restarts))}"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].alarm_name == "orders-ecs-emf-exporter-restarts" &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].namespace == "ECS/TaskMetrics" &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].metric_name == "ContainerRestarts" &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api", ContainerName = "ecs-emf-exporter" }) &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].unit == "Count" &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].period == 60 &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].datapoints_to_alarm == 1 &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].treat_missing_data == "notBreaching"
    )
    error_message = "the sidecar's restart alarm: ${jsonencode(aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"])}"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.container_restarts["api"].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api", ContainerName = "api" })
    error_message = "api's restart alarm selects ContainerName = api"
  }

  assert {
    # container_names still drives the graph lines: api and worker, not the sidecar.
    condition     = jsonencode([for line in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[10].properties.metrics : line[7]]) == jsonencode(["api", "worker"])
    error_message = "the restart widget graphs container_names"
  }
}

run "policy_disabled_is_no_policy" {
  command = plan

  variables {
    task_container_definitions = [
      { name = "api", image = "example.com/api:1", restartPolicy = { enabled = false } },
      { name = "ecs-emf-exporter", image = "example.com/ecs-emf-exporter:0.1.0", restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
    ]
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["ecs-emf-exporter"]
    error_message = "restartPolicy.enabled = false counts as no policy"
  }
}

run "no_task_container_definitions_no_restart_alarms" {
  command = plan

  variables {
    task_container_definitions = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0 && length(aws_cloudwatch_metric_alarm.no_data) == 1
    error_message = "without the task's definitions no restart alarm (the other alarms stay)"
  }
}

run "explicit_list" {
  command = plan

  variables {
    restart_alarm_containers = ["api"]
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["api"]
    error_message = "an explicit list chooses among the containers with a policy"
  }
}

run "explicit_empty_list" {
  command = plan

  variables {
    restart_alarm_containers = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "an empty list means no restart alarm"
  }
}

run "explicit_container_without_policy_refused" {
  command = plan

  variables {
    restart_alarm_containers = ["api", "worker"]
  }

  expect_failures = [var.restart_alarm_containers]
}

# An excluded container publishes no ContainerRestarts: the default list skips it, and an explicit
# list naming it is refused (the CDK construct's rule too). Patterns are globs, as in the binary.
run "excluded_container_gets_no_default_alarm" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { exclude_containers = ["a?i"] })
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["ecs-emf-exporter"]
    error_message = "api is excluded, so only the sidecar keeps its alarm: ${jsonencode(keys(aws_cloudwatch_metric_alarm.container_restarts))}"
  }
}

run "explicit_excluded_container_refused" {
  command = plan

  variables {
    metric_config            = merge(var.metric_config, { exclude_containers = ["api"] })
    restart_alarm_containers = ["api"]
  }

  expect_failures = [var.restart_alarm_containers]
}

run "explicit_container_absent_refused" {
  command = plan

  variables {
    restart_alarm_containers = ["db"]
  }

  expect_failures = [var.restart_alarm_containers]
}

run "not_a_list_refused" {
  command = plan

  variables {
    task_container_definitions = { api = { name = "api", image = "example.com/api:1" } }
  }

  expect_failures = [var.task_container_definitions]
}

run "definition_without_name_refused" {
  command = plan

  variables {
    task_container_definitions = [{ image = "example.com/api:1" }]
  }

  expect_failures = [var.task_container_definitions]
}

run "no_restart_alarms_without_alarms" {
  command = plan

  variables {
    create_alarms = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "create_alarms = false: no restart alarm"
  }
}

run "no_restart_alarms_without_container_metrics" {
  command = plan

  variables {
    metric_config   = merge(var.metric_config, { container_metrics = false })
    container_names = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "container metrics off: ContainerRestarts is not published"
  }
}

run "no_restart_alarms_when_restarts_filtered_out" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["ContainerRestarts"] })
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "ContainerRestarts filtered out: no restart alarm"
  }
}

run "container_set_without_container_name" {
  # Every container publishes to one series: one alarm watches them together.
  command = plan

  variables {
    metric_config   = merge(var.metric_config, { container_dimensions = [["ClusterName", "ServiceName"]] })
    container_names = []
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["all"] && aws_cloudwatch_metric_alarm.container_restarts["all"].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api" })
    error_message = "one restart alarm without ContainerName"
  }
}

# The exporter module's real output: its definition carries the default restart policy, so the
# sidecar's restarts are alarmed by default.
run "exporter" {
  command = apply

  module {
    source = "../ecs-emf-exporter"
  }

  variables {
    image          = "example.com/ecs-emf-exporter:0.1.0"
    log_group_name = "/ecs/orders/ecs-emf-exporter"
    region         = "eu-west-1"
    interval       = "90s"
  }
}

run "sidecar_from_the_exporter_module" {
  command = plan

  variables {
    metric_config = run.exporter.metric_config
    task_container_definitions = [
      { name = "api", image = "example.com/api:1", restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
      { name = "worker", image = "example.com/worker:1" },
      run.exporter.container_definition,
    ]
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["api", "ecs-emf-exporter"]
    error_message = "the sidecar's default restart policy gets it a restart alarm: ${jsonencode(keys(aws_cloudwatch_metric_alarm.container_restarts))}"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_data[0].period == 120
    error_message = "interval 90s reaches the no-data alarm through metric_config: 120 s periods"
  }
}
