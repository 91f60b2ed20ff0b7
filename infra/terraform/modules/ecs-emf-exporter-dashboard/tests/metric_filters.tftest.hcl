# metric_config.metrics / exclude_metrics (ECS_EMF_METRICS / ECS_EMF_EXCLUDE_METRICS): lines,
# widgets and alarms of metrics the sidecar does not publish are left out. Expectations worked
# out by hand from the contract's widget list and the filter rule
# (metrics null/empty OR a match) AND no exclude_metrics match; `*` = any run of characters.

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
    metrics              = null
    exclude_metrics      = null
  }
  dimension_values = { ClusterName = "main", ServiceName = "orders-api" }
  container_names  = ["api", "ecs-emf-exporter"]
  # Only the names and restart policies matter to the module.
  task_container_definitions = [
    { name = "api", image = "example.com/api:1", essential = true, restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
    { name = "ecs-emf-exporter", image = "example.com/ecs-emf-exporter:0.1.0", essential = false, restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
  ]
}

run "exclude_reserved_keeps_widgets" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["*Reserved"] })
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
      "Task network (bytes/s)", "Task storage I/O (bytes per interval)", "Ephemeral storage (MiB)",
      "Container CPU (CPU units)", "Container memory (MiB)", "Container storage I/O (bytes per interval)", "Container restarts",
      "Running containers", "Exporter health", "Tasks reporting", "Container exits", "Clock error bound (ms, Fargate only)",
    ]
    error_message = "every widget keeps at least one line: all 16 stay"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "CpuUtilized", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "CPU used" }],
    ])
    error_message = "task CPU: only CpuUtilized, got ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.metrics)}"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[2].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "MemoryUtilized", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "Memory used" }],
    ])
    error_message = "task memory: only MemoryUtilized"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[6].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "EphemeralStorageUtilized", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "Used" }],
    ])
    error_message = "ephemeral storage: only EphemeralStorageUtilized"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[7].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "ContainerCpuUtilized", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "api", { stat = "Average", label = "api CPU used" }],
      ["ECS/TaskMetrics", "ContainerCpuUtilized", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "ecs-emf-exporter", { stat = "Average", label = "ecs-emf-exporter CPU used" }],
    ])
    error_message = "container CPU: only ContainerCpuUtilized per container, got ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[7].properties.metrics)}"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[8].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "ContainerMemoryUtilized", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "api", { stat = "Average", label = "api memory used" }],
      ["ECS/TaskMetrics", "ContainerMemoryUtilized", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "ecs-emf-exporter", { stat = "Average", label = "ecs-emf-exporter memory used" }],
    ])
    error_message = "container memory: only ContainerMemoryUtilized per container"
  }

  assert {
    # Task widgets 7 x 2 lines minus 3 reserved = 11; container 4+4+4+2 minus 4 reserved (2 metrics x 2 containers) = 10; running 1; exporter 3; tasks reporting 2 (the hidden m1 and the expression); container exits 2 (one per container); clock error bound 1.
    condition     = sum([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : length(w.properties.metrics)]) == 11 + 10 + 1 + 3 + 2 + 2 + 1
    error_message = "line count after dropping the five *Reserved metrics"
  }

  assert {
    condition = alltrue([for line in flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : m[1] if length(m) > 1]]) :
    !endswith(line, "Reserved")])
    error_message = "no line may name a *Reserved metric"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1 && length(aws_cloudwatch_metric_alarm.memory_utilization_high) == 1 && keys(aws_cloudwatch_metric_alarm.container_restarts) == ["api", "ecs-emf-exporter"] && length(aws_cloudwatch_metric_alarm.exporter_errors) == 1 && length(aws_cloudwatch_metric_alarm.no_data) == 1
    error_message = "no alarm watches a *Reserved metric: all alarms stay"
  }
}

