# ---------------------------------------------------------------------------------------------
# Cluster, service and task
# ---------------------------------------------------------------------------------------------

variable "cluster_arn" {
  description = "ARN of the ECS cluster whose EC2 container instances each run one daemon task. Give this or cluster_name."
  type        = string
  default     = null

  validation {
    # An ARN only known after apply passes here; it is checked again when known.
    condition     = var.cluster_arn == null || can(regex("^arn:[^:]+:ecs:[^:]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN (arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME)."
  }
}

variable "cluster_name" {
  description = "Name of the ECS cluster, in the provider's account and region (its ARN is built with aws_caller_identity, an STS call at plan time). Give this or cluster_arn."
  type        = string
  default     = null

  validation {
    condition     = var.cluster_name == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be 1-255 letters, digits, '_' or '-' (an ECS cluster name, not its ARN: give an ARN as cluster_arn)."
  }

  validation {
    condition     = (var.cluster_arn == null) != (var.cluster_name == null)
    error_message = "Give exactly one of cluster_arn and cluster_name."
  }
}

variable "name" {
  description = "Name of the ECS service and of the task definition family; also the start of the IAM role names (name_prefix, first 32 characters)."
  type        = string
  default     = "ecs-emf-exporter"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.name))
    error_message = "name must be 1-255 letters, digits, '_' or '-' (the rules for an ECS service name and a task definition family)."
  }
}

variable "placement_constraints" {
  description = "memberOf expressions limiting the instances that run the daemon (cluster query language), at most 10. The default keeps it off Windows instances: the image is Linux."
  type        = list(string)
  default     = ["attribute:ecs.os-type == linux"]
  nullable    = false

  validation {
    condition     = length(var.placement_constraints) <= 10 && alltrue([for expression in var.placement_constraints : trimspace(expression) != ""])
    error_message = "placement_constraints may hold at most 10 expressions (the ECS limit per service), none of them empty."
  }
}

variable "deployment_minimum_healthy_percent" {
  description = "The service's minimum healthy percent during a deployment. 0 (ECS's default for a daemon service): each instance's task is stopped, then replaced."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = floor(var.deployment_minimum_healthy_percent) == var.deployment_minimum_healthy_percent && var.deployment_minimum_healthy_percent >= 0 && var.deployment_minimum_healthy_percent <= 100
    error_message = "deployment_minimum_healthy_percent must be a whole number from 0 to 100 (a daemon service runs one task per instance, so its maximum percent is 100)."
  }
}

variable "iam_role_permissions_boundary" {
  description = "ARN of a policy set as the permissions boundary of the task and execution roles; null sets none."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary == null || can(regex("^arn:[^:]+:iam::([0-9]{12}|aws):policy/.+$", var.iam_role_permissions_boundary))
    error_message = "iam_role_permissions_boundary must be an IAM policy ARN (arn:PARTITION:iam::ACCOUNT:policy/NAME)."
  }
}

# ---------------------------------------------------------------------------------------------
# Container
# ---------------------------------------------------------------------------------------------

variable "image" {
  description = "Exporter image, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecs-emf-exporter:0.1.0. On EC2 the container instance role pulls it."
  type        = string
  nullable    = false
}

variable "container_name" {
  description = "Name of the daemon's container in its task definition."
  type        = string
  default     = "ecs-emf-exporter"
  nullable    = false
}

variable "cpu" {
  description = "CPU units reserved for the daemon on each instance."
  type        = number
  default     = 32
  nullable    = false
}

variable "memory" {
  description = "Hard memory limit of the daemon, MiB (at least 6). It holds every task of its instance: raise it for instances with many tasks (docs/daemon.md, scripts/measure-daemon.sh)."
  type        = number
  default     = 64
  nullable    = false

  validation {
    condition     = floor(var.memory) == var.memory && var.memory >= 6
    error_message = "memory must be a whole number of MiB, at least 6 (the smallest hard limit ECS accepts)."
  }
}

variable "memory_reservation" {
  description = "Soft memory limit of the daemon, MiB; null leaves it out (ECS then reserves the hard limit)."
  type        = number
  default     = null

  validation {
    condition     = var.memory_reservation == null || try(floor(var.memory_reservation) == var.memory_reservation && var.memory_reservation >= 6 && var.memory_reservation <= var.memory, false)
    error_message = "memory_reservation must be null or a whole number of MiB from 6 to memory (the hard limit)."
  }
}

variable "no_new_privileges" {
  description = "Render dockerSecurityOptions [\"no-new-privileges\"] (Docker's --security-opt no-new-privileges): nothing the daemon runs can gain privileges through setuid binaries or file capabilities. false leaves it out."
  type        = bool
  default     = true
  nullable    = false
}

