# Widgets and alarms, checked against arrays worked out by hand from the contract.
# run blocks read the dashboard back with jsondecode and compare through jsonencode (sorted keys).

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
  # Only the names and restart policies matter to the module.
  task_container_definitions = [
    { name = "api", image = "example.com/api:1", essential = true, restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
    { name = "ecs-emf-exporter", image = "example.com/ecs-emf-exporter:0.1.0", essential = false, restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 } },
  ]
}

run "default_widget_set" {
  command = apply

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
      "Task network (bytes/s)", "Task storage I/O (bytes per interval)", "Ephemeral storage (MiB)",
      "Container CPU (CPU units)", "Container memory (MiB)", "Container storage I/O (bytes per interval)", "Container restarts",
      "Running containers", "Exporter health", "Tasks reporting", "Container exits", "Clock error bound (ms, Fargate only)",
    ]
    error_message = "widget titles/order differ from the contract"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0]) == jsonencode({
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title   = "Task CPU (CPU units)"
        region  = "eu-west-1"
        period  = 60
        view    = "timeSeries"
        stacked = false
        metrics = [
          ["ECS/TaskMetrics", "CpuUtilized", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "CPU used" }],
          ["ECS/TaskMetrics", "CpuReserved", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "CPU reserved" }],
        ]
      }
    })
    error_message = "task CPU widget: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0])}"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[1].properties.annotations) == jsonencode({
      horizontal = [{ label = "Alarm threshold", value = 80 }]
    })
    error_message = "the CPU utilization widget must show the alarm threshold"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[12].x == 0 && jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[12].y == 36
    error_message = "widgets are laid out in two columns of 12 x 6"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[7].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "ContainerCpuUtilized", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "api", { stat = "Average", label = "api CPU used" }],
      ["ECS/TaskMetrics", "ContainerCpuReserved", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "api", { stat = "Average", label = "api CPU reserved" }],
      ["ECS/TaskMetrics", "ContainerCpuUtilized", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "ecs-emf-exporter", { stat = "Average", label = "ecs-emf-exporter CPU used" }],
      ["ECS/TaskMetrics", "ContainerCpuReserved", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "ecs-emf-exporter", { stat = "Average", label = "ecs-emf-exporter CPU reserved" }],
    ])
    error_message = "container CPU lines: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[7].properties.metrics)}"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[11].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "RunningContainerCount", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Minimum", label = "Running containers" }],
    ])
    error_message = "running containers line"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[12].properties.metrics) == jsonencode([
      ["ECS/TaskMetrics", "ExporterErrors", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Sum", label = "Errors" }],
      ["ECS/TaskMetrics", "ExporterDroppedDatapoints", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Sum", label = "Dropped datapoints" }],
      ["ECS/TaskMetrics", "ExporterCycleDuration", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Average", label = "Cycle duration (ms)" }],
    ])
    error_message = "exporter health lines"
  }

  assert {
    condition = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
    w.type == "metric" && w.properties.region == "eu-west-1" && w.properties.period == 60])
    error_message = "every widget is a metric widget with region and period set"
  }
}

# Widgets 15 and 16 went last, so adding them moved no other widget.
run "exits_and_clock_widgets" {
  command = apply

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[14]) == jsonencode({
      type   = "metric"
      x      = 0
      y      = 42
      width  = 12
      height = 6
      properties = {
        title   = "Container exits"
        region  = "eu-west-1"
        period  = 60
        view    = "timeSeries"
        stacked = false
        metrics = [
          ["ECS/TaskMetrics", "ContainerExits", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "api", { stat = "Sum", label = "api exits" }],
          ["ECS/TaskMetrics", "ContainerExits", "ClusterName", "main", "ServiceName", "orders-api", "ContainerName", "ecs-emf-exporter", { stat = "Sum", label = "ecs-emf-exporter exits" }],
        ]
      }
    })
    error_message = "container exits widget: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[14])}"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[15]) == jsonencode({
      type   = "metric"
      x      = 12
      y      = 42
      width  = 12
      height = 6
      properties = {
        title   = "Clock error bound (ms, Fargate only)"
        region  = "eu-west-1"
        period  = 60
        view    = "timeSeries"
        stacked = false
        metrics = [
          ["ECS/TaskMetrics", "ClockErrorBound", "ClusterName", "main", "ServiceName", "orders-api", { stat = "Maximum", label = "Clock error bound" }],
        ]
      }
    })
    error_message = "clock error bound widget: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[15])}"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_exits) == 0
    error_message = "no exit alarm unless exit_alarm_containers names containers"
  }
}

