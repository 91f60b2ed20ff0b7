# Policies the caller attaches: only what the chosen settings need, scoped as tightly as IAM allows.

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

run "stdout_needs_no_task_policy" {
  command = apply

  assert {
    condition     = output.task_role_policy_json == null
    error_message = "stdout output without tags_from_api needs no task role permission"
  }

  assert {
    condition = output.execution_role_policy_json == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "WriteExporterLogStreams"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/ecs-emf-exporter:log-stream:*"
      }]
    })
    error_message = "execution role policy: ${output.execution_role_policy_json}"
  }
}

run "agent_needs_no_task_policy" {
  command = apply

  variables {
    output = "agent"
  }

  assert {
    condition     = output.task_role_policy_json == null
    error_message = "agent output talks to a local agent and needs no task role permission"
  }
}

run "cloudwatch_output_may_only_put_its_namespace" {
  command = apply

  variables {
    output    = "cloudwatch"
    namespace = "Payments/ECS"
  }

  assert {
    condition = output.task_role_policy_json == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "PublishMetricsInOwnNamespace"
        Effect    = "Allow"
        Action    = "cloudwatch:PutMetricData"
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = "Payments/ECS" } }
      }]
    })
    error_message = "task role policy: ${coalesce(output.task_role_policy_json, "null")}"
  }
}

run "tags_from_api_scoped_to_cluster_tasks" {
  command = apply

  variables {
    tags_from_api  = true
    tag_dimensions = ["team"]
    cluster_arn    = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
  }

  assert {
    condition = output.task_role_policy_json == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "ReadTagsOfClusterTasks"
        Effect   = "Allow"
        Action   = "ecs:ListTagsForResource"
        Resource = "arn:aws:ecs:eu-west-1:123456789012:task/prod/*"
      }]
    })
    error_message = "task role policy: ${coalesce(output.task_role_policy_json, "null")}"
  }

  assert {
    condition     = contains(output.container_definition.environment, { name = "ECS_EMF_TAGS_FROM_API", value = "true" })
    error_message = "tags_from_api must reach the container"
  }
}

run "cloudwatch_and_tags_in_another_partition" {
  command = apply

  variables {
    output        = "cloudwatch"
    tags_from_api = true
    cluster_arn   = "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/payments"
  }

  assert {
    condition     = length(jsondecode(output.task_role_policy_json).Statement) == 2
    error_message = "both statements are needed"
  }

  assert {
    condition     = jsondecode(output.task_role_policy_json).Statement[1].Resource == "arn:aws-cn:ecs:cn-north-1:123456789012:task/payments/*"
    error_message = "the task ARN pattern must keep the cluster's partition, region and account"
  }
}

run "existing_log_group_arn_with_wildcard_suffix" {
  command = apply

  variables {
    create_cloudwatch_log_group = false
    log_group_name              = "/shared/metrics"
    log_group_arn               = "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/metrics:*"
  }

  assert {
    condition     = jsondecode(output.execution_role_policy_json).Statement[0].Resource == "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/metrics:log-stream:*"
    error_message = "the console's ':*' suffix must not end up in the log-stream ARN"
  }
}