variable "extra_environment" {
  description = "More environment variables for the daemon (e.g. ECS_EMF_BUFFER_BYTES). Must not set a variable the module renders from an input or for its mounts, nor one daemon mode refuses."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(setintersection(keys(var.extra_environment), keys(local.refused_environment))) == 0
    error_message = "extra_environment sets ${join(", ", sort(setintersection(keys(var.extra_environment), keys(local.refused_environment))))}, which daemon mode refuses at start-up (${join("; ", [for name in sort(setintersection(keys(var.extra_environment), keys(local.refused_environment))) : "${name}: ${local.refused_environment[name]}"])}). Remove them from extra_environment."
  }

  validation {
    condition     = length(setintersection(keys(var.extra_environment), keys(local.daemon_managed_environment))) == 0
    error_message = "extra_environment sets ${join(", ", sort(setintersection(keys(var.extra_environment), keys(local.daemon_managed_environment))))}, which the module manages (${join("; ", [for name in sort(setintersection(keys(var.extra_environment), keys(local.daemon_managed_environment))) : "${name}: ${local.daemon_managed_environment[name]}"])})."
  }
}

# ---------------------------------------------------------------------------------------------
# Logs (awslogs driver). With output = "stdout" this log group is where CloudWatch extracts
# the EMF metrics of every task on the instance. Passed to the sidecar module, which creates the
# group and validates these inputs.
# ---------------------------------------------------------------------------------------------

variable "log_group_name" {
  description = "CloudWatch Logs group of the daemon's awslogs driver."
  type        = string
  nullable    = false
}

variable "create_cloudwatch_log_group" {
  description = "Create the log group. When false, the group must exist and log_group_arn is required."
  type        = bool
  default     = true
  nullable    = false
}

variable "log_group_arn" {
  description = "ARN of an existing log group (create_cloudwatch_log_group = false), for the execution role policy."
  type        = string
  default     = null
}

variable "cloudwatch_log_group_retention_in_days" {
  description = "Retention of the created log group. EMF lines are only read once by CloudWatch, so short is fine."
  type        = number
  default     = 30
  nullable    = false
}

variable "cloudwatch_log_group_kms_key_id" {
  description = "KMS key ARN to encrypt the created log group (the key policy must allow CloudWatch Logs)."
  type        = string
  default     = null
}

variable "cloudwatch_log_group_class" {
  description = "Log class of the created log group: STANDARD or INFREQUENT_ACCESS. INFREQUENT_ACCESS is refused when EMF reaches CloudWatch through this group (output = stdout, or output = agent writing to this group): that class extracts no metrics from EMF."
  type        = string
  default     = "STANDARD"
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource the module creates (log group, IAM roles, task definition, service; the service propagates them to its tasks). Provider default_tags still apply."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "awslogs_max_buffer_size" {
  description = "awslogs max-buffer-size in non-blocking mode: lines kept while CloudWatch Logs is slow. Every task of the instance goes through this one stream with output = stdout."
  type        = string
  default     = "4m"
  nullable    = false
}

variable "region" {
  description = "Region for awslogs-region; null uses the provider's region."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Exporter settings, as in the sidecar module (same names, defaults and plan-time checks: the
# sidecar module validates them). Always rendered: output, namespace, interval, dimensions,
# container_dimensions, plus the daemon's ECS_EMF_CGROUP_ROOT, ECS_EMF_SERVICE_FROM_API and
# ECS_EMF_HEALTH_FILE. The rest only when set (ECS_EMF_TAGS_FROM_API only when true).
# ---------------------------------------------------------------------------------------------

variable "service_from_api" {
  description = "ECS_EMF_SERVICE_FROM_API: read each task's ServiceName with ecs:DescribeTasks (granted to the task role on the cluster's tasks only). false: the binary publishes TaskDefinitionFamily where a dimension set names ServiceName (metric_config says so); no API call and no statement unless tags_from_api is true."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags_from_api" {
  description = "ECS_EMF_TAGS_FROM_API: read each task's tags with ecs:DescribeTasks (include=TAGS), the lookup service_from_api uses, and grant the task role ecs:DescribeTasks and ecs:ListTagsForResource on the cluster's tasks only. Required by tag_dimensions (not turned on for you). false: no tags, no statement for them."
  type        = bool
  default     = false
  nullable    = false
}

variable "tag_dimensions" {
  description = "ECS_EMF_TAG_DIMENSIONS: task tag keys appended to every dimension set (task tags only, no container instance tags). Needs tags_from_api = true: the daemon refuses to start without it. Pass their values to the dashboard module's dimension_values."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.tag_dimensions) == 0 || var.tags_from_api
    error_message = "tag_dimensions (ECS_EMF_TAG_DIMENSIONS) needs tags_from_api = true in daemon mode: there is no /taskWithTags for other tasks, so the daemon reads task tags only with ecs:DescribeTasks (include=TAGS), and it refuses to start with tag dimensions and without ECS_EMF_TAGS_FROM_API=true. Set tags_from_api = true (it grants the task role ecs:DescribeTasks and ecs:ListTagsForResource on the cluster's tasks), or leave tag_dimensions out."
  }
}

