# Two roles, each with only what the settings need. Policies are built with jsonencode (not
# aws_iam_policy_document) so they are plain values that tests can assert on.

locals {
  # IAM name_prefix takes at most 38 characters: 32 of the name and "-task-" / "-exec-".
  role_name_prefix = substr(var.name, 0, 32)

  # The cluster's tasks, as DescribeTasks and ListTagsForResource name them.
  cluster_tasks = "arn:${local.cluster[0]}:ecs:${local.cluster[1]}:${local.cluster[2]}:task/${local.cluster[3]}/*"

  task_role_statements = concat(
    # output = "cloudwatch": the sidecar module's statement, cloudwatch:PutMetricData narrowed by
    # the cloudwatch:namespace condition (the action has no resource-level permission).
    try(jsondecode(module.sidecar.task_role_policy_json).Statement, []),
    # One lookup serves both the service (service_from_api) and the tags (tags_from_api,
    # include=TAGS); either one needs it, neither one gets it.
    var.service_from_api || var.tags_from_api ? [{
      Sid      = "DescribeClusterTasks"
      Effect   = "Allow"
      Action   = "ecs:DescribeTasks"
      Resource = local.cluster_tasks
      # The task ARN pattern already names the cluster; the condition key says it again in the
      # form ECS documents for DescribeTasks.
      Condition = { ArnEquals = { "ecs:cluster" = local.cluster_arn } }
    }] : [],
    # The daemon does not call ListTagsForResource; it is granted in case AWS authorizes the tags
    # of DescribeTasks (include=TAGS) as a tag read, which its documentation does not say
    # (docs/daemon.md, IAM). Same tasks, same condition.
    var.tags_from_api ? [{
      Sid       = "ReadTagsOfClusterTasks"
      Effect    = "Allow"
      Action    = "ecs:ListTagsForResource"
      Resource  = local.cluster_tasks
      Condition = { ArnEquals = { "ecs:cluster" = local.cluster_arn } }
    }] : [],
  )

  # Known at plan time (the statements may not be, e.g. with a cluster ARN known after apply).
  task_role_needs_policy = var.output == "cloudwatch" || var.service_from_api || var.tags_from_api

  task_role_policy_json = local.task_role_needs_policy ? jsonencode({
    Version   = "2012-10-17"
    Statement = local.task_role_statements
  }) : null

  # ECS assumes the task role for this account's tasks only (the confused deputy conditions ECS
  # documents for task roles).
  task_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasksAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        ArnLike      = { "aws:SourceArn" = "arn:${local.cluster[0]}:ecs:${local.cluster[1]}:${local.cluster[2]}:*" }
        StringEquals = { "aws:SourceAccount" = local.cluster[2] }
      }
    }]
  })

  execution_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasksAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# The task role. Even without a policy it matters: with host networking the container can reach
# the instance metadata service, and a task role makes the AWS SDK's credential chain take the
# task's credentials before the instance role's.
resource "aws_iam_role" "task" {
  name_prefix          = "${local.role_name_prefix}-task-"
  description          = "ecs-emf-exporter daemon (task role): ${var.name}"
  assume_role_policy   = local.task_assume_role_policy
  permissions_boundary = var.iam_role_permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "task" {
  count = local.task_role_needs_policy ? 1 : 0

  name   = "ecs-emf-exporter"
  role   = aws_iam_role.task.id
  policy = local.task_role_policy_json
}

# The execution role: the awslogs driver writing the daemon's log streams. On EC2 the image is
# pulled with the container instance role, like every other task's.
resource "aws_iam_role" "execution" {
  name_prefix          = "${local.role_name_prefix}-exec-"
  description          = "ecs-emf-exporter daemon (execution role): ${var.name}"
  assume_role_policy   = local.execution_assume_role_policy
  permissions_boundary = var.iam_role_permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "execution" {
  name   = "ecs-emf-exporter-logs"
  role   = aws_iam_role.execution.id
  policy = module.sidecar.execution_role_policy_json
}
