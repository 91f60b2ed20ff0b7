# The rendered sidecar, checked against values worked out by hand from the contract.
# Objects are compared through jsonencode: it sorts keys and ignores list-vs-tuple typing.

mock_provider "aws" {
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/ecs-emf-exporter"
    }
  }
}

variables {
  image          = "example.com/ecs-emf-exporter:0.1.0"
  log_group_name = "/ecs/prod/ecs-emf-exporter"
  region         = "eu-west-1"
}

run "defaults" {
  command = apply

  assert {
    condition = jsonencode(output.container_definition) == jsonencode({
      name                   = "ecs-emf-exporter"
      image                  = "example.com/ecs-emf-exporter:0.1.0"
      essential              = false
      user                   = "65532:65532"
      readonlyRootFilesystem = true
      cpu                    = 16
      memoryReservation      = 32
      memory                 = 64
      environment = [
        { name = "ECS_EMF_CONTAINER_DIMENSIONS", value = "ClusterName,ServiceName,ContainerName" },
        { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName" },
        { name = "ECS_EMF_INTERVAL", value = "60s" },
        { name = "ECS_EMF_NAMESPACE", value = "ECS/TaskMetrics" },
        { name = "ECS_EMF_OUTPUT", value = "stdout" },
        { name = "ECS_EMF_SELF_METRICS", value = "true" },
      ]
      mountPoints = [{ sourceVolume = "ecs-emf-exporter-tmp", containerPath = "/tmp", readOnly = false }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = "/ecs/prod/ecs-emf-exporter"
          "awslogs-region"        = "eu-west-1"
          "awslogs-stream-prefix" = "ecs-emf-exporter"
          "mode"                  = "non-blocking"
          "max-buffer-size"       = "4m"
        }
      }
      healthCheck = {
        command     = ["CMD", "/ecs-emf-exporter", "healthcheck"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
      restartPolicy = {
        enabled              = true
        ignoredExitCodes     = [0]
        restartAttemptPeriod = 60
      }
    })
    error_message = "default container definition: ${jsonencode(output.container_definition)}"
  }

  assert {
    # Exactly these three fields, with these values: exit 0 (its own clean stop) is not restarted,
    # anything else is, after at least 60 s of running.
    condition     = jsonencode(output.container_definition.restartPolicy) == jsonencode({ enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 })
    error_message = "default restart policy: ${jsonencode(output.container_definition.restartPolicy)}"
  }

  assert {
    condition     = output.volume_name == "ecs-emf-exporter-tmp"
    error_message = "a read-only root needs the /tmp volume"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/ecs/prod/ecs-emf-exporter" && aws_cloudwatch_log_group.this[0].retention_in_days == 30 && aws_cloudwatch_log_group.this[0].kms_key_id == null
    error_message = "log group: name, 30-day retention, no KMS key by default"
  }

  assert {
    condition = jsonencode(output.metric_config) == jsonencode({
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
      exclude_containers     = null
      interval_seconds       = 60
      restart_policy_enabled = true
    })
    error_message = "metric_config: ${jsonencode(output.metric_config)}"
  }
}

run "writable_root_and_no_hard_limit" {
  command = apply

  variables {
    readonly_root_filesystem = false
    memory                   = null
    container_name           = "metrics"
    cpu                      = 32
    memory_reservation       = 48
  }

  assert {
    condition     = output.volume_name == null && length(output.container_definition.mountPoints) == 0 && output.container_definition.readonlyRootFilesystem == false
    error_message = "a writable root needs no volume and no mount"
  }

  assert {
    condition     = !contains(keys(output.container_definition), "memory")
    error_message = "a null hard limit must be left out, not rendered as null"
  }

  assert {
    condition     = output.container_definition.name == "metrics" && output.container_definition.cpu == 32 && output.container_definition.memoryReservation == 48
    error_message = "name, cpu and memoryReservation come from the inputs"
  }
}

run "custom_restart_policy" {
  command = apply

  variables {
    restart_policy = {
      ignored_exit_codes     = [0, 143]
      restart_attempt_period = 300
    }
  }

  assert {
    condition     = jsonencode(output.container_definition.restartPolicy) == jsonencode({ enabled = true, ignoredExitCodes = [0, 143], restartAttemptPeriod = 300 })
    error_message = "custom restart policy: ${jsonencode(output.container_definition.restartPolicy)}"
  }

  assert {
    condition     = output.metric_config.restart_policy_enabled == true
    error_message = "metric_config.restart_policy_enabled must be true with an enabled policy"
  }
}

run "restart_policy_only_period_given" {
  command = apply

  variables {
    restart_policy = { restart_attempt_period = 1800 }
  }

  assert {
    condition     = jsonencode(output.container_definition.restartPolicy) == jsonencode({ enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 1800 })
    error_message = "omitted fields keep their defaults: ${jsonencode(output.container_definition.restartPolicy)}"
  }
}

run "restart_policy_no_ignored_exit_codes" {
  command = apply

  variables {
    restart_policy = { ignored_exit_codes = [] }
  }

  assert {
    condition     = jsonencode(output.container_definition.restartPolicy) == jsonencode({ enabled = true, ignoredExitCodes = [], restartAttemptPeriod = 60 })
    error_message = "an empty list restarts after every exit: ${jsonencode(output.container_definition.restartPolicy)}"
  }
}

run "restart_policy_disabled" {
  command = apply

  variables {
    restart_policy = { enabled = false }
  }

  assert {
    condition     = !contains(keys(output.container_definition), "restartPolicy")
    error_message = "a disabled restart policy must leave the restartPolicy key out: ${jsonencode(output.container_definition)}"
  }

  assert {
    condition     = output.metric_config.restart_policy_enabled == false
    error_message = "metric_config.restart_policy_enabled must be false"
  }
}

run "interval_seconds_60s" {
  command = plan

  variables {
    interval = "60s"
  }

  assert {
    condition     = output.metric_config.interval_seconds == 60
    error_message = "60s is 60 s, got ${output.metric_config.interval_seconds}"
  }
}

run "interval_seconds_5m" {
  command = plan

  variables {
    interval = "5m"
  }

  assert {
    condition     = output.metric_config.interval_seconds == 300
    error_message = "5m is 300 s, got ${output.metric_config.interval_seconds}"
  }
}

run "interval_seconds_1h" {
  command = plan

  variables {
    interval = "1h"
  }

  assert {
    condition     = output.metric_config.interval_seconds == 3600
    error_message = "1h is 3600 s, got ${output.metric_config.interval_seconds}"
  }
}

run "interval_seconds_90s_and_bare_number" {
  command = plan

  variables {
    interval = "90"
  }

  assert {
    condition     = output.metric_config.interval_seconds == 90
    error_message = "a bare number is seconds, got ${output.metric_config.interval_seconds}"
  }
}

run "interval_seconds_milliseconds" {
  command = plan

  variables {
    interval = "1500ms"
  }

  assert {
    condition     = output.metric_config.interval_seconds == 1.5
    error_message = "1500ms is 1.5 s, got ${output.metric_config.interval_seconds}"
  }
}

run "tag_static_and_multiple_dimension_sets" {
  command = apply

  variables {
    dimensions           = [["ClusterName", "ServiceName"], ["ClusterName"]]
    container_dimensions = [["ClusterName", "ContainerName"], ["ServiceName", "TaskDefinitionFamily", "ContainerName"]]
    tag_dimensions       = ["team", "costcenter"]
    static_dimensions    = { stage = "prod", app = "orders" }
  }

  assert {
    condition = jsonencode(output.container_definition.environment) == jsonencode([
      { name = "ECS_EMF_CONTAINER_DIMENSIONS", value = "ClusterName,ContainerName;ServiceName,TaskDefinitionFamily,ContainerName" },
      { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName;ClusterName" },
      { name = "ECS_EMF_INTERVAL", value = "60s" },
      { name = "ECS_EMF_NAMESPACE", value = "ECS/TaskMetrics" },
      { name = "ECS_EMF_OUTPUT", value = "stdout" },
      { name = "ECS_EMF_SELF_METRICS", value = "true" },
      # Static dimensions in sorted name order; tag keys in the given order.
      { name = "ECS_EMF_STATIC_DIMENSIONS", value = "app=orders,stage=prod" },
      { name = "ECS_EMF_TAG_DIMENSIONS", value = "team,costcenter" },
    ])
    error_message = "environment: ${jsonencode(output.container_definition.environment)}"
  }
}

run "every_optional_setting_rendered" {
  command = apply

  variables {
    output                = "agent"
    namespace             = "Payments/ECS"
    interval              = "5m"
    self_metrics          = false
    high_resolution       = true
    metrics               = ["Cpu*", "MemoryUtilization"]
    exclude_metrics       = ["ImagePullTime"]
    container_metrics     = false
    exclude_containers    = ["envoy", "xray-*"]
    tags_refresh          = "10m"
    agent_endpoint        = "udp://127.0.0.1:25888"
    agent_log_group_name  = "/metrics/payments"
    agent_log_stream_name = "exporter"
    max_line_bytes        = 65536
    log_format            = "json"
    log_level             = "debug"
    extra_environment     = { ECS_EMF_BUFFER_BYTES = "1048576" }
  }

  assert {
    condition = jsonencode(output.container_definition.environment) == jsonencode([
      { name = "AWS_EMF_AGENT_ENDPOINT", value = "udp://127.0.0.1:25888" },
      { name = "AWS_EMF_LOG_GROUP_NAME", value = "/metrics/payments" },
      { name = "AWS_EMF_LOG_STREAM_NAME", value = "exporter" },
      { name = "ECS_EMF_BUFFER_BYTES", value = "1048576" },
      { name = "ECS_EMF_CONTAINER_DIMENSIONS", value = "ClusterName,ServiceName,ContainerName" },
      { name = "ECS_EMF_CONTAINER_METRICS", value = "false" },
      { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName" },
      { name = "ECS_EMF_EXCLUDE_CONTAINERS", value = "envoy,xray-*" },
      { name = "ECS_EMF_EXCLUDE_METRICS", value = "ImagePullTime" },
      { name = "ECS_EMF_HIGH_RESOLUTION", value = "true" },
      { name = "ECS_EMF_INTERVAL", value = "5m" },
      { name = "ECS_EMF_LOG_FORMAT", value = "json" },
      { name = "ECS_EMF_LOG_LEVEL", value = "debug" },
      { name = "ECS_EMF_MAX_LINE_BYTES", value = "65536" },
      { name = "ECS_EMF_METRICS", value = "Cpu*,MemoryUtilization" },
      { name = "ECS_EMF_NAMESPACE", value = "Payments/ECS" },
      { name = "ECS_EMF_OUTPUT", value = "agent" },
      { name = "ECS_EMF_SELF_METRICS", value = "false" },
      { name = "ECS_EMF_TAGS_REFRESH", value = "10m" },
    ])
    error_message = "environment: ${jsonencode(output.container_definition.environment)}"
  }

  assert {
    condition     = output.metric_config.container_metrics == false && output.metric_config.self_metrics == false && output.metric_config.namespace == "Payments/ECS"
    error_message = "metric_config must follow container_metrics, self_metrics and namespace"
  }

  assert {
    condition     = output.metric_config.metrics == tolist(["Cpu*", "MemoryUtilization"]) && output.metric_config.exclude_metrics == tolist(["ImagePullTime"])
    error_message = "metric_config must pass metrics and exclude_metrics to the dashboard"
  }

  assert {
    condition     = output.metric_config.exclude_containers == tolist(["envoy", "xray-*"])
    error_message = "metric_config must pass exclude_containers to the dashboard (its exit alarms refuse excluded containers)"
  }
}

run "existing_log_group" {
  command = apply

  variables {
    create_cloudwatch_log_group = false
    log_group_name              = "/shared/metrics"
    log_group_arn               = "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/metrics:*"
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.this) == 0
    error_message = "create_cloudwatch_log_group = false must not create a group"
  }

  assert {
    condition     = output.container_definition.logConfiguration.options["awslogs-group"] == "/shared/metrics"
    error_message = "awslogs-group must be the existing group"
  }
}

run "region_from_provider" {
  command = apply

  variables {
    region = null
  }

  override_data {
    target = data.aws_region.current
    values = { name = "ap-southeast-2" }
  }

  assert {
    condition     = output.container_definition.logConfiguration.options["awslogs-region"] == "ap-southeast-2"
    error_message = "awslogs-region must default to the provider's region"
  }
}