variable "tags_refresh" {
  description = "ECS_EMF_TAGS_REFRESH: how often each task is described again for its tags (and its ContainerInstanceArn and AgentVersion properties taken again), 10s..24h; null keeps the binary's 5m."
  type        = string
  default     = null
}

variable "output" {
  description = "ECS_EMF_OUTPUT: stdout (EMF through the log driver, no IAM), agent (CloudWatch agent on the instance) or cloudwatch (PutMetricData)."
  type        = string
  default     = "stdout"
  nullable    = false
}

variable "namespace" {
  description = "ECS_EMF_NAMESPACE: CloudWatch namespace of every metric. Use another one than a sidecar publishing the same tasks (docs/daemon.md)."
  type        = string
  default     = "ECS/TaskMetrics"
  nullable    = false
}

variable "interval" {
  description = "ECS_EMF_INTERVAL: how often the daemon publishes, 1s..1h (60s, 90s, 5m, 1h)."
  type        = string
  default     = "60s"
  nullable    = false
}

variable "dimensions" {
  description = "ECS_EMF_DIMENSIONS: task-level dimension sets, e.g. [[\"ClusterName\", \"ServiceName\"], [\"ClusterName\"]]. The dashboard uses the first."
  type        = list(list(string))
  default     = [["ClusterName", "ServiceName"]]
  nullable    = false
}

variable "container_dimensions" {
  description = "ECS_EMF_CONTAINER_DIMENSIONS: container-level dimension sets. The dashboard uses the first."
  type        = list(list(string))
  default     = [["ClusterName", "ServiceName", "ContainerName"]]
  nullable    = false
}

variable "static_dimensions" {
  description = "ECS_EMF_STATIC_DIMENSIONS: fixed name = value dimensions appended to every set, e.g. { env = \"prod\" }."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "high_resolution" {
  description = "ECS_EMF_HIGH_RESOLUTION: publish with 1-second storage resolution."
  type        = bool
  default     = null
}

variable "metrics" {
  description = "ECS_EMF_METRICS: metric names or * globs to keep (null = all). Also passed to the dashboard module through metric_config."
  type        = list(string)
  default     = null
}

variable "exclude_metrics" {
  description = "ECS_EMF_EXCLUDE_METRICS: metric names or * globs to drop (null = none). Also passed to the dashboard module through metric_config."
  type        = list(string)
  default     = null
}

variable "container_metrics" {
  description = "ECS_EMF_CONTAINER_METRICS: false publishes task-level metrics only (the binary defaults to true)."
  type        = bool
  default     = null
}

variable "exclude_containers" {
  description = "ECS_EMF_EXCLUDE_CONTAINERS: container names or globs left out, in every task on the instance (e.g. the daemon's own container_name)."
  type        = list(string)
  default     = null
}

variable "agent_endpoint" {
  description = "AWS_EMF_AGENT_ENDPOINT (output = agent): tcp://HOST:PORT or udp://HOST:PORT. With host networking 127.0.0.1 is the instance."
  type        = string
  default     = null
}

variable "agent_log_group_name" {
  description = "AWS_EMF_LOG_GROUP_NAME (output = agent): log group the agent writes EMF to."
  type        = string
  default     = null
}

variable "agent_log_stream_name" {
  description = "AWS_EMF_LOG_STREAM_NAME (output = agent): log stream the agent writes EMF to."
  type        = string
  default     = null
}

variable "max_line_bytes" {
  description = "ECS_EMF_MAX_LINE_BYTES: longest EMF line on stdout, 1024..1048576."
  type        = number
  default     = null
}

variable "log_format" {
  description = "ECS_EMF_LOG_FORMAT: text or json (the exporter's own logs, on stderr)."
  type        = string
  default     = null
}

variable "log_level" {
  description = "ECS_EMF_LOG_LEVEL: error, warn, info, debug or trace."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# The sidecar setting daemon mode refuses (src/cli/daemon.rs exits 2 with it on). Declared only so
# that a configuration written for the sidecar module fails the plan with the reason, instead of
# Terraform's bare "unsupported argument" or a daemon that never starts. Its "off" values
# (null, false) are what the daemon does anyway and pass.
# ---------------------------------------------------------------------------------------------

variable "self_metrics" {
  description = "Refused: daemon mode does not publish the exporter's own metrics (ECS_EMF_SELF_METRICS); metric_config says so to the dashboard module."
  type        = any
  default     = null

  validation {
    condition     = var.self_metrics == null || var.self_metrics == false
    error_message = "self_metrics (ECS_EMF_SELF_METRICS) is not available in daemon mode: the exporter's own metrics (ExporterErrors, ...) are per task in the sidecar, and the daemon refuses to start with them on. Leave it out; the dashboard module then leaves out the exporter widget and alarm."
  }
}
