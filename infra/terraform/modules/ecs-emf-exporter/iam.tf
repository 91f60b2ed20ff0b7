# Least-privilege policies, as JSON the caller attaches to its own roles. Built with jsonencode
# (not aws_iam_policy_document) so they are plain values that tests can assert on.

locals {
  # arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME -> [PARTITION, REGION, ACCOUNT, NAME]
  cluster = var.cluster_arn == null ? null : regex("^arn:([^:]+):ecs:([^:]+):([0-9]{12}):cluster/([^/]+)$", var.cluster_arn)

  task_role_statements = concat(
    var.output == "cloudwatch" ? [{
      Sid    = "PublishMetricsInOwnNamespace"
      Effect = "Allow"
      Action = "cloudwatch:PutMetricData"
      # PutMetricData supports no resource-level permission; the namespace condition narrows it.
      Resource  = "*"
      Condition = { StringEquals = { "cloudwatch:namespace" = var.namespace } }
    }] : [],
    var.tags_from_api == true ? [{
      Sid      = "ReadTagsOfClusterTasks"
      Effect   = "Allow"
      Action   = "ecs:ListTagsForResource"
      Resource = "arn:${local.cluster[0]}:ecs:${local.cluster[1]}:${local.cluster[2]}:task/${local.cluster[3]}/*"
    }] : [],
  )

  task_role_policy_json = length(local.task_role_statements) == 0 ? null : jsonencode({
    Version   = "2012-10-17"
    Statement = local.task_role_statements
  })

  # The awslogs driver writes with the execution role.
  execution_role_policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteExporterLogStreams"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${local.log_group_arn}:log-stream:*"
    }]
  })
}