run "alarms" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].alarm_name == "orders-cpu-utilization-high" &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].namespace == "ECS/TaskMetrics" &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].metric_name == "CpuUtilization" &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].statistic == "Average" &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].unit == "Percent" &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api" }) &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].threshold == 80 &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].datapoints_to_alarm == 3 &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].period == 60 &&
      aws_cloudwatch_metric_alarm.cpu_utilization_high[0].treat_missing_data == "notBreaching"
    )
    error_message = "CPU alarm"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.memory_utilization_high[0].metric_name == "MemoryUtilization" &&
      aws_cloudwatch_metric_alarm.memory_utilization_high[0].unit == "Percent" &&
      aws_cloudwatch_metric_alarm.memory_utilization_high[0].threshold == 80 &&
      aws_cloudwatch_metric_alarm.memory_utilization_high[0].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api" })
    )
    error_message = "memory alarm"
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.container_restarts) == ["api", "ecs-emf-exporter"]
    error_message = "one restart alarm per container with an enabled restart policy"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.container_restarts["api"].alarm_name == "orders-api-restarts" &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].metric_name == "ContainerRestarts" &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].unit == "Count" &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].datapoints_to_alarm == 1 &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].treat_missing_data == "notBreaching" &&
      aws_cloudwatch_metric_alarm.container_restarts["api"].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api", ContainerName = "api" })
    )
    error_message = "restart alarm of api"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.exporter_errors[0].metric_name == "ExporterErrors" &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].unit == "Count" &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].threshold == 0 &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].datapoints_to_alarm == 3 &&
      aws_cloudwatch_metric_alarm.exporter_errors[0].dimensions == tomap({ ClusterName = "main", ServiceName = "orders-api" })
    )
    error_message = "exporter errors alarm"
  }
}

run "every_alarm_states_missing_data_treatment" {
  command = apply

  variables {
    exit_alarm_containers = ["api"]
  }

  assert {
    condition = length(aws_cloudwatch_metric_alarm.container_exits) == 1 && alltrue([for alarm in concat(
      aws_cloudwatch_metric_alarm.cpu_utilization_high,
      aws_cloudwatch_metric_alarm.memory_utilization_high,
      values(aws_cloudwatch_metric_alarm.container_restarts),
      values(aws_cloudwatch_metric_alarm.container_exits),
      aws_cloudwatch_metric_alarm.exporter_errors,
    ) : alarm.treat_missing_data == "notBreaching"]) && aws_cloudwatch_metric_alarm.no_data[0].treat_missing_data == "breaching"
    error_message = "only the no-data alarm reads missing data as breaching; every other alarm states notBreaching"
  }

  assert {
    condition     = jsonencode(keys(output.alarm_arns)) == jsonencode(sort(["orders-cpu-utilization-high", "orders-memory-utilization-high", "orders-no-data", "orders-api-restarts", "orders-ecs-emf-exporter-restarts", "orders-api-exits", "orders-exporter-errors"]))
    error_message = "alarm_arns: ${jsonencode(keys(output.alarm_arns))}"
  }
}

run "without_self_metrics" {
  command = apply

  variables {
    metric_config = merge(var.metric_config, { self_metrics = false })
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 15 && !contains([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title], "Exporter health")
    error_message = "the exporter widget needs self metrics"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.exporter_errors) == 0
    error_message = "the exporter-errors alarm needs self metrics"
  }
}

