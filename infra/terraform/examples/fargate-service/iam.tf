data "aws_iam_policy_document" "ecs_tasks_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Execution role: the awslogs driver of every container. The images are public, so no ECR
# permission; add ecr:GetAuthorizationToken and pull rights on your repository otherwise.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume_role.json
}

resource "aws_iam_role_policy" "execution_exporter_logs" {
  name   = "ecs-emf-exporter-logs"
  role   = aws_iam_role.execution.id
  policy = module.exporter.execution_role_policy_json
}

resource "aws_iam_role_policy" "execution_app_logs" {
  name = "app-logs"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.app.arn}:log-stream:*"
    }]
  })
}

# Task role: what the containers themselves may call.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume_role.json
}

resource "aws_iam_role_policy" "task_exporter" {
  # null when the exporter's settings need no permission (e.g. stdout output without tags_from_api).
  count = module.exporter.task_role_policy_json == null ? 0 : 1

  name   = "ecs-emf-exporter"
  role   = aws_iam_role.task.id
  policy = module.exporter.task_role_policy_json
}
