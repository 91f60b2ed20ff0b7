# ecs-emf-exporter as a DAEMON service on an existing EC2 cluster (one exporter per container
# instance, covering every task there), and a dashboard with alarms for one of the cluster's
# services. Nothing in the service's task definition changes.

locals {
  # arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME
  cluster_name = element(split("/", var.cluster_arn), 1)
}

module "exporter_daemon" {
  source = "../../modules/ecs-emf-exporter-daemon"

  cluster_arn    = var.cluster_arn
  image          = var.exporter_image
  log_group_name = "/ecs/${local.cluster_name}/ecs-emf-exporter-daemon"
  name           = "ecs-emf-exporter-${local.cluster_name}"

  # A static dimension needs no permission.
  static_dimensions = { env = var.environment }
  # Task tags as dimensions (none by default): the daemon reads them with ecs:DescribeTasks, so the
  # module requires tags_from_api = true with tag_dimensions, and then grants the task role
  # ecs:DescribeTasks and ecs:ListTagsForResource on this cluster's tasks.
  tag_dimensions = keys(var.tag_dimension_values)
  tags_from_api  = length(var.tag_dimension_values) > 0
  # ServiceName from ecs:DescribeTasks (service_from_api, on by default): the same dimension sets
  # as a sidecar's, so the dashboard below is the one a sidecar would get.
}

module "dashboard" {
  source = "../../modules/ecs-emf-exporter-dashboard"

  metric_config  = module.exporter_daemon.metric_config
  dashboard_name = "${local.cluster_name}-${var.service_name}"
  # ClusterName and ServiceName from the first dimension set, then the tag dimensions with the
  # values the service's tasks carry; "env" is static and brings its own value. (With
  # service_from_api = false the set would name TaskDefinitionFamily instead.)
  dimension_values = merge({
    ClusterName = local.cluster_name
    ServiceName = var.service_name
  }, var.tag_dimension_values)
  container_names = var.container_names
  # No restart alarms and no widget that would stay empty: metric_config excludes what daemon
  # mode never publishes (ContainerRestarts, ephemeral storage, image pull times, clock error
  # bound, the exporter's own metrics).
  min_tasks_reporting = var.min_tasks_reporting
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
}
