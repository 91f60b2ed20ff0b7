output "dashboard_name" {
  description = "Name of the dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_body" {
  description = "The dashboard JSON, as sent to CloudWatch."
  value       = aws_cloudwatch_dashboard.this.dashboard_body
}

output "alarm_arns" {
  description = "ARNs of the alarms, by alarm name."
  value = {
    for alarm in concat(
      aws_cloudwatch_metric_alarm.cpu_utilization_high,
      aws_cloudwatch_metric_alarm.memory_utilization_high,
      aws_cloudwatch_metric_alarm.no_data,
      values(aws_cloudwatch_metric_alarm.container_restarts),
      values(aws_cloudwatch_metric_alarm.container_exits),
      aws_cloudwatch_metric_alarm.exporter_errors,
      aws_cloudwatch_metric_alarm.tasks_reporting_low,
    ) : alarm.alarm_name => alarm.arn
  }
}
