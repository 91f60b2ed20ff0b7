# The ecs-emf-exporter sidecar in a service built with terraform-aws-modules/ecs 6.x
# (terraform-aws-modules/ecs/aws//modules/service), plus this repository's dashboard and alarms.
# The service module's container_definitions map takes the sidecar as
# module.exporter.service_container_definition (camelCase ECS keys, as 6.x expects).

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights is what this sidecar replaces at a fraction of the cost; enable it too if you want both.
  name = var.name
  tags = var.tags
}

module "exporter" {
  source = "../../modules/ecs-emf-exporter"

  image          = var.exporter_image
  log_group_name = "/ecs/${var.name}/ecs-emf-exporter"

  static_dimensions = { env = var.environment }
  tags              = var.tags
}

locals {
  # A demo app in the service module's (6.x) own container definition keys.
  api = {
    image                  = var.app_image
    essential              = true
    user                   = "65534:65534"
    readonlyRootFilesystem = true
    cpu                    = 64
    memoryReservation      = 128
    command                = ["httpd", "-f", "-v", "-p", "8080"]
    portMappings           = [{ name = "http", containerPort = 8080, protocol = "tcp" }]
    # Stated, not left to the submodule's default ({ enabled = true }): the dashboard module reads
    # restart policies from these definitions to decide which containers get a restart alarm.
    restartPolicy = { enabled = true, ignoredExitCodes = [0], restartAttemptPeriod = 60 }
    # The submodule creates the app's log group (/aws/ecs/SERVICE/api).
    cloudwatch_log_group_retention_in_days = 30
  }

  container_definitions = {
    api                              = local.api
    (module.exporter.container_name) = module.exporter.service_container_definition
  }
}

module "service" {
  #checkov:skip=CKV_TF_1:A registry module, pinned by version as its README shows; pin an exact version (or a git source at a commit) in your own code.
  source  = "terraform-aws-modules/ecs/aws//modules/service"
  version = "~> 6.0"

  name        = var.name
  cluster_arn = aws_ecs_cluster.this.arn
  cpu         = 256
  memory      = 512

  container_definitions = local.container_definitions
  # The read-only sidecar's writable /tmp: a task volume without host (none with a writable root).
  volume = { for name in compact([module.exporter.volume_name]) : name => {} }

  subnet_ids            = var.subnet_ids
  create_security_group = false
  security_group_ids    = var.security_group_ids

  tags = var.tags
}

# Only when the exporter's settings need a task role permission (output = "cloudwatch" or
# tags_from_api); null otherwise. The service module's execution role already has
# logs:CreateLogStream and logs:PutLogEvents for the awslogs driver.
resource "aws_iam_role_policy" "exporter_task" {
  count = module.exporter.task_role_policy_json == null ? 0 : 1

  name   = "ecs-emf-exporter"
  role   = module.service.tasks_iam_role_name
  policy = module.exporter.task_role_policy_json
}

module "dashboard" {
  source = "../../modules/ecs-emf-exporter-dashboard"

  metric_config  = module.exporter.metric_config
  dashboard_name = var.name
  dimension_values = {
    ClusterName = aws_ecs_cluster.this.name
    ServiceName = module.service.name
  }
  container_names = ["api"]
  # The dashboard module wants a list of definitions with names: the map key is the name.
  task_container_definitions = [for name, definition in local.container_definitions : merge(definition, { name = name })]
  alarm_actions              = var.alarm_topic_arns
  ok_actions                 = var.alarm_topic_arns
  tags                       = var.tags
}
