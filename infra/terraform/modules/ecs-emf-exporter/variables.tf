# ---------------------------------------------------------------------------------------------
# Container
# ---------------------------------------------------------------------------------------------

variable "image" {
  description = "Exporter image, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecs-emf-exporter:0.1.0."
  type        = string
  nullable    = false
}

variable "container_name" {
  description = "Name of the sidecar container in the task definition."
  type        = string
  default     = "ecs-emf-exporter"
  nullable    = false
}

variable "cpu" {
  description = "CPU units reserved for the sidecar."
  type        = number
  default     = 16
  nullable    = false
}

variable "memory_reservation" {
  description = "Soft memory limit of the sidecar, MiB."
  type        = number
  default     = 32
  nullable    = false
}

variable "memory" {
  description = "Hard memory limit of the sidecar, MiB; null leaves it out of the container definition."
  type        = number
  default     = 64

  validation {
    condition     = var.memory == null || try(var.memory >= var.memory_reservation, false)
    error_message = "memory (the hard limit) must be at least memory_reservation."
  }
}

variable "readonly_root_filesystem" {
  description = "Run with a read-only root file system; /tmp then comes from a task volume (output volume_name)."
  type        = bool
  default     = true
  nullable    = false
}

variable "extra_environment" {
  description = "More environment variables for the sidecar (e.g. ECS_EMF_BUFFER_BYTES). Must not set a variable the module renders from an input."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(setintersection(keys(var.extra_environment), local.managed_environment_names)) == 0
    error_message = "extra_environment sets ${join(", ", setintersection(keys(var.extra_environment), local.managed_environment_names))}; use the module input of that name instead."
  }
}

variable "restart_policy" {
  description = <<-EOT
    ECS restart policy of the sidecar (the container definition's restartPolicy); on by default.
    ignored_exit_codes [0]: exit 0 is the exporter's own clean stop after SIGTERM/SIGINT (stopped
    on purpose); every other exit (a crash, 137 from an OOM kill at the memory limit) is restarted
    in place, and counted as ContainerRestarts. restart_attempt_period 60, the smallest ECS allows
    (60..1800 s): ECS only restarts a container that ran that long, so a sidecar that ran a minute
    comes back, and one that fails at once (exit 2, bad settings) is not restarted in a loop; the
    dashboard module's no-data alarm reports it. ECS does not restart containers of a stopping task.
    enabled = false renders no restartPolicy (and ECS then reports no RestartCount for the sidecar).
  EOT
  type = object({
    enabled                = optional(bool, true)
    ignored_exit_codes     = optional(list(number), [0])
    restart_attempt_period = optional(number, 60)
  })
  default  = {}
  nullable = false

  validation {
    condition     = floor(var.restart_policy.restart_attempt_period) == var.restart_policy.restart_attempt_period && var.restart_policy.restart_attempt_period >= 60 && var.restart_policy.restart_attempt_period <= 1800
    error_message = "restart_policy.restart_attempt_period must be a whole number of seconds from 60 to 1800 (the bounds ECS accepts)."
  }

  validation {
    condition     = length(var.restart_policy.ignored_exit_codes) <= 50
    error_message = "restart_policy.ignored_exit_codes may hold at most 50 exit codes (the ECS limit)."
  }

  validation {
    condition     = alltrue([for code in var.restart_policy.ignored_exit_codes : try(floor(code) == code, false)])
    error_message = "restart_policy.ignored_exit_codes must be whole numbers (exit codes such as 0 or 143)."
  }
}

# ---------------------------------------------------------------------------------------------
# Logs (awslogs driver). With output = "stdout" this log group is where CloudWatch extracts
# the EMF metrics.
# ---------------------------------------------------------------------------------------------

variable "log_group_name" {
  description = "CloudWatch Logs group of the sidecar's awslogs driver."
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

  validation {
    condition     = var.create_cloudwatch_log_group || can(regex("^arn:[^:]+:logs:[^:]+:[0-9]{12}:log-group:.+$", var.log_group_arn))
    error_message = "log_group_arn must be the log group's ARN (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME) when create_cloudwatch_log_group is false."
  }
}

variable "cloudwatch_log_group_retention_in_days" {
  description = "Retention of the created log group. EMF lines are only read once by CloudWatch, so short is fine."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_group_retention_in_days)
    error_message = "cloudwatch_log_group_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653, or 0 for never expire)."
  }
}

variable "cloudwatch_log_group_kms_key_id" {
  description = "KMS key ARN to encrypt the created log group (the key policy must allow CloudWatch Logs)."
  type        = string
  default     = null
}

