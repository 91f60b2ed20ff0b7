output "service_name" {
  description = "The ECS service."
  value       = module.service.name
}

output "task_definition_arn" {
  description = "The task definition the service module created."
  value       = module.service.task_definition_arn
}

output "dashboard_name" {
  description = "The dashboard."
  value       = module.dashboard.dashboard_name
}

output "exporter_log_group_arn" {
  description = "The sidecar's log group (created by the exporter module), where the EMF lines land."
  value       = module.exporter.cloudwatch_log_group_arn
}
