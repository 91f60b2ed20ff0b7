# The sidecar's log group: terraform-aws-modules names (create_cloudwatch_log_group,
# cloudwatch_log_group_*), its log class, tags, and the ARN output.

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

run "defaults" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.this[0].log_group_class == "STANDARD" && aws_cloudwatch_log_group.this[0].retention_in_days == 30 && aws_cloudwatch_log_group.this[0].kms_key_id == null
    error_message = "default log group: STANDARD class, 30 days, no KMS key"
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.this[0].tags) == 0
    error_message = "no tags by default, got ${jsonencode(aws_cloudwatch_log_group.this[0].tags)}"
  }

  assert {
    condition     = output.cloudwatch_log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/ecs-emf-exporter"
    error_message = "cloudwatch_log_group_arn must be the created group's ARN, got ${coalesce(output.cloudwatch_log_group_arn, "null")}"
  }
}

run "settings_and_tags_reach_the_group" {
  command = apply

  variables {
    cloudwatch_log_group_retention_in_days = 7
    cloudwatch_log_group_kms_key_id        = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    tags                                   = { team = "payments", env = "prod" }
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].retention_in_days == 7 && aws_cloudwatch_log_group.this[0].kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    error_message = "retention and KMS key come from cloudwatch_log_group_retention_in_days and cloudwatch_log_group_kms_key_id"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].tags == tomap({ team = "payments", env = "prod" })
    error_message = "tags must reach the log group, got ${jsonencode(aws_cloudwatch_log_group.this[0].tags)}"
  }
}

run "infrequent_access_with_cloudwatch_output" {
  # PutMetricData does not go through the log group: it only holds the exporter's own logs.
  command = apply

  variables {
    output                     = "cloudwatch"
    cloudwatch_log_group_class = "INFREQUENT_ACCESS"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].log_group_class == "INFREQUENT_ACCESS"
    error_message = "INFREQUENT_ACCESS must be allowed with output = cloudwatch"
  }
}

run "infrequent_access_with_agent_writing_elsewhere" {
  command = apply

  variables {
    output                     = "agent"
    agent_log_group_name       = "/metrics/payments"
    cloudwatch_log_group_class = "INFREQUENT_ACCESS"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].log_group_class == "INFREQUENT_ACCESS"
    error_message = "INFREQUENT_ACCESS must be allowed when the agent writes EMF to another group"
  }
}

run "existing_group_has_no_created_arn" {
  command = apply

  variables {
    create_cloudwatch_log_group = false
    log_group_name              = "/shared/metrics"
    log_group_arn               = "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/metrics:*"
    tags                        = { team = "payments" }
  }

  assert {
    condition     = output.cloudwatch_log_group_arn == null && length(aws_cloudwatch_log_group.this) == 0
    error_message = "no group created: cloudwatch_log_group_arn must be null"
  }

  assert {
    condition     = output.log_group_name == "/shared/metrics"
    error_message = "log_group_name must still name the existing group"
  }
}