variable "cloudwatch_log_group_class" {
  description = "Log class of the created log group: STANDARD or INFREQUENT_ACCESS. INFREQUENT_ACCESS is refused when EMF reaches CloudWatch through this group (output = stdout, or output = agent writing to this group): that class extracts no metrics from EMF. Only applies when the module creates the group."
  type        = string
  default     = "STANDARD"
  nullable    = false

  validation {
    condition     = contains(["STANDARD", "INFREQUENT_ACCESS"], var.cloudwatch_log_group_class)
    error_message = "cloudwatch_log_group_class must be STANDARD or INFREQUENT_ACCESS."
  }

  # The Infrequent Access log class does not extract metrics from embedded metric format (EMF)
  # logs; see "Log classes" in the CloudWatch Logs User Guide:
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch_Logs_Log_Classes.html
  # With output = "stdout" every metric is an EMF line in this group, so INFREQUENT_ACCESS would
  # publish nothing, silently (the lines are stored, no metric appears, the no-data alarm fires).
  # output = "cloudwatch" (PutMetricData) does not go through the group, nor does output = "agent"
  # unless the agent is told to write to this same group: there the group only holds the exporter's
  # own logs, and the cheaper class is fine.
  validation {
    condition = !(var.create_cloudwatch_log_group && var.cloudwatch_log_group_class == "INFREQUENT_ACCESS" && (
      var.output == "stdout" || (var.output == "agent" && var.agent_log_group_name == var.log_group_name)
    ))
    error_message = "cloudwatch_log_group_class = \"INFREQUENT_ACCESS\" cannot be used with output = \"${var.output}\": EMF reaches CloudWatch through this log group, and the Infrequent Access log class does not extract metrics from EMF (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch_Logs_Log_Classes.html), so no metric would ever be published. Keep STANDARD, or use output = \"cloudwatch\" (PutMetricData) or an agent writing to another log group."
  }
}

# Renamed in 0.x to the names of terraform-aws-modules/ecs (container-definition submodule). Setting
# an old name fails the plan with the new one, instead of Terraform's bare "unsupported argument".
variable "create_log_group" {
  description = "Renamed: use create_cloudwatch_log_group."
  type        = any
  default     = null

  validation {
    condition     = var.create_log_group == null
    error_message = "create_log_group was renamed to create_cloudwatch_log_group (the terraform-aws-modules/ecs name)."
  }
}

variable "log_retention_in_days" {
  description = "Renamed: use cloudwatch_log_group_retention_in_days."
  type        = any
  default     = null

  validation {
    condition     = var.log_retention_in_days == null
    error_message = "log_retention_in_days was renamed to cloudwatch_log_group_retention_in_days (the terraform-aws-modules/ecs name)."
  }
}

variable "kms_key_id" {
  description = "Renamed: use cloudwatch_log_group_kms_key_id."
  type        = any
  default     = null

  validation {
    condition     = var.kms_key_id == null
    error_message = "kms_key_id was renamed to cloudwatch_log_group_kms_key_id (the terraform-aws-modules/ecs name)."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates (the log group). Provider default_tags still apply."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "awslogs_max_buffer_size" {
  description = "awslogs max-buffer-size in non-blocking mode: lines kept while CloudWatch Logs is slow."
  type        = string
  default     = "4m"
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+[kmg]?$", var.awslogs_max_buffer_size))
    error_message = "awslogs_max_buffer_size must be a size like 4m, 512k or 1g."
  }
}

