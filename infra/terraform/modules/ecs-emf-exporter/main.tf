# The sidecar's container definition, as the shared contract renders it. The caller puts it in
# its own task definition; this module creates no task definition, so it fits any existing one.

data "aws_region" "current" {
  count = var.region == null ? 1 : 0
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:The group only carries EMF lines (read once by CloudWatch on arrival) and the exporter's own logs; a year of retention would only add cost. Retention is an input (default 30 days).
  #checkov:skip=CKV_AWS_158:Encryption with a customer managed key is opt-in through cloudwatch_log_group_kms_key_id; without it CloudWatch Logs still encrypts at rest with AWS-owned keys, and the data is operational metrics.
  count = var.create_cloudwatch_log_group ? 1 : 0

  name              = var.log_group_name
  retention_in_days = var.cloudwatch_log_group_retention_in_days
  kms_key_id        = var.cloudwatch_log_group_kms_key_id
  # INFREQUENT_ACCESS only where EMF does not go through this group (validated in variables.tf).
  log_group_class = var.cloudwatch_log_group_class

  tags = var.tags
}

locals {
  region = var.region != null ? var.region : data.aws_region.current[0].name

  # Referencing the resource (not the input) makes the caller's task definition wait for the group.
  log_group_name = var.create_cloudwatch_log_group ? aws_cloudwatch_log_group.this[0].name : var.log_group_name
  # The provider reports the ARN without the ":*" suffix; a caller-supplied one may carry it.
  log_group_arn = var.create_cloudwatch_log_group ? aws_cloudwatch_log_group.this[0].arn : trimsuffix(var.log_group_arn, ":*")

  tmp_volume_name = "ecs-emf-exporter-tmp"

  # ECS_EMF_INTERVAL in seconds ("60s" -> 60, "5m" -> 300, "1h" -> 3600, "1500ms" -> 1.5), for the
  # dashboard module's no-data alarm. The interval variable's validation guarantees the form.
  interval_seconds = tonumber(regex(local.duration_pattern, var.interval)[0]) * local.duration_unit_ms[regex(local.duration_pattern, var.interval)[1]] / 1000

  # Sets are separated by ";" and the names inside a set by ",".
  render_sets = {
    task      = join(";", [for set in var.dimensions : join(",", set)])
    container = join(";", [for set in var.container_dimensions : join(",", set)])
  }

  # null = not set by the deployer = not rendered, so the binary's default applies.
  exporter_settings = {
    ECS_EMF_OUTPUT               = var.output
    ECS_EMF_NAMESPACE            = var.namespace
    ECS_EMF_INTERVAL             = var.interval
    ECS_EMF_DIMENSIONS           = local.render_sets.task
    ECS_EMF_CONTAINER_DIMENSIONS = local.render_sets.container
    ECS_EMF_SELF_METRICS         = tostring(var.self_metrics)
    ECS_EMF_TAG_DIMENSIONS       = length(var.tag_dimensions) > 0 ? join(",", var.tag_dimensions) : null
    # Map keys iterate in sorted order, which is the order the contract asks for.
    ECS_EMF_STATIC_DIMENSIONS  = length(var.static_dimensions) > 0 ? join(",", [for name, value in var.static_dimensions : "${name}=${value}"]) : null
    ECS_EMF_HIGH_RESOLUTION    = var.high_resolution == null ? null : tostring(var.high_resolution)
    ECS_EMF_METRICS            = var.metrics == null ? null : join(",", var.metrics)
    ECS_EMF_EXCLUDE_METRICS    = var.exclude_metrics == null ? null : join(",", var.exclude_metrics)
    ECS_EMF_CONTAINER_METRICS  = var.container_metrics == null ? null : tostring(var.container_metrics)
    ECS_EMF_EXCLUDE_CONTAINERS = var.exclude_containers == null ? null : join(",", var.exclude_containers)
    ECS_EMF_TAGS_REFRESH       = var.tags_refresh
    ECS_EMF_TAGS_FROM_API      = var.tags_from_api == null ? null : tostring(var.tags_from_api)
    AWS_EMF_AGENT_ENDPOINT     = var.agent_endpoint
    AWS_EMF_LOG_GROUP_NAME     = var.agent_log_group_name
    AWS_EMF_LOG_STREAM_NAME    = var.agent_log_stream_name
    ECS_EMF_MAX_LINE_BYTES     = var.max_line_bytes == null ? null : tostring(var.max_line_bytes)
    ECS_EMF_LOG_FORMAT         = var.log_format
    ECS_EMF_LOG_LEVEL          = var.log_level
  }

  environment_map = merge(
    var.extra_environment,
    { for name, value in local.exporter_settings : name => value if value != null },
  )

  container_definition = merge(
    {
      name                   = var.container_name
      image                  = var.image
      essential              = false # metrics must never take the app's task down; restartPolicy brings the sidecar back
      user                   = "65532:65532"
      readonlyRootFilesystem = var.readonly_root_filesystem
      cpu                    = var.cpu
      memoryReservation      = var.memory_reservation
      environment            = [for name in sort(keys(local.environment_map)) : { name = name, value = local.environment_map[name] }]
      # The health file lives in /tmp, so a read-only root needs a writable /tmp volume.
      mountPoints = var.readonly_root_filesystem ? [{ sourceVolume = local.tmp_volume_name, containerPath = "/tmp", readOnly = false }] : []
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = local.log_group_name
          "awslogs-region"        = local.region
          "awslogs-stream-prefix" = "ecs-emf-exporter"
          # non-blocking: a slow CloudWatch Logs drops lines instead of stalling the exporter.
          "mode"            = "non-blocking"
          "max-buffer-size" = var.awslogs_max_buffer_size
        }
      }
      # The image has no shell, so CMD (not CMD-SHELL) runs the binary's own probe.
      healthCheck = {
        command     = ["CMD", "/ecs-emf-exporter", "healthcheck"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
    },
    # A null hard limit is left out rather than rendered as null.
    { for key, value in { memory = var.memory } : key => value if value != null },
    # Restarts in place after a crash or an OOM kill (not after its own clean exit 0); disabled,
    # the key is left out entirely.
    { for key, value in {
      restartPolicy = {
        enabled              = true
        ignoredExitCodes     = var.restart_policy.ignored_exit_codes
        restartAttemptPeriod = var.restart_policy.restart_attempt_period
      }
    } : key => value if var.restart_policy.enabled },
  )
}
