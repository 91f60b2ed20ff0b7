# Settings the binary would reject at start-up must fail at plan time instead.

mock_provider "aws" {}

variables {
  image          = "example.com/ecs-emf-exporter:0.1.0"
  log_group_name = "/ecs/prod/ecs-emf-exporter"
  region         = "eu-west-1"
}

run "unknown_output" {
  command = plan
  variables { output = "firehose" }
  expect_failures = [var.output]
}

run "reserved_aws_namespace" {
  command = plan
  variables { namespace = "AWS/x" }
  expect_failures = [var.namespace]
}

run "unknown_dimension_name" {
  command = plan
  variables { dimensions = [["ClusterName", "Cluster"]] }
  expect_failures = [var.dimensions]
}

run "container_name_in_a_task_set" {
  command = plan
  variables { dimensions = [["ClusterName"], ["ClusterName", "ContainerName"]] }
  expect_failures = [var.dimensions]
}

run "unknown_container_dimension_name" {
  command = plan
  variables { container_dimensions = [["ContainerName", "Image"]] }
  expect_failures = [var.container_dimensions]
}

run "tags_from_api_without_cluster_arn" {
  command = plan
  variables { tags_from_api = true }
  expect_failures = [var.cluster_arn]
}

run "cluster_arn_that_is_not_a_cluster" {
  command = plan
  variables {
    tags_from_api = true
    cluster_arn   = "arn:aws:ecs:eu-west-1:123456789012:service/prod/api"
  }
  expect_failures = [var.cluster_arn]
}

run "interval_too_long" {
  command = plan
  variables { interval = "2h" }
  expect_failures = [var.interval]
}

run "interval_without_valid_unit" {
  command = plan
  variables { interval = "60 seconds" }
  expect_failures = [var.interval]
}

run "interval_forms_accepted" {
  command = plan
  variables { interval = "1h" }
  assert {
    condition     = contains(output.container_definition.environment, { name = "ECS_EMF_INTERVAL", value = "1h" })
    error_message = "1h is the longest interval and must pass"
  }
}

run "tag_key_colliding_with_builtin" {
  command = plan
  variables { tag_dimensions = ["ServiceName"] }
  expect_failures = [var.tag_dimensions]
}

# The introspection API's property and dimension names: the binary refuses them as tag names.
run "tag_key_colliding_with_an_introspection_name" {
  command = plan
  variables { tag_dimensions = ["AgentVersion", "ContainerInstanceId"] }
  expect_failures = [var.tag_dimensions]
}

run "static_name_colliding_with_metric" {
  command = plan
  variables { static_dimensions = { CpuUtilized = "x" } }
  expect_failures = [var.static_dimensions]
}

run "static_value_with_comma" {
  command = plan
  variables { static_dimensions = { env = "prod,eu" } }
  expect_failures = [var.static_dimensions]
}

run "unknown_metric_name" {
  command = plan
  variables { metrics = ["CpuUtilised"] }
  expect_failures = [var.metrics]
}

run "glob_matching_no_metric" {
  command = plan
  variables { exclude_metrics = ["Gpu*"] }
  expect_failures = [var.exclude_metrics]
}

run "question_mark_glob" {
  # The binary reads `?` as one character, but the dashboard module only mirrors `*`.
  command = plan
  variables { metrics = ["Network?xBytes"] }
  expect_failures = [var.metrics]
}

run "globs_accepted" {
  command = plan
  variables {
    metrics         = ["Cpu*", "Memory*", "Exporter*", "ContainerRestarts"]
    exclude_metrics = ["*Reserved"]
  }
}

run "managed_variable_in_extra_environment" {
  command = plan
  variables { extra_environment = { ECS_EMF_OUTPUT = "cloudwatch" } }
  expect_failures = [var.extra_environment]
}

run "hard_limit_below_reservation" {
  command = plan
  variables { memory = 16 }
  expect_failures = [var.memory]
}

run "existing_log_group_without_arn" {
  command = plan
  variables { create_cloudwatch_log_group = false }
  expect_failures = [var.log_group_arn]
}

run "max_line_bytes_out_of_range" {
  command = plan
  variables { max_line_bytes = 512 }
  expect_failures = [var.max_line_bytes]
}

run "restart_attempt_period_below_ecs_minimum" {
  command = plan
  variables { restart_policy = { restart_attempt_period = 59 } }
  expect_failures = [var.restart_policy]
}

run "restart_attempt_period_above_ecs_maximum" {
  command = plan
  variables { restart_policy = { restart_attempt_period = 1801 } }
  expect_failures = [var.restart_policy]
}

run "restart_attempt_period_not_whole" {
  command = plan
  variables { restart_policy = { restart_attempt_period = 60.5 } }
  expect_failures = [var.restart_policy]
}

run "restart_policy_bounds_accepted" {
  command = plan
  variables { restart_policy = { restart_attempt_period = 1800, ignored_exit_codes = [for code in range(50) : code] } }
  assert {
    condition     = output.container_definition.restartPolicy.restartAttemptPeriod == 1800 && length(output.container_definition.restartPolicy.ignoredExitCodes) == 50
    error_message = "1800 s and 50 exit codes are within ECS's limits and must pass"
  }
}

run "too_many_ignored_exit_codes" {
  command = plan
  variables { restart_policy = { ignored_exit_codes = [for code in range(51) : code] } }
  expect_failures = [var.restart_policy]
}

run "ignored_exit_code_not_whole" {
  command = plan
  variables { restart_policy = { ignored_exit_codes = [0, 1.5] } }
  expect_failures = [var.restart_policy]
}

# The Infrequent Access log class extracts no metrics from EMF: refused wherever EMF goes through
# the sidecar's log group.
run "infrequent_access_with_stdout_output" {
  command = plan
  variables { cloudwatch_log_group_class = "INFREQUENT_ACCESS" }
  expect_failures = [var.cloudwatch_log_group_class]
}

run "infrequent_access_with_agent_writing_to_the_sidecar_group" {
  command = plan
  variables {
    output                     = "agent"
    agent_log_group_name       = "/ecs/prod/ecs-emf-exporter"
    cloudwatch_log_group_class = "INFREQUENT_ACCESS"
  }
  expect_failures = [var.cloudwatch_log_group_class]
}

run "unknown_log_group_class" {
  command = plan
  variables { cloudwatch_log_group_class = "DELIVERY" }
  expect_failures = [var.cloudwatch_log_group_class]
}

run "retention_not_accepted_by_cloudwatch" {
  command = plan
  variables { cloudwatch_log_group_retention_in_days = 10 }
  expect_failures = [var.cloudwatch_log_group_retention_in_days]
}

# Old names (before the terraform-aws-modules alignment) fail with the new name in the message.
run "renamed_create_log_group" {
  command = plan
  variables { create_log_group = false }
  expect_failures = [var.create_log_group]
}

run "renamed_log_retention_in_days" {
  command = plan
  variables { log_retention_in_days = 7 }
  expect_failures = [var.log_retention_in_days]
}

run "renamed_kms_key_id" {
  command = plan
  variables { kms_key_id = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  expect_failures = [var.kms_key_id]
}
