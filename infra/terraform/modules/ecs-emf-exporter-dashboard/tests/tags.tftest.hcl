# The tags input reaches every alarm (the dashboard resource takes no tags). With the defaults
# below the module creates, worked out by hand: cpu, memory, no-data, exporter-errors, and one
# restart alarm for each of the two containers with an enabled restart policy (api, the sidecar).

mock_provider "aws" {}

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
  }
  dimension_values = { ClusterName = "main", ServiceName = "orders-api" }
  container_names  = ["api", "ecs-emf-exporter"]
  task_container_definitions = [
    { name = "api", image = "example.com/api:1", essential = true, restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
    { name = "ecs-emf-exporter", image = "example.com/ecs-emf-exporter:0.1.0", essential = false, restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
  ]
  tags = { team = "payments", env = "prod" }
}

run "tags_reach_every_alarm" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].tags == tomap({ team = "payments", env = "prod" }) &&
      aws_cloudwatch_metric_alarm.memory_utilization_high[0].tags == tomap({ team = "payments", env = "prod" }) &&
      aws_cloudwatch_metric_alarm.no_data[0].tags == tomap({ team = "payments", env = "prod" }) &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].tags == tomap({ team = "payments", env = "prod" }) &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].tags == tomap({ team = "payments", env = "prod" }) &&
      aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].tags == tomap({ team = "payments", env = "prod" })
    )
    error_message = "every alarm must carry the tags input"
  }

  assert {
    # Six alarms in all, so the assertion above covers every alarm the module created.
    condition     = length(output.alarm_arns) == 6 && length(aws_cloudwatch_metric_alarm.container_restarts) == 2
    error_message = "expected 6 alarms (4 + 2 restart alarms), got ${length(output.alarm_arns)}"
  }
}

run "no_tags_by_default" {
  command = apply

  variables {
    tags = {}
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_utilization_high[0].tags) == 0 && length(aws_cloudwatch_metric_alarm.container_restarts["api"].tags) == 0
    error_message = "no tags unless given"
  }
}
