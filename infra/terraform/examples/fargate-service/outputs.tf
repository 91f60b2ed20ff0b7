output "service_name" {
  value = aws_ecs_service.this.name
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.this.arn
}

output "dashboard_name" {
  value = module.dashboard.dashboard_name
}

output "exporter_log_group" {
  description = "Where the EMF lines land (and CloudWatch turns them into metrics)."
  value       = module.exporter.log_group_name
}
