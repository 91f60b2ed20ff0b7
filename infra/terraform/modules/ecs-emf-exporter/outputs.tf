output "container_definition" {
  description = "The sidecar's container definition: container_definitions = jsonencode([local.app, module.exporter.container_definition])."
  value       = local.container_definition
}

output "volume_name" {
  description = "Name of the task volume (no host: ephemeral) the read-only sidecar mounts on /tmp; null when the root is writable."
  value       = var.readonly_root_filesystem ? local.tmp_volume_name : null
}

output "task_role_policy_json" {
  description = "Policy for the task role; null when the settings need no permission (output stdout/agent without tags_from_api)."
  value       = local.task_role_policy_json
}

output "execution_role_policy_json" {
  description = "Policy for the execution role: the awslogs driver writing to the sidecar's log group."
  value       = local.execution_role_policy_json
}

output "log_group_name" {
  description = "The sidecar's log group (where CloudWatch extracts EMF with output = stdout)."
  value       = local.log_group_name
}

output "cloudwatch_log_group_arn" {
  description = "ARN of the log group this module created (without the \":*\" suffix); null when create_cloudwatch_log_group is false."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}

output "service_container_definition" {
  description = "The sidecar as one entry of the container_definitions map of terraform-aws-modules/ecs//modules/service (6.x, camelCase keys): container_definitions = { (module.exporter.container_name) = module.exporter.service_container_definition }. Add volume = { (module.exporter.volume_name) = {} } when volume_name is not null."
  value       = local.service_container_definition
}

output "container_name" {
  description = "Name of the sidecar container (the container_name input), e.g. as the key of the service module's container_definitions map."
  value       = var.container_name
}

output "metric_config" {
  description = "What the exporter publishes, for the ecs-emf-exporter-dashboard module."
  value = {
    namespace            = var.namespace
    task_dimensions      = var.dimensions
    container_dimensions = var.container_dimensions
    tag_dimensions       = distinct(var.tag_dimensions)
    static_dimensions    = var.static_dimensions
    # The binary publishes container metrics unless told otherwise.
    container_metrics = coalesce(var.container_metrics, true)
    self_metrics      = var.self_metrics
    container_name    = var.container_name
    # ECS_EMF_METRICS / ECS_EMF_EXCLUDE_METRICS: the dashboard leaves out what they filter out.
    metrics         = var.metrics
    exclude_metrics = var.exclude_metrics
    # ECS_EMF_EXCLUDE_CONTAINERS: the dashboard refuses an exit alarm on a container it leaves out.
    exclude_containers = var.exclude_containers
    # ECS_EMF_INTERVAL in seconds: the no-data alarm's period is at least this, rounded up to a minute.
    interval_seconds = local.interval_seconds
    # Whether the sidecar has an enabled restartPolicy (ECS then reports its RestartCount).
    restart_policy_enabled = var.restart_policy.enabled
  }
}
