# A dashboard line with a missing dimension value would silently graph nothing: fail at plan.

mock_provider "aws" {}

variables {
  dashboard_name = "orders"
  region         = "eu-west-1"
  metric_config = {
    namespace            = "ECS/TaskMetrics"
    task_dimensions      = [["ClusterName", "ServiceName"]]
    container_dimensions = [["ClusterName", "ServiceName", "ContainerName"]]
    tag_dimensions       = ["team"]
    static_dimensions    = { env = "prod" }
    container_metrics    = true
    self_metrics         = true
    container_name       = "ecs-emf-exporter"
  }
  dimension_values = { ClusterName = "main", ServiceName = "orders-api", team = "payments" }
  container_names  = ["api"]
}

run "all_values_given" {
  command = plan
}

run "missing_service_name" {
  command = plan
  variables { dimension_values = { ClusterName = "main", team = "payments" } }
  expect_failures = [var.dimension_values]
}

run "missing_tag_value" {
  command = plan
  variables { dimension_values = { ClusterName = "main", ServiceName = "orders-api" } }
  expect_failures = [var.dimension_values]
}

run "no_container_names_with_container_metrics" {
  command = plan
  variables { container_names = [] }
  expect_failures = [var.container_names]
}

run "period_not_supported" {
  command = plan
  variables { period = 45 }
  expect_failures = [var.period]
}