variable "region" {
  description = "Region for awslogs-region; null uses the provider's region."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Exporter settings. Always rendered: output, namespace, interval, dimensions,
# container_dimensions, self_metrics. The rest is rendered only when set (non-null / non-empty),
# so the binary's own defaults apply otherwise.
# ---------------------------------------------------------------------------------------------

variable "output" {
  description = "ECS_EMF_OUTPUT: stdout (EMF through the log driver, no IAM), agent (CloudWatch agent) or cloudwatch (PutMetricData)."
  type        = string
  default     = "stdout"
  nullable    = false

  validation {
    condition     = contains(["stdout", "agent", "cloudwatch"], var.output)
    error_message = "output must be one of stdout, agent, cloudwatch."
  }
}

variable "namespace" {
  description = "ECS_EMF_NAMESPACE: CloudWatch namespace of every metric."
  type        = string
  default     = "ECS/TaskMetrics"
  nullable    = false

  validation {
    condition     = can(regex("^[ -~]{1,255}$", var.namespace)) && trimspace(var.namespace) != "" && !startswith(var.namespace, "AWS/")
    error_message = "namespace must be 1-255 printable ASCII characters and must not start with \"AWS/\" (reserved for AWS services)."
  }
}

variable "interval" {
  description = "ECS_EMF_INTERVAL: how often the exporter publishes, 1s..1h (60s, 90s, 5m, 1h)."
  type        = string
  default     = "60s"
  nullable    = false

  validation {
    condition = try(
      tonumber(regex(local.duration_pattern, var.interval)[0]) * local.duration_unit_ms[regex(local.duration_pattern, var.interval)[1]] >= 1000 &&
      tonumber(regex(local.duration_pattern, var.interval)[0]) * local.duration_unit_ms[regex(local.duration_pattern, var.interval)[1]] <= 3600000,
      false
    )
    error_message = "interval must be a duration from 1s to 1h, like 60s, 90s, 5m or 1h."
  }
}

variable "self_metrics" {
  description = "ECS_EMF_SELF_METRICS. true here (the binary defaults to false) because the dashboard's exporter widget and exporter-errors alarm need it."
  type        = bool
  default     = true
  nullable    = false
}

variable "dimensions" {
  description = "ECS_EMF_DIMENSIONS: task-level dimension sets, e.g. [[\"ClusterName\", \"ServiceName\"], [\"ClusterName\"]]. The dashboard uses the first."
  type        = list(list(string))
  default     = [["ClusterName", "ServiceName"]]
  nullable    = false

  validation {
    condition     = length(var.dimensions) > 0 && alltrue([for name in flatten(var.dimensions) : contains(local.task_dimension_names, name)])
    error_message = "dimensions needs at least one set, and task sets may only name ${join(", ", local.task_dimension_names)} (ContainerName belongs in container_dimensions)."
  }
}

variable "container_dimensions" {
  description = "ECS_EMF_CONTAINER_DIMENSIONS: container-level dimension sets. The dashboard uses the first."
  type        = list(list(string))
  default     = [["ClusterName", "ServiceName", "ContainerName"]]
  nullable    = false

  validation {
    condition     = length(var.container_dimensions) > 0 && alltrue([for name in flatten(var.container_dimensions) : contains(local.container_dimension_names, name)])
    error_message = "container_dimensions needs at least one set, and may only name ${join(", ", local.container_dimension_names)}."
  }
}

variable "tag_dimensions" {
  description = "ECS_EMF_TAG_DIMENSIONS: task tag keys appended to every dimension set. On Fargate also set tags_from_api."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition = alltrue([for name in var.tag_dimensions :
      can(regex("^[ -~]{1,250}$", name)) && !startswith(name, ":") && !strcontains(name, ",") && !contains(local.reserved_extra_names, name)
    ])
    error_message = "tag_dimensions: each key must be 1-250 printable ASCII characters without ',', not start with ':', and not be a built-in dimension, EMF property or metric name."
  }
}

variable "static_dimensions" {
  description = "ECS_EMF_STATIC_DIMENSIONS: fixed name = value dimensions appended to every set, e.g. { env = \"prod\" }. No IAM needed."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([for name, value in var.static_dimensions :
      can(regex("^[ -~]{1,250}$", name)) && !startswith(name, ":") && !strcontains(name, ",") && !strcontains(name, "=") && !contains(local.reserved_extra_names, name) &&
      trimspace(value) != "" && length(value) <= 1024 && !strcontains(value, ",")
    ])
    error_message = "static_dimensions: names must be 1-250 printable ASCII characters without ',' or '=', not start with ':', and not be a built-in dimension, EMF property or metric name; values must be 1-1024 characters without ','."
  }
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

  # Like the binary, every entry must name (or, as a glob, match) at least one metric. Only `*`
  # is allowed as a wildcard: the dashboard module evaluates the same patterns as regular
  # expressions ("*" -> ".*"), which is exact only for patterns made of [A-Za-z0-9*].
  validation {
    condition = var.metrics == null || try(length(var.metrics) > 0 && alltrue([for pattern in var.metrics :
      can(regex("^[A-Za-z0-9*]+$", pattern)) && anytrue([for name in local.metric_names : can(regex("^${replace(pattern, "*", ".*")}$", name))])
    ]), false)
    error_message = "metrics must be null or a non-empty list of metric names (see `ecs-emf-exporter metrics`) or `*` globs, each made of letters, digits and `*` and matching at least one metric."
  }
}

