output "daemon_service_name" {
  description = "The DAEMON service running the exporter on every container instance."
  value       = module.exporter_daemon.service_name
}

output "task_definition_arn" {
  description = "The daemon's task definition."
  value       = module.exporter_daemon.task_definition_arn
}

output "dashboard_name" {
  description = "The service's dashboard."
  value       = module.dashboard.dashboard_name
}

output "exporter_log_group" {
  description = "Where the EMF lines of every task land (and CloudWatch turns them into metrics)."
  value       = module.exporter_daemon.log_group_name
}
