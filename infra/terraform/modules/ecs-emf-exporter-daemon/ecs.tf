# The task definition (EC2, host network, the host's Docker socket and cgroup tree) and the
# service that runs one copy of it on every container instance of the cluster.

data "aws_partition" "current" {
  count = var.cluster_name == null ? 0 : 1
}

data "aws_region" "current" {
  count = var.cluster_name == null ? 0 : 1
}

# Only with cluster_name (an STS call at plan time); a cluster_arn carries the account.
data "aws_caller_identity" "current" {
  count = var.cluster_name == null ? 0 : 1
}

locals {
  # Decided on cluster_name, which is known at plan time; a cluster_arn may only be known after
  # apply (e.g. aws_ecs_cluster.this.arn), and counts cannot wait for it.
  cluster_arn = var.cluster_name == null ? var.cluster_arn : "arn:${data.aws_partition.current[0].partition}:ecs:${data.aws_region.current[0].name}:${data.aws_caller_identity.current[0].account_id}:cluster/${var.cluster_name}"

  # arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME -> [PARTITION, REGION, ACCOUNT, NAME]
  cluster = regex("^arn:([^:]+):ecs:([^:]+):([0-9]{12}):cluster/([^/]+)$", local.cluster_arn)
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["EC2"]
  # The agent's introspection API listens on the instance's 127.0.0.1:51678.
  network_mode       = "host"
  task_role_arn      = aws_iam_role.task.arn
  execution_role_arn = aws_iam_role.execution.arn

  container_definitions = jsonencode([local.container_definition])

  # Both mounted read-only (container definition). The socket's read-only mount does not make the
  # Docker API read-only: the exporter only sends GET requests (SECURITY.md, daemon mode).
  volume {
    name      = local.docker_socket_volume_name
    host_path = local.docker_socket_path
  }

  volume {
    name      = local.cgroup_volume_name
    host_path = local.host_cgroup_path
  }

  tags = var.tags
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = local.cluster_arn
  task_definition = aws_ecs_task_definition.this.arn

  # One task on every container instance that meets the placement constraints.
  scheduling_strategy = "DAEMON"
  # Said outright: a cluster's default capacity provider strategy does not apply to a daemon
  # service.
  launch_type                        = "EC2"
  deployment_minimum_healthy_percent = var.deployment_minimum_healthy_percent

  dynamic "placement_constraints" {
    for_each = var.placement_constraints
    content {
      type       = "memberOf"
      expression = placement_constraints.value
    }
  }

  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  tags                    = var.tags
}
