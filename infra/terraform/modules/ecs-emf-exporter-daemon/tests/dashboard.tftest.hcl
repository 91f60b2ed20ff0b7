# The ecs-emf-exporter-dashboard module on this module's metric_config, as examples/ec2-daemon
# wires them: no widget line and no alarm may name a metric daemon mode never publishes
# (`ecs-emf-exporter metrics --json --daemon` lists them as `published: false`; docs/daemon.md,
# "What daemon mode cannot know"). Expected widgets worked out by hand from the dashboard
# module's contract order, minus the widgets left without a line. With tag dimensions (tags_from_api),
# every line and alarm names the tag with the value dimension_values gives it, as for a sidecar.

mock_provider "aws" {}

variables {
  image          = "example.com/ecs-emf-exporter:0.1.0"
  log_group_name = "/ecs/prod/ecs-emf-exporter-daemon"
  region         = "eu-west-1"
  cluster_arn    = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
}

run "daemon" {
  command = plan
}

run "dashboard_on_the_daemons_metric_config" {
  command = apply

  module {
    source = "../ecs-emf-exporter-dashboard"
  }

  variables {
    metric_config       = run.daemon.metric_config
    dashboard_name      = "prod-orders"
    dimension_values    = { ClusterName = "prod", ServiceName = "orders" }
    container_names     = ["api", "worker"]
    min_tasks_reporting = 2
    # The monitored service's containers, both with an enabled restart policy: a sidecar's
    # dashboard would give each a restart alarm, the daemon's must not (no ContainerRestarts).
    task_container_definitions = [
      { name = "api", image = "example.com/api:1", essential = true, restartPolicy = { enabled = true } },
      { name = "worker", image = "example.com/worker:1", essential = false, restartPolicy = { enabled = true } },
    ]
    exit_alarm_containers = ["api"]
  }

  assert {
    # No ephemeral storage, container restarts, exporter health or clock error bound widget.
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
      "Task network (bytes/s)", "Task storage I/O (bytes per interval)",
      "Container CPU (CPU units)", "Container memory (MiB)", "Container storage I/O (bytes per interval)",
      "Running containers", "Tasks reporting", "Container exits",
    ]
    error_message = "widgets: ${jsonencode([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title])}"
  }

  assert {
    # Every metric line (the tasks-reporting expression line names no metric).
    condition = length(setintersection(toset([
      "EphemeralStorageUtilized", "EphemeralStorageReserved", "ImagePullTime", "ClockErrorBound",
      "ContainerRestarts", "ExporterErrors", "ExporterDroppedDatapoints", "ExporterCycleDuration",
      ]), toset(flatten([
        for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
          for line in w.properties.metrics : try(tostring(line[1]), "")
        ]
    ])))) == 0
    error_message = "a widget line names a metric the daemon never publishes"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0 && length(aws_cloudwatch_metric_alarm.exporter_errors) == 0
    error_message = "no restart alarm and no exporter-errors alarm: the daemon publishes neither metric"
  }

  assert {
    # The alarms it does create, by metric: none the daemon never publishes.
    condition = sort(concat(
      [for a in aws_cloudwatch_metric_alarm.cpu_utilization_high : a.metric_name],
      [for a in aws_cloudwatch_metric_alarm.memory_utilization_high : a.metric_name],
      [for a in aws_cloudwatch_metric_alarm.no_data : a.metric_name],
      [for a in values(aws_cloudwatch_metric_alarm.container_exits) : a.metric_name],
      flatten([for a in aws_cloudwatch_metric_alarm.tasks_reporting_low : [for q in a.metric_query : [for m in q.metric : m.metric_name]]]),
      )) == sort([
      "CpuUtilization", "MemoryUtilization", "RunningContainerCount", "ContainerExits", "RunningContainerCount",
    ])
    error_message = "alarms by metric differ"
  }
}

run "daemon_with_tags" {
  command = plan

  variables {
    tags_from_api  = true
    tag_dimensions = ["team"]
  }
}

run "dashboard_names_the_tag_dimension" {
  command = apply

  module {
    source = "../ecs-emf-exporter-dashboard"
  }

  variables {
    metric_config       = run.daemon_with_tags.metric_config
    dashboard_name      = "prod-orders"
    dimension_values    = { ClusterName = "prod", ServiceName = "orders", team = "payments" }
    container_names     = ["api"]
    min_tasks_reporting = 2
    task_container_definitions = [
      { name = "api", image = "example.com/api:1", essential = true },
    ]
    exit_alarm_containers = ["api"]
  }

  assert {
    # The CPU utilization widget's lines, in full: the first task set, then the tag.
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[1].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "CpuUtilization", "ClusterName", "prod", "ServiceName", "orders", "team", "payments", { stat = "Average", label = "Average" }],
      ["ECS/TaskMetrics", "CpuUtilization", "ClusterName", "prod", "ServiceName", "orders", "team", "payments", { stat = "Maximum", label = "Maximum" }],
    ])
    error_message = "CPU utilization lines: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[1].properties.metrics)}"
  }

  assert {
    # Every metric line (not the tasks-reporting expression) names team = payments.
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for line in w.properties.metrics : strcontains(jsonencode(line), "\"team\",\"payments\"") if can(tostring(line[1]))
      ]
    ]))
    error_message = "a widget line without the tag dimension"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].dimensions == tomap({ ClusterName = "prod", ServiceName = "orders", team = "payments" }) &&
      aws_cloudwatch_metric_alarm.no_data[0].dimensions == tomap({ ClusterName = "prod", ServiceName = "orders", team = "payments" }) &&
      aws_cloudwatch_metric_alarm.container_exits["api"].dimensions == tomap({ ClusterName = "prod", ServiceName = "orders", ContainerName = "api", team = "payments" })
    )
    error_message = "alarms name the first set plus the tag"
  }
}

# The dashboard module asks for the tag's value: without it no line would match a metric.
run "dashboard_without_the_tag_value_refused" {
  command = plan

  module {
    source = "../ecs-emf-exporter-dashboard"
  }

  variables {
    metric_config    = run.daemon_with_tags.metric_config
    dashboard_name   = "prod-orders"
    dimension_values = { ClusterName = "prod", ServiceName = "orders" }
    container_names  = ["api"]
  }

  expect_failures = [var.dimension_values]
}
