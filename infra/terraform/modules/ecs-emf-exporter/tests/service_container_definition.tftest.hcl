# service_container_definition: the sidecar as an entry of the container_definitions map of
# terraform-aws-modules/ecs//modules/service 6.x, whose keys are the ECS API's camelCase names plus
# the snake_case log group settings. Expected values worked out by hand from service.tf's comment.

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
    condition = jsonencode(output.service_container_definition) == jsonencode({
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
      create_cloudwatch_log_group = false
    })
    error_message = "service container definition: ${jsonencode(output.service_container_definition)}"
  }

  assert {
    # Every key must be one the 6.x service module's container_definitions object type declares
    # (an undeclared key would be dropped without an error).
    condition = length(setsubtract(keys(output.service_container_definition), [
      "name", "image", "essential", "user", "readonlyRootFilesystem", "cpu", "memoryReservation", "memory",
      "environment", "mountPoints", "logConfiguration", "healthCheck", "restartPolicy", "create_cloudwatch_log_group",
    ])) == 0
    error_message = "unexpected keys: ${jsonencode(setsubtract(keys(output.service_container_definition), ["name", "image", "essential", "user", "readonlyRootFilesystem", "cpu", "memoryReservation", "memory", "environment", "mountPoints", "logConfiguration", "healthCheck", "restartPolicy", "create_cloudwatch_log_group"]))}"
  }

  assert {
    condition     = output.container_name == "ecs-emf-exporter"
    error_message = "container_name output: the key to use in container_definitions"
  }
}

run "disabled_restart_policy_is_sent_as_disabled" {
  # The submodule defaults restartPolicy to { enabled = true }: leaving the key out would turn it on.
  command = apply

  variables {
    restart_policy = { enabled = false }
  }

  assert {
    condition     = jsonencode(output.service_container_definition.restartPolicy) == jsonencode({ enabled = false })
    error_message = "a disabled policy must be { enabled = false }, got ${jsonencode(output.service_container_definition.restartPolicy)}"
  }

  assert {
    condition     = !contains(keys(output.container_definition), "restartPolicy")
    error_message = "the plain container_definition still leaves the key out"
  }
}

run "writable_root_no_hard_limit_existing_group" {
  command = apply

  variables {
    readonly_root_filesystem    = false
    memory                      = null
    container_name              = "metrics"
    create_cloudwatch_log_group = false
    log_group_name              = "/shared/metrics"
    log_group_arn               = "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/metrics"
  }

  assert {
    condition     = output.service_container_definition.readonlyRootFilesystem == false && length(output.service_container_definition.mountPoints) == 0 && !contains(keys(output.service_container_definition), "memory")
    error_message = "writable root: no mount; null hard limit: no memory key"
  }

  assert {
    condition     = output.service_container_definition.name == "metrics" && output.container_name == "metrics" && output.service_container_definition.logConfiguration.options["awslogs-group"] == "/shared/metrics"
    error_message = "name and awslogs-group follow the inputs"
  }

  assert {
    condition     = output.service_container_definition.create_cloudwatch_log_group == false
    error_message = "the submodule must never create a second group, whoever owns this one"
  }
}
