# Plan-time refusals: what daemon mode refuses at start-up (usage error, exit 2) and the module's
# own inputs. The settings shared with the sidecar (namespace, interval, dimension names, metric
# globs, log group class, ...) are validated by the sidecar module this one uses, and tested there.

mock_provider "aws" {}

variables {
  image          = "example.com/ecs-emf-exporter:0.1.0"
  log_group_name = "/ecs/prod/ecs-emf-exporter-daemon"
  region         = "eu-west-1"
  cluster_arn    = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
}

# ECS_EMF_TAG_DIMENSIONS without ECS_EMF_TAGS_FROM_API=true and ECS_EMF_SELF_METRICS=true: refused by
# the binary in daemon mode (exit 2). tags_from_api is required, not turned on for the caller.
run "tag_dimensions_without_tags_from_api_refused" {
  command = plan
  variables { tag_dimensions = ["team"] }
  expect_failures = [var.tag_dimensions]
}

run "tag_dimensions_with_tags_from_api_false_refused" {
  command = plan
  variables {
    tag_dimensions = ["team"]
    tags_from_api  = false
  }
  expect_failures = [var.tag_dimensions]
}

run "tag_dimensions_with_tags_from_api_pass" {
  command = plan
  variables {
    tag_dimensions = ["team"]
    tags_from_api  = true
    tags_refresh   = "5m"
  }
  assert {
    condition     = output.metric_config.tag_dimensions == tolist(["team"])
    error_message = "tag dimensions reach metric_config: ${jsonencode(output.metric_config.tag_dimensions)}"
  }
}

run "tags_from_api_alone_passes" {
  # The binary accepts it: task tags read, none published as a dimension.
  command = plan
  variables { tags_from_api = true }
  assert {
    condition     = length(output.metric_config.tag_dimensions) == 0
    error_message = "no tag dimension unless given"
  }
}

run "self_metrics_refused" {
  command = plan
  variables { self_metrics = true }
  expect_failures = [var.self_metrics]
}

run "off_values_pass" {
  # A configuration shared with the sidecar module may say "off" explicitly, or null.
  command = plan
  variables {
    tag_dimensions = []
    tags_from_api  = null
    self_metrics   = false
  }
  assert {
    condition     = output.metric_config.self_metrics == false && length(output.metric_config.tag_dimensions) == 0 && !contains([for entry in output.container_definition.environment : entry.name], "ECS_EMF_TAGS_FROM_API")
    error_message = "off values pass and change nothing"
  }
}

run "refused_variable_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_SELF_METRICS = "true" } }
  expect_failures = [var.extra_environment]
}

# The tag variables are the module's own now: given through extra_environment they would bypass
# the IAM statements and metric_config.
run "tag_dimensions_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_TAG_DIMENSIONS = "team", ECS_EMF_BUFFER_BYTES = "1048576" } }
  expect_failures = [var.extra_environment]
}

run "tags_from_api_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_TAGS_FROM_API = "true" } }
  expect_failures = [var.extra_environment]
}

run "tags_refresh_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_TAGS_REFRESH = "5m" } }
  expect_failures = [var.extra_environment]
}

run "cgroup_root_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_CGROUP_ROOT = "/sys/fs/cgroup" } }
  expect_failures = [var.extra_environment]
}

run "docker_host_in_extra_environment" {
  command = plan
  variables { extra_environment = { DOCKER_HOST = "tcp://127.0.0.1:2375" } }
  expect_failures = [var.extra_environment]
}

run "service_from_api_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_SERVICE_FROM_API = "false" } }
  expect_failures = [var.extra_environment]
}

run "no_cluster" {
  command = plan
  variables { cluster_arn = null }
  expect_failures = [var.cluster_name]
}

run "both_cluster_arn_and_name" {
  command = plan
  variables { cluster_name = "prod" }
  expect_failures = [var.cluster_name]
}

run "cluster_arn_that_is_not_a_cluster" {
  command = plan
  variables { cluster_arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/api" }
  expect_failures = [var.cluster_arn]
}

run "cluster_name_that_is_an_arn" {
  command = plan
  variables {
    cluster_arn  = null
    cluster_name = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
  }
  expect_failures = [var.cluster_name]
}

run "service_name_with_invalid_characters" {
  command = plan
  variables { name = "metrics daemon" }
  expect_failures = [var.name]
}

run "hard_limit_below_ecs_minimum" {
  command = plan
  variables { memory = 4 }
  expect_failures = [var.memory]
}

run "soft_limit_above_hard_limit" {
  command = plan
  variables { memory_reservation = 128 }
  expect_failures = [var.memory_reservation]
}

run "too_many_placement_constraints" {
  command = plan
  variables { placement_constraints = [for i in range(11) : "attribute:ecs.os-type == linux"] }
  expect_failures = [var.placement_constraints]
}

run "minimum_healthy_percent_above_100" {
  command = plan
  variables { deployment_minimum_healthy_percent = 150 }
  expect_failures = [var.deployment_minimum_healthy_percent]
}

run "permissions_boundary_that_is_not_a_policy" {
  command = plan
  variables { iam_role_permissions_boundary = "arn:aws:iam::123456789012:role/boundary" }
  expect_failures = [var.iam_role_permissions_boundary]
}