run "only_cpu_and_memory" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { metrics = ["Cpu*", "Memory*"] })
    # RunningContainerCount is filtered out: the no-data alarm would be refused.
    no_data_alarm = false
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
    ]
    error_message = "only the four task CPU/memory widgets (Container* and Exporter* do not match), got ${jsonencode([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title])}"
  }

  assert {
    condition     = jsonencode([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [w.x, w.y]]) == jsonencode([[0, 0], [12, 0], [0, 6], [12, 6]])
    error_message = "the remaining widgets are laid out without gaps"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[2].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "MemoryUtilized", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "Memory used" }],
      ["ECS/TaskMetrics", "MemoryReserved", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "Memory reserved" }],
    ])
    error_message = "task memory keeps both lines"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[3].properties.annotations.horizontal[0].value == 80
    error_message = "the memory utilization widget keeps its threshold annotation"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1 && length(aws_cloudwatch_metric_alarm.memory_utilization_high) == 1
    error_message = "CPU and memory utilization alarms stay"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0 && length(aws_cloudwatch_metric_alarm.exporter_errors) == 0
    error_message = "ContainerRestarts and ExporterErrors are not published: no restart or exporter-errors alarm"
  }
}

run "exclude_container_restarts" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["ContainerRestarts"] })
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
      "Task network (bytes/s)", "Task storage I/O (bytes per interval)", "Ephemeral storage (MiB)",
      "Container CPU (CPU units)", "Container memory (MiB)", "Container storage I/O (bytes per interval)",
      "Running containers", "Exporter health", "Tasks reporting", "Container exits", "Clock error bound (ms, Fargate only)",
    ]
    error_message = "the restart widget goes, the rest stays"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "no restart alarm for an unpublished metric"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1 && length(aws_cloudwatch_metric_alarm.memory_utilization_high) == 1 && length(aws_cloudwatch_metric_alarm.exporter_errors) == 1 && length(aws_cloudwatch_metric_alarm.no_data) == 1
    error_message = "the other alarms stay"
  }
}

run "exclude_exits_and_clock" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { exclude_metrics = ["ContainerExits", "ClockErrorBound"] })
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
      "Task network (bytes/s)", "Task storage I/O (bytes per interval)", "Ephemeral storage (MiB)",
      "Container CPU (CPU units)", "Container memory (MiB)", "Container storage I/O (bytes per interval)", "Container restarts",
      "Running containers", "Exporter health", "Tasks reporting",
    ]
    error_message = "the exits and clock widgets go, the rest stays"
  }
}

run "include_and_exclude_combined" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { metrics = ["Cpu*", "Exporter*"], exclude_metrics = ["*Reserved", "ExporterCycle*"] })
    no_data_alarm = false
  }

  assert {
    condition = jsonencode([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [w.properties.title, [for m in w.properties.metrics : m[1] if length(m) > 1]]]) == jsonencode([
      ["Task CPU (CPU units)", ["CpuUtilized"]],
      ["Task CPU utilization (%)", ["CpuUtilization", "CpuUtilization"]],
      ["Exporter health", ["ExporterErrors", "ExporterDroppedDatapoints"]],
    ])
    error_message = "widgets and lines: ${jsonencode([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [w.properties.title, [for m in w.properties.metrics : m[1] if length(m) > 1]]])}"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1 && length(aws_cloudwatch_metric_alarm.exporter_errors) == 1 && length(aws_cloudwatch_metric_alarm.memory_utilization_high) == 0 && length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "CPU and exporter-errors alarms only"
  }
}

run "filter_keeps_exporter_but_self_metrics_off" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { self_metrics = false, metrics = ["Exporter*", "CpuUtilization"] })
    no_data_alarm = false
  }

  assert {
    condition     = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == ["Task CPU utilization (%)"]
    error_message = "exporter metrics need self_metrics even when the filter keeps them"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.exporter_errors) == 0 && length(aws_cloudwatch_metric_alarm.cpu_utilization_high) == 1
    error_message = "no exporter-errors alarm without self metrics"
  }
}

# No container metric left: container names (and container-only dimension values) are not needed.
run "no_container_metric_needs_no_container_names" {
  command = plan

  variables {
    container_names = []
    metric_config   = merge(var.metric_config, { exclude_metrics = ["Container*"] })
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "no restart alarm"
  }
}

run "question_mark_glob_rejected" {
  command = plan

  variables {
    metric_config = merge(var.metric_config, { metrics = ["Network?xBytes"] })
  }

  expect_failures = [var.metric_config]
}

run "filters_that_leave_nothing_fail_the_plan" {
  command = plan

  variables {
    # Every name the exporter has starts with one of these.
    metric_config = merge(var.metric_config, { exclude_metrics = ["Cpu*", "Memory*", "Network*", "Storage*", "Ephemeral*", "Running*", "Image*", "Clock*", "Container*", "Exporter*"] })
    no_data_alarm = false
  }

  expect_failures = [aws_cloudwatch_dashboard.this]
}
