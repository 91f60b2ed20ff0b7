# The task definition and the DAEMON service: EC2 only, host network, the host's Docker socket and
# cgroup tree, one task per container instance of the given cluster.

mock_provider "aws" {}

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

run "daemon_service_on_the_cluster" {
  command = apply

  assert {
    condition     = aws_ecs_service.this.scheduling_strategy == "DAEMON" && aws_ecs_service.this.launch_type == "EC2"
    error_message = "one task per instance: scheduling_strategy DAEMON, launch type EC2"
  }

  assert {
    condition     = aws_ecs_service.this.cluster == "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" && aws_ecs_service.this.name == "ecs-emf-exporter" && aws_ecs_service.this.task_definition == aws_ecs_task_definition.this.arn
    error_message = "the service runs the daemon's task definition on the given cluster"
  }

  assert {
    condition     = aws_ecs_service.this.desired_count == null || aws_ecs_service.this.desired_count == 0
    error_message = "a daemon service sets no desired count"
  }

  assert {
    condition     = aws_ecs_service.this.deployment_minimum_healthy_percent == 0
    error_message = "ECS's default for a daemon service: 0"
  }

  assert {
    condition     = [for constraint in aws_ecs_service.this.placement_constraints : { type = constraint.type, expression = constraint.expression }] == [{ type = "memberOf", expression = "attribute:ecs.os-type == linux" }]
    error_message = "by default Linux instances only: ${jsonencode(aws_ecs_service.this.placement_constraints)}"
  }

  assert {
    condition     = aws_ecs_task_definition.this.family == "ecs-emf-exporter" && aws_ecs_task_definition.this.network_mode == "host" && aws_ecs_task_definition.this.requires_compatibilities == toset(["EC2"])
    error_message = "EC2 task definition with host networking (the agent's introspection API is on the instance's loopback)"
  }

  assert {
    condition = toset([for volume in aws_ecs_task_definition.this.volume : { name = volume.name, host_path = volume.host_path }]) == toset([
      { name = "docker-socket", host_path = "/var/run/docker.sock" },
      { name = "host-cgroup", host_path = "/sys/fs/cgroup" },
    ])
    error_message = "exactly the two host volumes: ${jsonencode([for volume in aws_ecs_task_definition.this.volume : { name = volume.name, host_path = volume.host_path }])}"
  }

  assert {
    condition     = aws_ecs_task_definition.this.pid_mode == null && aws_ecs_task_definition.this.ipc_mode == null
    error_message = "no host PID or IPC namespace"
  }

  assert {
    condition     = output.service_name == "ecs-emf-exporter" && output.task_definition_family == "ecs-emf-exporter" && output.service_arn == aws_ecs_service.this.id && output.task_definition_arn == aws_ecs_task_definition.this.arn
    error_message = "outputs name the service and the task definition"
  }
}

run "name_constraints_percent_and_tags" {
  command = apply

  variables {
    name                               = "metrics-daemon"
    placement_constraints              = ["attribute:ecs.os-type == linux", "attribute:ecs.cpu-architecture == arm64"]
    deployment_minimum_healthy_percent = 50
    tags                               = { team = "platform" }
  }

  assert {
    condition     = aws_ecs_service.this.name == "metrics-daemon" && aws_ecs_task_definition.this.family == "metrics-daemon"
    error_message = "name is the service name and the task family"
  }

  assert {
    condition     = length(aws_ecs_service.this.placement_constraints) == 2 && contains([for constraint in aws_ecs_service.this.placement_constraints : constraint.expression], "attribute:ecs.cpu-architecture == arm64")
    error_message = "placement constraints follow the input"
  }

  assert {
    condition     = aws_ecs_service.this.deployment_minimum_healthy_percent == 50
    error_message = "deployment_minimum_healthy_percent follows the input"
  }

  assert {
    condition     = aws_ecs_service.this.tags == tomap({ team = "platform" }) && aws_ecs_task_definition.this.tags == tomap({ team = "platform" }) && aws_ecs_service.this.propagate_tags == "SERVICE"
    error_message = "tags reach the service (and its tasks) and the task definition"
  }
}

run "no_placement_constraint" {
  command = apply

  variables {
    placement_constraints = []
  }

  assert {
    condition     = length(aws_ecs_service.this.placement_constraints) == 0
    error_message = "an empty list places the daemon on every instance"
  }
}
