data "aws_region" "current" {}

locals {
  # The demo apps. Both run as nobody on a read-only root and restart in place when they exit,
  # which is what the exporter's ContainerRestarts metric (and the restart alarms) report.
  app_containers = {
    api = {
      command      = ["httpd", "-f", "-v", "-p", "8080"]
      portMappings = [{ containerPort = 8080, protocol = "tcp" }]
    }
    worker = {
      command      = ["sh", "-c", "while true; do echo working; sleep 30; done"]
      portMappings = []
    }
  }

  app_container_definitions = [for name, app in local.app_containers : {
    name                   = name
    image                  = var.app_image
    essential              = true
    user                   = "65534:65534"
    readonlyRootFilesystem = true
    cpu                    = 64
    memoryReservation      = 128
    command                = app.command
    portMappings           = app.portMappings
    # How a container gets restarted in place, and with it a restart alarm: ECS reports its
    # RestartCount (so the exporter publishes ContainerRestarts) only with an enabled
    # restartPolicy. Leave this block out of a container and the dashboard module creates no
    # restart alarm for it (one could never fire). The sidecar has the same policy by default
    # (the exporter module's restart_policy input).
    restartPolicy = {
      enabled              = true
      ignoredExitCodes     = [0] # a clean exit 0 is a deliberate stop: not restarted
      restartAttemptPeriod = 60  # restarted only after running 60 s (the smallest ECS allows)
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.app.name
        "awslogs-region"        = data.aws_region.current.name
        "awslogs-stream-prefix" = name
        "mode"                  = "non-blocking"
      }
    }
  }]

  # One list for the task definition and the dashboard module, so the restart alarms follow the
  # restart policies the task really has.
  container_definitions = concat(local.app_container_definitions, [module.exporter.container_definition])
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode(local.container_definitions)

  # The read-only sidecar's writable /tmp: no host, so an ephemeral task volume.
  dynamic "volume" {
    for_each = module.exporter.volume_name == null ? [] : [module.exporter.volume_name]
    content {
      name = volume.value
    }
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

resource "aws_ecs_service" "this" {
  name             = var.name
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.this.arn
  desired_count    = 1
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  # The exporter reads the task's tags (here "team") with ecs:ListTagsForResource.
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  tags                    = { team = var.team }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }
}
