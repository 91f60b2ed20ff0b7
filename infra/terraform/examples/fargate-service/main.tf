# A Fargate service of two app containers plus the ecs-emf-exporter sidecar, its dashboard and
# alarms. Tags reach the exporter through the ECS API (Fargate has no /taskWithTags).

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights is what this sidecar replaces at a fraction of the cost; enable it too if you want both.
  name = var.name
}

resource "aws_cloudwatch_log_group" "app" {
  #checkov:skip=CKV_AWS_338:Example app logs; 30 days keeps the example cheap. Set what your log policy requires.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with AWS-owned keys; a customer managed key (and its key policy) is left out to keep the example small.
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

module "exporter" {
  source = "../../modules/ecs-emf-exporter"

  image          = var.exporter_image
  log_group_name = "/ecs/${var.name}/ecs-emf-exporter"

  tag_dimensions    = ["team"]
  static_dimensions = { env = var.environment }
  tags_from_api     = true
  cluster_arn       = aws_ecs_cluster.this.arn
}

module "dashboard" {
  source = "../../modules/ecs-emf-exporter-dashboard"

  metric_config  = module.exporter.metric_config
  dashboard_name = var.name
  # ClusterName and ServiceName from the first dimension set, "team" from tag_dimensions;
  # "env" is static and brings its own value.
  dimension_values = {
    ClusterName = aws_ecs_cluster.this.name
    ServiceName = aws_ecs_service.this.name
    team        = var.team
  }
  # Graph lines for the app containers.
  container_names = keys(local.app_containers)
  # Restart alarms for every container whose definition has an enabled restartPolicy: here api,
  # worker and the sidecar itself (restart_alarm_containers = null, the default).
  task_container_definitions = local.container_definitions
  # An alarm on every exit of api (found STOPPED, or restarted): ContainerExits Sum >= 1 in one
  # period; missing data is notBreaching, since no exit means no datapoint.
  exit_alarm_containers = ["api"]
  # "Fewer than N tasks reporting" (metric math over RunningContainerCount samples, no extra
  # custom metric): here the service's desired count.
  min_tasks_reporting = aws_ecs_service.this.desired_count
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
}
