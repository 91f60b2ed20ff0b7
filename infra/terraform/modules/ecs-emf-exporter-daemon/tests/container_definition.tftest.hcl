# The rendered daemon container, checked against values worked out by hand from docs/daemon.md
# ("What it needs") and the sidecar module's rendering contract. Objects are compared through
# jsonencode: it sorts keys and ignores list-vs-tuple typing.

mock_provider "aws" {
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/ecs-emf-exporter-daemon"
    }
  }
}

# The provider checks the task definition's role ARNs: give the mocked roles real-looking ones.
override_resource {
  target = aws_iam_role.task
  values = { arn = "arn:aws:iam::123456789012:role/ecs-emf-exporter-task-mock", name = "ecs-emf-exporter-task-mock" }
}

override_resource {
  target = aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/ecs-emf-exporter-exec-mock", name = "ecs-emf-exporter-exec-mock" }
}

variables {
  image          = "example.com/ecs-emf-exporter:0.1.0"
  log_group_name = "/ecs/prod/ecs-emf-exporter-daemon"
  region         = "eu-west-1"
  cluster_arn    = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
}

run "defaults" {
  command = apply

  assert {
    condition = jsonencode(output.container_definition) == jsonencode({
      name                   = "ecs-emf-exporter"
      image                  = "example.com/ecs-emf-exporter:0.1.0"
      essential              = true
      command                = ["daemon"]
      user                   = "0"
      privileged             = false
      readonlyRootFilesystem = true
      cpu                    = 32
      memory                 = 64
      environment = [
        { name = "ECS_EMF_CGROUP_ROOT", value = "/host/sys/fs/cgroup" },
        { name = "ECS_EMF_CONTAINER_DIMENSIONS", value = "ClusterName,ServiceName,ContainerName" },
        { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName" },
        { name = "ECS_EMF_HEALTH_FILE", value = "/run/ecs-emf-exporter/ecs-emf-exporter.health" },
        { name = "ECS_EMF_INTERVAL", value = "60s" },
        { name = "ECS_EMF_NAMESPACE", value = "ECS/TaskMetrics" },
        { name = "ECS_EMF_OUTPUT", value = "stdout" },
        { name = "ECS_EMF_SERVICE_FROM_API", value = "true" },
      ]
      mountPoints = [
        { sourceVolume = "docker-socket", containerPath = "/var/run/docker.sock", readOnly = true },
        { sourceVolume = "host-cgroup", containerPath = "/host/sys/fs/cgroup", readOnly = true },
      ]
      linuxParameters = {
        capabilities = { drop = ["ALL"] }
        tmpfs        = [{ containerPath = "/run/ecs-emf-exporter", size = 1, mountOptions = ["rw", "noexec", "nosuid", "nodev"] }]
      }
      dockerSecurityOptions = ["no-new-privileges"]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = "/ecs/prod/ecs-emf-exporter-daemon"
          "awslogs-region"        = "eu-west-1"
          "awslogs-stream-prefix" = "ecs-emf-exporter-daemon"
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
    })
    error_message = "default container definition: ${jsonencode(output.container_definition)}"
  }

  assert {
    # The task definition renders exactly this one container.
    condition     = jsonencode(jsondecode(aws_ecs_task_definition.this.container_definitions)) == jsonencode([output.container_definition])
    error_message = "container_definitions: ${aws_ecs_task_definition.this.container_definitions}"
  }

  assert {
    condition     = alltrue([for mount in output.container_definition.mountPoints : mount.readOnly])
    error_message = "every host mount must be read-only"
  }

  assert {
    # ECS_EMF_SELF_METRICS is refused by daemon mode; the tag variables are off by default and
    # then left out (the binary's defaults), as before tags were offered.
    condition     = length(setintersection([for entry in output.container_definition.environment : entry.name], ["ECS_EMF_SELF_METRICS", "ECS_EMF_TAG_DIMENSIONS", "ECS_EMF_TAGS_FROM_API", "ECS_EMF_TAGS_REFRESH"])) == 0
    error_message = "no ECS_EMF_SELF_METRICS, and no tag variable without the tag inputs"
  }

  assert {
    condition     = !contains(keys(output.container_definition), "restartPolicy") && !contains(keys(output.container_definition), "memoryReservation")
    error_message = "no restart policy, and no soft limit unless memory_reservation is set"
  }
}

run "service_from_api_off" {
  command = apply

  variables {
    service_from_api = false
  }

  assert {
    condition     = contains(output.container_definition.environment, { name = "ECS_EMF_SERVICE_FROM_API", value = "false" })
    error_message = "service_from_api = false must be rendered as \"false\""
  }
}

# Tag dimensions: the keys in the order given, the lookup switched on, the refresh as given
# (docs/daemon.md, Settings: tags through the ECS API).
run "tag_dimensions_from_the_api" {
  command = apply

  variables {
    tags_from_api  = true
    tag_dimensions = ["team", "costcenter"]
    tags_refresh   = "10m"
  }

  assert {
    condition = jsonencode(output.container_definition.environment) == jsonencode([
      { name = "ECS_EMF_CGROUP_ROOT", value = "/host/sys/fs/cgroup" },
      { name = "ECS_EMF_CONTAINER_DIMENSIONS", value = "ClusterName,ServiceName,ContainerName" },
      { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName" },
      { name = "ECS_EMF_HEALTH_FILE", value = "/run/ecs-emf-exporter/ecs-emf-exporter.health" },
      { name = "ECS_EMF_INTERVAL", value = "60s" },
      { name = "ECS_EMF_NAMESPACE", value = "ECS/TaskMetrics" },
      { name = "ECS_EMF_OUTPUT", value = "stdout" },
      { name = "ECS_EMF_SERVICE_FROM_API", value = "true" },
      { name = "ECS_EMF_TAGS_FROM_API", value = "true" },
      { name = "ECS_EMF_TAGS_REFRESH", value = "10m" },
      { name = "ECS_EMF_TAG_DIMENSIONS", value = "team,costcenter" },
    ])
    error_message = "environment: ${jsonencode(output.container_definition.environment)}"
  }
}

# The binary accepts the lookup without tag dimensions (tags read, none published); the service
# lookup stays its own switch.
run "tags_from_api_alone_without_the_service_lookup" {
  command = apply

  variables {
    tags_from_api    = true
    service_from_api = false
  }

  assert {
    condition     = contains(output.container_definition.environment, { name = "ECS_EMF_TAGS_FROM_API", value = "true" }) && contains(output.container_definition.environment, { name = "ECS_EMF_SERVICE_FROM_API", value = "false" })
    error_message = "environment: ${jsonencode(output.container_definition.environment)}"
  }

  assert {
    condition     = length(setintersection([for entry in output.container_definition.environment : entry.name], ["ECS_EMF_TAG_DIMENSIONS", "ECS_EMF_TAGS_REFRESH"])) == 0
    error_message = "no tag dimensions and no refresh unless given"
  }
}

run "sizes_name_and_no_new_privileges_off" {
  command = apply

  variables {
    container_name     = "metrics-daemon"
    cpu                = 64
    memory             = 256
    memory_reservation = 96
    no_new_privileges  = false
  }

  assert {
    condition     = output.container_definition.name == "metrics-daemon" && output.container_name == "metrics-daemon" && output.container_definition.cpu == 64 && output.container_definition.memory == 256 && output.container_definition.memoryReservation == 96
    error_message = "name, cpu, memory and memoryReservation come from the inputs: ${jsonencode(output.container_definition)}"
  }

  assert {
    condition     = !contains(keys(output.container_definition), "dockerSecurityOptions")
    error_message = "no_new_privileges = false must leave dockerSecurityOptions out"
  }
}

run "every_optional_setting_rendered" {
  command = apply

  variables {
    output                = "agent"
    namespace             = "Payments/ECS"
    interval              = "5m"
    high_resolution       = true
    dimensions            = [["ClusterName", "ServiceName"], ["ClusterName"]]
    container_dimensions  = [["ClusterName", "ContainerName"]]
    static_dimensions     = { stage = "prod", app = "orders" }
    metrics               = ["Cpu*", "MemoryUtilization"]
    exclude_metrics       = ["CpuReserved"]
    container_metrics     = false
    exclude_containers    = ["ecs-emf-exporter", "xray-*"]
    agent_endpoint        = "udp://127.0.0.1:25888"
    agent_log_group_name  = "/metrics/payments"
    agent_log_stream_name = "exporter"
    max_line_bytes        = 65536
    log_format            = "json"
    log_level             = "debug"
    extra_environment     = { ECS_EMF_BUFFER_BYTES = "4194304" }
  }

  assert {
    condition = jsonencode(output.container_definition.environment) == jsonencode([
      { name = "AWS_EMF_AGENT_ENDPOINT", value = "udp://127.0.0.1:25888" },
      { name = "AWS_EMF_LOG_GROUP_NAME", value = "/metrics/payments" },
      { name = "AWS_EMF_LOG_STREAM_NAME", value = "exporter" },
      { name = "ECS_EMF_BUFFER_BYTES", value = "4194304" },
      { name = "ECS_EMF_CGROUP_ROOT", value = "/host/sys/fs/cgroup" },
      { name = "ECS_EMF_CONTAINER_DIMENSIONS", value = "ClusterName,ContainerName" },
      { name = "ECS_EMF_CONTAINER_METRICS", value = "false" },
      { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName;ClusterName" },
      { name = "ECS_EMF_EXCLUDE_CONTAINERS", value = "ecs-emf-exporter,xray-*" },
      { name = "ECS_EMF_EXCLUDE_METRICS", value = "CpuReserved" },
      { name = "ECS_EMF_HEALTH_FILE", value = "/run/ecs-emf-exporter/ecs-emf-exporter.health" },
      { name = "ECS_EMF_HIGH_RESOLUTION", value = "true" },
      { name = "ECS_EMF_INTERVAL", value = "5m" },
      { name = "ECS_EMF_LOG_FORMAT", value = "json" },
      { name = "ECS_EMF_LOG_LEVEL", value = "debug" },
      { name = "ECS_EMF_MAX_LINE_BYTES", value = "65536" },
      { name = "ECS_EMF_METRICS", value = "Cpu*,MemoryUtilization" },
      { name = "ECS_EMF_NAMESPACE", value = "Payments/ECS" },
      { name = "ECS_EMF_OUTPUT", value = "agent" },
      { name = "ECS_EMF_SERVICE_FROM_API", value = "true" },
      # Static dimensions in sorted name order.
      { name = "ECS_EMF_STATIC_DIMENSIONS", value = "app=orders,stage=prod" },
    ])
    error_message = "environment: ${jsonencode(output.container_definition.environment)}"
  }
}

run "existing_log_group_and_buffer" {
  command = apply

  variables {
    create_cloudwatch_log_group = false
    log_group_name              = "/shared/metrics"
    log_group_arn               = "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/metrics:*"
    awslogs_max_buffer_size     = "16m"
  }

  assert {
    condition     = output.container_definition.logConfiguration.options["awslogs-group"] == "/shared/metrics" && output.container_definition.logConfiguration.options["max-buffer-size"] == "16m"
    error_message = "awslogs-group and max-buffer-size follow the inputs: ${jsonencode(output.container_definition.logConfiguration)}"
  }

  assert {
    condition     = output.cloudwatch_log_group_arn == null && output.log_group_name == "/shared/metrics"
    error_message = "no group created with create_cloudwatch_log_group = false"
  }
}

run "created_log_group" {
  command = apply

  variables {
    cloudwatch_log_group_retention_in_days = 7
    tags                                   = { team = "platform" }
  }

  assert {
    condition     = output.cloudwatch_log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/ecs-emf-exporter-daemon" && output.log_group_name == "/ecs/prod/ecs-emf-exporter-daemon"
    error_message = "the created group's name and ARN: ${coalesce(output.cloudwatch_log_group_arn, "null")}"
  }
}
