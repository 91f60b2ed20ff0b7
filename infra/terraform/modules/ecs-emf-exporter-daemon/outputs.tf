output "service_name" {
  description = "Name of the DAEMON ECS service."
  value       = aws_ecs_service.this.name
}

output "service_arn" {
  description = "ARN of the DAEMON ECS service."
  value       = aws_ecs_service.this.id
}

output "task_definition_arn" {
  description = "ARN (with revision) of the daemon's task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "task_definition_family" {
  description = "Family of the daemon's task definition (the name input)."
  value       = aws_ecs_task_definition.this.family
}

output "container_definition" {
  description = "The daemon's container definition, as rendered into the task definition."
  value       = local.container_definition
}

output "container_name" {
  description = "Name of the daemon's container (the container_name input)."
  value       = var.container_name
}

output "cluster_arn" {
  description = "ARN of the cluster the service runs on (given, or built from cluster_name)."
  value       = local.cluster_arn
}

output "task_role_arn" {
  description = "ARN of the daemon's task role."
  value       = aws_iam_role.task.arn
}

output "task_role_name" {
  description = "Name of the daemon's task role (to attach more policies)."
  value       = aws_iam_role.task.name
}

output "task_role_policy_json" {
  description = "The task role's inline policy; null when the settings need none (output stdout/agent with service_from_api and tags_from_api false)."
  value       = local.task_role_policy_json
}

output "execution_role_arn" {
  description = "ARN of the daemon's execution role."
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  description = "Name of the daemon's execution role."
  value       = aws_iam_role.execution.name
}

output "execution_role_policy_json" {
  description = "The execution role's inline policy: the awslogs driver writing to the daemon's log group."
  value       = module.sidecar.execution_role_policy_json
}

output "log_group_name" {
  description = "The daemon's log group (where CloudWatch extracts EMF with output = stdout)."
  value       = module.sidecar.log_group_name
}

output "cloudwatch_log_group_arn" {
  description = "ARN of the log group this module created (without the \":*\" suffix); null when create_cloudwatch_log_group is false."
  value       = module.sidecar.cloudwatch_log_group_arn
}

output "metric_config" {
  description = "What the daemon publishes, for the ecs-emf-exporter-dashboard module: the sidecar module's metric_config (tag_dimensions among it) with the dimension sets as published (TaskDefinitionFamily for ServiceName when service_from_api is false), self_metrics false, no restart policy, and exclude_metrics plus the metrics daemon mode never publishes (EphemeralStorageUtilized, EphemeralStorageReserved, ImagePullTime, ClockErrorBound, ContainerRestarts, ExporterErrors, ExporterDroppedDatapoints, ExporterCycleDuration)."
  value = merge(module.sidecar.metric_config, {
    task_dimensions        = local.published_task_sets
    container_dimensions   = local.published_container_sets
    self_metrics           = false
    restart_policy_enabled = false
    exclude_metrics        = distinct(concat(coalesce(var.exclude_metrics, []), local.never_published_metrics))
  })
}
