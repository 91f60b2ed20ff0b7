# The two roles: what the task may call (ecs:DescribeTasks on the cluster's tasks only, for the
# service or the tags; ecs:ListTagsForResource on the same tasks with tags; PutMetricData only with
# output = cloudwatch, in its namespace), who may assume them, and the log streams the execution
# role may write. Expected policies worked out by hand from docs/daemon.md, IAM.

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

run "default_describe_tasks_scoped_to_the_cluster" {
  command = apply

  assert {
    condition = output.task_role_policy_json == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "DescribeClusterTasks"
        Effect    = "Allow"
        Action    = "ecs:DescribeTasks"
        Resource  = "arn:aws:ecs:eu-west-1:123456789012:task/prod/*"
        Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" } }
      }]
    })
    error_message = "task role policy: ${coalesce(output.task_role_policy_json, "null")}"
  }

  assert {
    condition     = length(aws_iam_role_policy.task) == 1 && aws_iam_role_policy.task[0].policy == output.task_role_policy_json
    error_message = "the task role policy must be attached"
  }

  assert {
    condition     = !strcontains(output.task_role_policy_json, "cloudwatch:PutMetricData")
    error_message = "stdout output must not grant PutMetricData"
  }

  assert {
    condition = aws_iam_role.task.assume_role_policy == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "EcsTasksAssumeRole"
        Effect    = "Allow"
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = {
          ArnLike      = { "aws:SourceArn" = "arn:aws:ecs:eu-west-1:123456789012:*" }
          StringEquals = { "aws:SourceAccount" = "123456789012" }
        }
      }]
    })
    error_message = "task role trust policy: ${aws_iam_role.task.assume_role_policy}"
  }

  assert {
    condition = output.execution_role_policy_json == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "WriteExporterLogStreams"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/ecs-emf-exporter-daemon:log-stream:*"
      }]
    })
    error_message = "execution role policy: ${output.execution_role_policy_json}"
  }

  assert {
    condition     = aws_iam_role_policy.execution.policy == output.execution_role_policy_json && jsondecode(aws_iam_role.execution.assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "the execution role policy must be attached, and ECS tasks may assume the role"
  }

  assert {
    condition     = aws_iam_role.task.name_prefix == "ecs-emf-exporter-task-" && aws_iam_role.execution.name_prefix == "ecs-emf-exporter-exec-" && aws_iam_role.task.permissions_boundary == null
    error_message = "role name prefixes follow the name input; no permissions boundary by default"
  }

  assert {
    condition     = aws_ecs_task_definition.this.task_role_arn == aws_iam_role.task.arn && aws_ecs_task_definition.this.execution_role_arn == aws_iam_role.execution.arn && aws_iam_role.task.arn != aws_iam_role.execution.arn
    error_message = "the task definition uses the two roles, which are distinct"
  }
}

run "stdout_without_service_from_api_needs_no_task_policy" {
  command = apply

  variables {
    service_from_api = false
  }

  assert {
    condition     = output.task_role_policy_json == null && length(aws_iam_role_policy.task) == 0
    error_message = "stdout output without service_from_api and tags_from_api needs no task role permission"
  }
}

run "agent_output_needs_only_describe_tasks" {
  command = apply

  variables {
    output = "agent"
  }

  assert {
    condition     = [for statement in jsondecode(output.task_role_policy_json).Statement : statement.Action] == ["ecs:DescribeTasks"]
    error_message = "agent output talks to a local agent: DescribeTasks only, got ${coalesce(output.task_role_policy_json, "null")}"
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
      Statement = [
        {
          Sid       = "PublishMetricsInOwnNamespace"
          Effect    = "Allow"
          Action    = "cloudwatch:PutMetricData"
          Resource  = "*"
          Condition = { StringEquals = { "cloudwatch:namespace" = "Payments/ECS" } }
        },
        {
          Sid       = "DescribeClusterTasks"
          Effect    = "Allow"
          Action    = "ecs:DescribeTasks"
          Resource  = "arn:aws:ecs:eu-west-1:123456789012:task/prod/*"
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" } }
        },
      ]
    })
    error_message = "task role policy: ${coalesce(output.task_role_policy_json, "null")}"
  }
}

run "cloudwatch_output_without_service_from_api" {
  command = apply

  variables {
    output           = "cloudwatch"
    service_from_api = false
  }

  assert {
    condition     = [for statement in jsondecode(output.task_role_policy_json).Statement : statement.Action] == ["cloudwatch:PutMetricData"]
    error_message = "PutMetricData only: ${coalesce(output.task_role_policy_json, "null")}"
  }
}