variable "exclude_metrics" {
  description = "ECS_EMF_EXCLUDE_METRICS: metric names or * globs to drop (null = none). Also passed to the dashboard module through metric_config."
  type        = list(string)
  default     = null

  # Like the binary, every entry must name (or, as a glob, match) at least one metric. Only `*`
  # is allowed as a wildcard: the dashboard module evaluates the same patterns as regular
  # expressions ("*" -> ".*"), which is exact only for patterns made of [A-Za-z0-9*].
  validation {
    condition = var.exclude_metrics == null || try(length(var.exclude_metrics) > 0 && alltrue([for pattern in var.exclude_metrics :
      can(regex("^[A-Za-z0-9*]+$", pattern)) && anytrue([for name in local.metric_names : can(regex("^${replace(pattern, "*", ".*")}$", name))])
    ]), false)
    error_message = "exclude_metrics must be null or a non-empty list of metric names (see `ecs-emf-exporter metrics`) or `*` globs, each made of letters, digits and `*` and matching at least one metric."
  }
}

variable "container_metrics" {
  description = "ECS_EMF_CONTAINER_METRICS: false publishes task-level metrics only (the binary defaults to true)."
  type        = bool
  default     = null
}

variable "exclude_containers" {
  description = "ECS_EMF_EXCLUDE_CONTAINERS: container names or globs left out of container metrics and task sums."
  type        = list(string)
  default     = null

  validation {
    condition     = var.exclude_containers == null || try(length(var.exclude_containers) > 0 && alltrue([for name in var.exclude_containers : name != "" && !strcontains(name, ",")]), false)
    error_message = "exclude_containers must be null or a non-empty list of names without ','."
  }
}

variable "tags_refresh" {
  description = "ECS_EMF_TAGS_REFRESH: how often tags are re-read, 10s..24h."
  type        = string
  default     = null

  validation {
    condition = var.tags_refresh == null || try(
      tonumber(regex(local.duration_pattern, var.tags_refresh)[0]) * local.duration_unit_ms[regex(local.duration_pattern, var.tags_refresh)[1]] >= 10000 &&
      tonumber(regex(local.duration_pattern, var.tags_refresh)[0]) * local.duration_unit_ms[regex(local.duration_pattern, var.tags_refresh)[1]] <= 86400000,
      false
    )
    error_message = "tags_refresh must be a duration from 10s to 24h, like 5m."
  }
}

variable "tags_from_api" {
  description = "ECS_EMF_TAGS_FROM_API: read task tags with ecs:ListTagsForResource (needed on Fargate). Adds that permission to the task role policy and requires cluster_arn."
  type        = bool
  default     = null
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster; required when tags_from_api is true, to scope ecs:ListTagsForResource to its tasks."
  type        = string
  default     = null

  validation {
    # An ARN only known after apply passes here; it is checked again when known.
    condition     = (var.cluster_arn == null && var.tags_from_api != true) || can(regex("^arn:[^:]+:ecs:[^:]+:[0-9]{12}:cluster/[^/]+$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN (arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME), and is required when tags_from_api is true."
  }
}

variable "agent_endpoint" {
  description = "AWS_EMF_AGENT_ENDPOINT (output = agent): tcp://HOST:PORT or udp://HOST:PORT."
  type        = string
  default     = null

  validation {
    condition     = var.agent_endpoint == null || can(regex("^(tcp|udp)://[^/:]+:[0-9]+$", var.agent_endpoint))
    error_message = "agent_endpoint must look like tcp://127.0.0.1:25888 or udp://HOST:PORT."
  }
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

  validation {
    condition     = var.max_line_bytes == null || try(var.max_line_bytes >= 1024 && var.max_line_bytes <= 1048576 && floor(var.max_line_bytes) == var.max_line_bytes, false)
    error_message = "max_line_bytes must be a whole number from 1024 to 1048576."
  }
}

variable "log_format" {
  description = "ECS_EMF_LOG_FORMAT: text or json (the exporter's own logs, on stderr)."
  type        = string
  default     = null

  validation {
    condition     = var.log_format == null || contains(["text", "json"], coalesce(var.log_format, "text"))
    error_message = "log_format must be text or json."
  }
}

variable "log_level" {
  description = "ECS_EMF_LOG_LEVEL: error, warn, info, debug or trace."
  type        = string
  default     = null

  validation {
    condition     = var.log_level == null || contains(["error", "warn", "info", "debug", "trace"], lower(coalesce(var.log_level, "info")))
    error_message = "log_level must be one of error, warn, info, debug, trace."
  }
}
