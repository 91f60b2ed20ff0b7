# The daemon's container definition is the sidecar module's, adapted: the same settings rendering,
# metric catalog, plan-time checks, log group and awslogs options (one copy of all that, kept in
# step with the binary by infra/tests/check_catalogs.py and the sidecar module's tests), then what
# daemon mode needs instead of what a sidecar needs (docs/daemon.md, "What it needs"):
#   - essential, the only container of its task; no restart policy (the DAEMON scheduler replaces
#     a stopped task, and ECS's restart count is not visible to the daemon anyway);
#   - uid 0 to open the host's Docker socket (root:docker 0660), with every capability dropped,
#     no privileged mode, no new privileges, a read-only root;
#   - the `daemon` command; the host's Docker socket and cgroup tree mounted read-only;
#   - the health file on a small tmpfs owned by root: uid 0 without CAP_DAC_OVERRIDE cannot write
#     the image's /tmp (owned by 65532, mode 0755), so the health file moves to that tmpfs;
#   - no ECS_EMF_SELF_METRICS (the binary's default, false, is the only value the daemon takes);
#   - ECS_EMF_TAGS_FROM_API rendered here, not by the sidecar module: the daemon reads task tags
#     with ecs:DescribeTasks (iam.tf grants it), where the sidecar module would grant an
#     unconditioned ecs:ListTagsForResource and require its own cluster_arn.
# tests/container_definition.tftest.hcl pins every key of the result, so a change to the sidecar
# module's rendering shows up here as a failing test.

module "sidecar" {
  source = "../ecs-emf-exporter"

  image              = var.image
  container_name     = var.container_name
  cpu                = var.cpu
  memory             = var.memory
  memory_reservation = coalesce(var.memory_reservation, var.memory) # left out again below when null

  readonly_root_filesystem = true
  restart_policy           = { enabled = false }
  # Refused and managed names are taken out here: their own (daemon) message is the one to see.
  extra_environment = { for name, value in var.extra_environment : name => value if !contains(keys(local.refused_environment), name) && !contains(keys(local.daemon_managed_environment), name) }

  log_group_name                         = var.log_group_name
  create_cloudwatch_log_group            = var.create_cloudwatch_log_group
  log_group_arn                          = var.log_group_arn
  cloudwatch_log_group_retention_in_days = var.cloudwatch_log_group_retention_in_days
  cloudwatch_log_group_kms_key_id        = var.cloudwatch_log_group_kms_key_id
  cloudwatch_log_group_class             = var.cloudwatch_log_group_class
  tags                                   = var.tags
  awslogs_max_buffer_size                = var.awslogs_max_buffer_size
  region                                 = var.region

  output                = var.output
  namespace             = var.namespace
  interval              = var.interval
  dimensions            = var.dimensions
  container_dimensions  = var.container_dimensions
  static_dimensions     = var.static_dimensions
  high_resolution       = var.high_resolution
  metrics               = var.metrics
  exclude_metrics       = var.exclude_metrics
  container_metrics     = var.container_metrics
  exclude_containers    = var.exclude_containers
  agent_endpoint        = var.agent_endpoint
  agent_log_group_name  = var.agent_log_group_name
  agent_log_stream_name = var.agent_log_stream_name
  max_line_bytes        = var.max_line_bytes
  log_format            = var.log_format
  log_level             = var.log_level
  # Validated and rendered (ECS_EMF_TAG_DIMENSIONS, ECS_EMF_TAGS_REFRESH) by the sidecar module,
  # and tag_dimensions reaches metric_config from there. tags_from_api is not passed (above).
  tag_dimensions = var.tag_dimensions
  tags_refresh   = var.tags_refresh

  # What daemon mode refuses: never passed on.
  self_metrics = false
}