# Tags from the API: the same DescribeTasks statement (one lookup serves the service and the
# tags), and ListTagsForResource on the same tasks with the same condition.
run "tags_add_list_tags_on_the_same_tasks" {
  command = apply

  variables {
    tags_from_api  = true
    tag_dimensions = ["team"]
  }

  assert {
    condition = output.task_role_policy_json == jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "DescribeClusterTasks"
          Effect    = "Allow"
          Action    = "ecs:DescribeTasks"
          Resource  = "arn:aws:ecs:eu-west-1:123456789012:task/prod/*"
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" } }
        },
        {
          Sid       = "ReadTagsOfClusterTasks"
          Effect    = "Allow"
          Action    = "ecs:ListTagsForResource"
          Resource  = "arn:aws:ecs:eu-west-1:123456789012:task/prod/*"
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" } }
        },
      ]
    })
    error_message = "task role policy: ${coalesce(output.task_role_policy_json, "null")}"
  }

  assert {
    condition     = length(aws_iam_role_policy.task) == 1 && aws_iam_role_policy.task[0].policy == output.task_role_policy_json
    error_message = "the task role policy must be attached"
  }
}

# Without the service lookup, tags alone still need DescribeTasks: it is how the daemon reads them.
run "tags_without_the_service_lookup_keep_describe_tasks" {
  command = apply

  variables {
    service_from_api = false
    tags_from_api    = true
  }

  assert {
    condition     = [for statement in jsondecode(output.task_role_policy_json).Statement : statement.Action] == ["ecs:DescribeTasks", "ecs:ListTagsForResource"]
    error_message = "DescribeTasks and ListTagsForResource: ${coalesce(output.task_role_policy_json, "null")}"
  }

  assert {
    condition     = alltrue([for statement in jsondecode(output.task_role_policy_json).Statement : statement.Resource == "arn:aws:ecs:eu-west-1:123456789012:task/prod/*" && jsonencode(statement.Condition) == jsonencode({ ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" } })])
    error_message = "both on the cluster's tasks, with the ecs:cluster condition: ${coalesce(output.task_role_policy_json, "null")}"
  }
}

run "tags_with_cloudwatch_output" {
  command = apply

  variables {
    output         = "cloudwatch"
    namespace      = "Payments/ECS"
    tags_from_api  = true
    tag_dimensions = ["team"]
  }

  assert {
    condition     = [for statement in jsondecode(output.task_role_policy_json).Statement : statement.Sid] == ["PublishMetricsInOwnNamespace", "DescribeClusterTasks", "ReadTagsOfClusterTasks"]
    error_message = "PutMetricData, DescribeTasks, ListTagsForResource: ${coalesce(output.task_role_policy_json, "null")}"
  }
}

run "another_partition" {
  command = apply

  variables {
    cluster_arn = "arn:aws-cn:ecs:cn-north-1:210987654321:cluster/payments"
  }

  assert {
    condition     = jsondecode(output.task_role_policy_json).Statement[0].Resource == "arn:aws-cn:ecs:cn-north-1:210987654321:task/payments/*" && jsondecode(output.task_role_policy_json).Statement[0].Condition.ArnEquals["ecs:cluster"] == "arn:aws-cn:ecs:cn-north-1:210987654321:cluster/payments"
    error_message = "the task ARN pattern must keep the cluster's partition, region and account: ${output.task_role_policy_json}"
  }

  assert {
    condition     = jsondecode(aws_iam_role.task.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws-cn:ecs:cn-north-1:210987654321:*"
    error_message = "the trust condition must keep the cluster's partition, region and account"
  }
}

run "cluster_by_name" {
  command = apply

  variables {
    cluster_arn  = null
    cluster_name = "batch"
  }

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-east-2" }
  }

  assert {
    condition     = output.cluster_arn == "arn:aws:ecs:us-east-2:111122223333:cluster/batch" && aws_ecs_service.this.cluster == "arn:aws:ecs:us-east-2:111122223333:cluster/batch"
    error_message = "the cluster ARN is built from the provider's partition, region and account: ${output.cluster_arn}"
  }

  assert {
    condition     = jsondecode(output.task_role_policy_json).Statement[0].Resource == "arn:aws:ecs:us-east-2:111122223333:task/batch/*"
    error_message = "DescribeTasks scoped to the named cluster's tasks: ${output.task_role_policy_json}"
  }
}

run "permissions_boundary_long_name_and_tags" {
  command = apply

  variables {
    name                          = "a-rather-long-daemon-service-name-for-metrics"
    iam_role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    tags                          = { team = "platform" }
  }

  assert {
    condition     = aws_iam_role.task.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary" && aws_iam_role.execution.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "both roles get the permissions boundary"
  }

  assert {
    # IAM allows a name_prefix of at most 38 characters.
    condition     = aws_iam_role.task.name_prefix == "a-rather-long-daemon-service-nam-task-" && length(aws_iam_role.execution.name_prefix) <= 38
    error_message = "name prefixes: ${aws_iam_role.task.name_prefix}, ${aws_iam_role.execution.name_prefix}"
  }

  assert {
    condition     = aws_iam_role.task.tags == tomap({ team = "platform" }) && aws_iam_role.execution.tags == tomap({ team = "platform" })
    error_message = "tags reach both roles"
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