run "without_container_metrics" {
  command = apply

  variables {
    container_names = []
    metric_config   = merge(var.metric_config, { container_metrics = false })
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.title] == [
      "Task CPU (CPU units)", "Task CPU utilization (%)", "Task memory (MiB)", "Task memory utilization (%)",
      "Task network (bytes/s)", "Task storage I/O (bytes per interval)", "Ephemeral storage (MiB)",
      "Running containers", "Exporter health", "Tasks reporting", "Clock error bound (ms, Fargate only)",
    ]
    error_message = "container widgets (container exits among them) need container metrics"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.container_restarts) == 0
    error_message = "restart alarms need container metrics"
  }
}

run "tag_and_static_dimensions_second_set_ignored" {
  command = apply

  variables {
    metric_config = {
      namespace            = "Payments/ECS"
      task_dimensions      = [["ClusterName"], ["ClusterName", "ServiceName"]]
      container_dimensions = [["ServiceName", "ContainerName"]]
      tag_dimensions       = ["team"]
      static_dimensions    = { env = "prod" }
      container_metrics    = true
      self_metrics         = true
      container_name       = "ecs-emf-exporter"
    }
    dimension_values = { ClusterName = "main", ServiceName = "orders-api", team = "payments" }
    container_names  = ["api"]
    cpu_threshold    = 70
    period           = 300
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[1].properties) == jsonencode({
      title   = "Task CPU utilization (%)"
      region  = "eu-west-1"
      period  = 300
      view    = "timeSeries"
      stacked = false
      metrics = [
        ["Payments/ECS", "CpuUtilization", "ClusterName", "main", "team", "payments", "env", "prod", { stat = "Average", label = "Average" }],
        ["Payments/ECS", "CpuUtilization", "ClusterName", "main", "team", "payments", "env", "prod", { stat = "Maximum", label = "Maximum" }],
      ]
      annotations = { horizontal = [{ label = "Alarm threshold", value = 70 }] }
    })
    error_message = "CPU utilization widget: ${jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[1].properties)}"
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[10].properties.metrics) == jsonencode([
      ["Payments/ECS", "ContainerRestarts", "ServiceName", "orders-api", "ContainerName", "api", "team", "payments", "env", "prod", { stat = "Sum", label = "api restarts" }],
    ])
    error_message = "container restarts line"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.cpu_utilization_high[0].dimensions == tomap({ ClusterName = "main", team = "payments", env = "prod" }) && aws_cloudwatch_metric_alarm.cpu_utilization_high[0].threshold == 70 && aws_cloudwatch_metric_alarm.cpu_utilization_high[0].period == 300
    error_message = "CPU alarm dimensions follow the first task set plus tag and static names"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.container_restarts["api"].dimensions == tomap({ ServiceName = "orders-api", ContainerName = "api", team = "payments", env = "prod" }) && aws_cloudwatch_metric_alarm.container_restarts["api"].namespace == "Payments/ECS"
    error_message = "restart alarm dimensions follow the first container set plus tag and static names"
  }
}

run "no_alarms_and_custom_prefix" {
  command = apply

  variables {
    create_alarms = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_utilization_high) + length(aws_cloudwatch_metric_alarm.memory_utilization_high) + length(aws_cloudwatch_metric_alarm.no_data) + length(aws_cloudwatch_metric_alarm.container_restarts) + length(aws_cloudwatch_metric_alarm.exporter_errors) == 0
    error_message = "create_alarms = false creates no alarm"
  }
}

run "alarm_prefix_and_actions" {
  command = apply

  variables {
    alarm_name_prefix = "prod-orders"
    alarm_actions     = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
    ok_actions        = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.exporter_errors[0].alarm_name == "prod-orders-exporter-errors" && aws_cloudwatch_metric_alarm.container_restarts["ecs-emf-exporter"].alarm_name == "prod-orders-ecs-emf-exporter-restarts" && aws_cloudwatch_metric_alarm.no_data[0].alarm_name == "prod-orders-no-data"
    error_message = "alarm names start with alarm_name_prefix"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.memory_utilization_high[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"]) && aws_cloudwatch_metric_alarm.memory_utilization_high[0].ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"]) && aws_cloudwatch_metric_alarm.no_data[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"]) && aws_cloudwatch_metric_alarm.no_data[0].ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"])
    error_message = "alarm and OK actions reach the alarms"
  }
}