locals {
  # Host paths the daemon reads, and where its container sees them.
  docker_socket_path = "/var/run/docker.sock" # the binary's default DOCKER_HOST
  host_cgroup_path   = "/sys/fs/cgroup"
  cgroup_mount_path  = "/host/sys/fs/cgroup" # inside a container /sys/fs/cgroup is its own
  # Task volume names (the CDK construct's too).
  docker_socket_volume_name = "docker-socket"
  cgroup_volume_name        = "host-cgroup"
  # A tmpfs the mount makes root's, at a path the image does not declare as a VOLUME.
  run_directory = "/run/ecs-emf-exporter"
  health_file   = "${local.run_directory}/ecs-emf-exporter.health"

  # Settings daemon mode refuses at start-up (src/cli/daemon.rs), and why.
  refused_environment = {
    ECS_EMF_SELF_METRICS = "daemon mode does not publish the exporter's own metrics"
  }

  # Variables the module renders, or whose defaults its mounts and host network are built for.
  daemon_managed_environment = {
    ECS_EMF_CGROUP_ROOT       = "the module mounts the host's cgroup tree at ${local.cgroup_mount_path} and sets it"
    ECS_EMF_SERVICE_FROM_API  = "use the service_from_api input"
    ECS_EMF_TAGS_FROM_API     = "use the tags_from_api input, which also grants the task role what the tag lookup calls"
    ECS_EMF_TAG_DIMENSIONS    = "use the tag_dimensions input, which reaches metric_config"
    ECS_EMF_TAGS_REFRESH      = "use the tags_refresh input"
    ECS_EMF_HEALTH_FILE       = "the module puts it on a tmpfs at ${local.run_directory}, which uid 0 can write"
    DOCKER_HOST               = "the module mounts the host's Docker socket at ${local.docker_socket_path}, the binary's default"
    ECS_EMF_INTROSPECTION_URI = "the task uses the host network, where the binary's default (http://127.0.0.1:51678) reaches the ECS agent"
  }

  sidecar_definition = module.sidecar.container_definition

  environment_map = merge(
    { for entry in local.sidecar_definition.environment : entry.name => entry.value if entry.name != "ECS_EMF_SELF_METRICS" },
    {
      ECS_EMF_CGROUP_ROOT      = local.cgroup_mount_path
      ECS_EMF_SERVICE_FROM_API = tostring(var.service_from_api)
      ECS_EMF_HEALTH_FILE      = local.health_file
    },
    # Only when on: false is the binary's default, and leaving it out keeps the task definition of
    # a deployment without tags as it was.
    { for name, value in { ECS_EMF_TAGS_FROM_API = "true" } : name => value if var.tags_from_api },
  )

  container_definition = merge(
    # name, image, readonlyRootFilesystem (true), cpu, memory, memoryReservation, healthCheck and
    # logConfiguration as the sidecar module renders them (no restartPolicy: disabled above).
    { for key, value in local.sidecar_definition : key => value if !(key == "memoryReservation" && var.memory_reservation == null) },
    {
      essential   = true
      command     = ["daemon"]
      user        = "0"
      privileged  = false
      environment = [for name in sort(keys(local.environment_map)) : { name = name, value = local.environment_map[name] }]
      mountPoints = [
        { sourceVolume = local.docker_socket_volume_name, containerPath = local.docker_socket_path, readOnly = true },
        { sourceVolume = local.cgroup_volume_name, containerPath = local.cgroup_mount_path, readOnly = true },
      ]
      linuxParameters = {
        # Root opens the socket and writes its tmpfs as their owner, and reads the cgroup tree:
        # no capability is needed for any of it.
        capabilities = { drop = ["ALL"] }
        tmpfs        = [{ containerPath = local.run_directory, size = 1, mountOptions = ["rw", "noexec", "nosuid", "nodev"] }]
      }
      logConfiguration = merge(local.sidecar_definition.logConfiguration, {
        options = merge(local.sidecar_definition.logConfiguration.options, { "awslogs-stream-prefix" = "ecs-emf-exporter-daemon" })
      })
    },
    # dockerSecurityOptions is where ECS takes no-new-privileges (linuxParameters has no field for it).
    { for key, value in { dockerSecurityOptions = ["no-new-privileges"] } : key => value if var.no_new_privileges },
  )

  # Where a set names ServiceName and no service is known (service_from_api = false), the binary
  # publishes TaskDefinitionFamily instead, each name once and each set once
  # (src/pipeline/dimensions.rs, name_sets). metric_config gives the dashboard what is published.
  published_task_sets = var.service_from_api ? var.dimensions : distinct([for set in var.dimensions :
  distinct([for name in set : name == "ServiceName" ? "TaskDefinitionFamily" : name])])
  published_container_sets = var.service_from_api ? var.container_dimensions : distinct([for set in var.container_dimensions :
  distinct([for name in set : name == "ServiceName" ? "TaskDefinitionFamily" : name])])

  # Catalog metrics daemon mode never publishes, whatever the settings: those
  # `ecs-emf-exporter metrics --json --daemon` lists as `published: false` (docs/daemon.md, "What
  # daemon mode cannot know"). The ephemeral storage figures and ClockErrorBound are Fargate's
  # alone; ECS's restart count and the image pull times are in neither the introspection API nor
  # Docker's; the exporter's own metrics are per task in the sidecar (self_metrics is off anyway).
  # Told to the dashboard module as excluded, so it draws no widget that would stay empty and
  # creates no alarm that could never fire (tests/dashboard.tftest.hcl).
  never_published_metrics = [
    "EphemeralStorageUtilized", "EphemeralStorageReserved", "ImagePullTime", "ClockErrorBound",
    "ContainerRestarts", "ExporterErrors", "ExporterDroppedDatapoints", "ExporterCycleDuration",
  ]
}
