variable "metric_config" {
  description = "The metric_config output of the ecs-emf-exporter module: what the exporter publishes."
  type = object({
    namespace            = string
    task_dimensions      = list(list(string))
    container_dimensions = list(list(string))
    tag_dimensions       = list(string)
    static_dimensions    = map(string)
    container_metrics    = bool
    self_metrics         = bool
    container_name       = string
    # ECS_EMF_METRICS / ECS_EMF_EXCLUDE_METRICS (null or a list of names and `*` globs).
    metrics         = optional(list(string))
    exclude_metrics = optional(list(string))
    # ECS_EMF_EXCLUDE_CONTAINERS (null or names and `*` / `?` globs): an exit alarm on a container
    # it leaves out is refused.
    exclude_containers = optional(list(string))
    # ECS_EMF_INTERVAL in seconds (the binary's default 60 when absent): sets the no-data alarm's
    # shortest period.
    interval_seconds = optional(number, 60)
    # Whether the sidecar's container definition has an enabled restartPolicy (informational; the
    # restart alarms read task_container_definitions).
    restart_policy_enabled = optional(bool)
  })
  nullable = false

  # The patterns become regular expressions ("*" -> ".*"), exact only for [A-Za-z0-9*].
  validation {
    condition = alltrue([for pattern in concat(coalesce(var.metric_config.metrics, []), coalesce(var.metric_config.exclude_metrics, [])) :
    can(regex("^[A-Za-z0-9*]+$", pattern))])
    error_message = "metric_config.metrics and metric_config.exclude_metrics may only hold metric names and `*` globs (letters, digits and `*`)."
  }
}

variable "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  type        = string
  nullable    = false
}

variable "dimension_values" {
  description = "Value of every dimension the dashboard needs except static ones and ContainerName, e.g. { ClusterName = \"prod\", ServiceName = \"api\", team = \"payments\" }."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for name in local.needed_dimension_names : contains(keys(var.dimension_values), name)])
    error_message = "dimension_values has no value for ${join(", ", [for name in local.needed_dimension_names : name if !contains(keys(var.dimension_values), name)])}: the dashboard and alarms use the first dimension set plus tag dimensions, and CloudWatch only matches a metric when every dimension has its exact value."
  }
}

variable "container_names" {
  description = "Containers to graph (one line each in the container widgets). Needed when container metrics are on. Restart alarms follow task_container_definitions, not this list."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = !local.needs_container_name || length(var.container_names) > 0
    error_message = "container_names is empty, but the container dimension set names ContainerName and container metrics are on: list the containers to graph."
  }
}

variable "period" {
  description = "Period in seconds of every widget and alarm."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = contains([10, 30], var.period) || (var.period >= 60 && var.period % 60 == 0)
    error_message = "period must be 10, 30 or a multiple of 60 seconds."
  }
}

variable "cpu_threshold" {
  description = "Task CPU utilization (%) above which the CPU alarm fires (3 of 3 periods)."
  type        = number
  default     = 80
  nullable    = false
}

variable "memory_threshold" {
  description = "Task memory utilization (%) above which the memory alarm fires (3 of 3 periods)."
  type        = number
  default     = 80
  nullable    = false
}

variable "create_alarms" {
  description = "Create the alarms: CPU, memory, no data, container restarts, container exits (exit_alarm_containers), exporter errors and tasks reporting (min_tasks_reporting)."
  type        = bool
  default     = true
  nullable    = false
}

variable "no_data_alarm" {
  description = <<-EOT
    With create_alarms: an alarm that fires when the service's tasks publish no
    RunningContainerCount (SampleCount < 1, missing data breaching) for no_data_evaluation_periods
    consecutive periods: the sidecar is down or stalled, or its log delivery is broken. Every
    sidecar publishes RunningContainerCount every cycle, whatever its other settings; only
    metrics / exclude_metrics can leave it out, and then this alarm is refused (set it to false).
  EOT
  type        = bool
  default     = true
  nullable    = false
}

variable "no_data_evaluation_periods" {
  description = "Consecutive periods without a RunningContainerCount datapoint before the no-data alarm fires (all of them must be empty). EMF through awslogs reaches CloudWatch within a minute or two, so the newest periods can still be empty: 5 (five minutes at 60 s) rides out that delay and one skipped cycle, and catches a dead sidecar in about 5-7 minutes."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = floor(var.no_data_evaluation_periods) == var.no_data_evaluation_periods && var.no_data_evaluation_periods >= 2
    error_message = "no_data_evaluation_periods must be a whole number of at least 2: with 1, a single period whose EMF is still on its way would set the alarm off."
  }
}

variable "min_tasks_reporting" {
  description = "With create_alarms: an alarm (PREFIX-tasks-reporting-low) when fewer than this many tasks report, i.e. the metric math SampleCount(RunningContainerCount) / (period / interval) stays below N - 0.5 for all of max(3, ceil(300 s / period)) periods (missing data notBreaching: no task at all is the no-data alarm's). null: no alarm. A whole number >= 1; refused when metrics / exclude_metrics leave RunningContainerCount out or create_alarms is false."
  type        = number
  default     = null

  validation {
    condition     = var.min_tasks_reporting == null || try(floor(var.min_tasks_reporting) == var.min_tasks_reporting && var.min_tasks_reporting >= 1, false)
    error_message = "min_tasks_reporting must be null (no alarm) or a whole number of at least 1."
  }

  validation {
    condition     = var.min_tasks_reporting == null || contains(local.published_metrics, "RunningContainerCount")
    error_message = "min_tasks_reporting: the tasks-reporting alarm counts RunningContainerCount samples, which metrics/exclude_metrics leave out; publish it, or set min_tasks_reporting = null."
  }

  validation {
    condition     = var.min_tasks_reporting == null || var.create_alarms
    error_message = "min_tasks_reporting is set but create_alarms is false, so no alarm would be created; set min_tasks_reporting = null or create_alarms = true."
  }
}

variable "task_container_definitions" {
  description = "The task's container definitions, as the objects given to jsonencode for aws_ecs_task_definition.container_definitions (the app containers and module.exporter.container_definition). Restart alarms are created only for containers whose restartPolicy is enabled: ECS reports RestartCount, and so the exporter publishes ContainerRestarts, for those alone. A list (or tuple) of objects, each with a name; its type is `any` because the definitions differ in shape."
  type        = any
  default     = []
  nullable    = false

  validation {
    condition     = can(concat(var.task_container_definitions, [])) && alltrue([for container in var.task_container_definitions : can(regex("^[A-Za-z0-9_-]{1,255}$", container.name))])
    error_message = "task_container_definitions must be a list of container definition objects (as given to jsonencode for container_definitions), each with a name of 1-255 letters, digits, '_' or '-'."
  }
}

variable "restart_alarm_containers" {
  description = "Containers that get a ContainerRestarts alarm. null: every container of task_container_definitions with an enabled restartPolicy (the sidecar too, with its default policy) that metric_config.exclude_containers does not leave out. A list: each must be such a container, otherwise the plan fails, since its alarm could never fire."
  type        = list(string)
  default     = null

  # The offending names are worked out here (a local reading this variable would be a cycle).
  validation {
    condition     = length(distinct([for name in coalesce(var.restart_alarm_containers, []) : name if !contains(local.task_container_names, name)])) == 0
    error_message = "restart_alarm_containers names ${join(", ", distinct([for name in coalesce(var.restart_alarm_containers, []) : name if !contains(local.task_container_names, name)]))}, which is not a container of task_container_definitions: pass the task's container definitions (the app containers and module.exporter.container_definition), or leave the name out."
  }

  validation {
    condition     = length(distinct([for name in coalesce(var.restart_alarm_containers, []) : name if contains(local.task_container_names, name) && !contains(local.restart_policy_containers, name)])) == 0
    error_message = "restart_alarm_containers names ${join(", ", distinct([for name in coalesce(var.restart_alarm_containers, []) : name if contains(local.task_container_names, name) && !contains(local.restart_policy_containers, name)]))}, whose container definition has no enabled restartPolicy: ECS reports no RestartCount for it, ContainerRestarts is never published, and the alarm could never fire. Give it a restartPolicy or leave it out."
  }

  validation {
    condition     = length(distinct([for name in coalesce(var.restart_alarm_containers, []) : name if anytrue([for pattern in local.exclude_container_regexes : can(regex(pattern, name))])])) == 0
    error_message = "restart_alarm_containers names ${join(", ", distinct([for name in coalesce(var.restart_alarm_containers, []) : name if anytrue([for pattern in local.exclude_container_regexes : can(regex(pattern, name))])]))}, which the exporter's exclude_containers leaves out: it publishes no ContainerRestarts for it, and the alarm could never fire. Leave the name out."
  }
}

variable "exit_alarm_containers" {
  description = "Containers that get a ContainerExits alarm (PREFIX-CONTAINER-exits: Sum >= 1 in one period, missing data notBreaching). Each must be a container of task_container_definitions that metric_config.exclude_containers does not leave out; no restart policy is needed. Refused when container metrics are off or metrics / exclude_metrics leave ContainerExits out. [] (default): no exit alarm."
  type        = list(string)
  default     = []
  nullable    = false

  # The offending names are worked out here (a local reading this variable would be a cycle).
  validation {
    condition     = length(var.exit_alarm_containers) == 0 || var.metric_config.container_metrics
    error_message = "exit_alarm_containers is set, but container metrics are off (metric_config.container_metrics = false): ContainerExits is never published and the exit alarms could never fire. Turn container metrics on, or set exit_alarm_containers = []."
  }

  validation {
    condition     = length(var.exit_alarm_containers) == 0 || !var.metric_config.container_metrics || contains(local.published_metrics, "ContainerExits")
    error_message = "exit_alarm_containers is set, but metrics/exclude_metrics leave ContainerExits out, so the exit alarms could never fire. Publish ContainerExits, or set exit_alarm_containers = []."
  }

  validation {
    condition     = length(distinct([for name in var.exit_alarm_containers : name if !contains(local.task_container_names, name)])) == 0
    error_message = "exit_alarm_containers names ${join(", ", distinct([for name in var.exit_alarm_containers : name if !contains(local.task_container_names, name)]))}, which is not a container of task_container_definitions: ContainerExits is never published for it, and the alarm could never fire. Pass the task's container definitions (the app containers and module.exporter.container_definition), or leave the name out."
  }

  validation {
    condition     = length(distinct([for name in var.exit_alarm_containers : name if anytrue([for pattern in local.exclude_container_regexes : can(regex(pattern, name))])])) == 0
    error_message = "exit_alarm_containers names ${join(", ", distinct([for name in var.exit_alarm_containers : name if anytrue([for pattern in local.exclude_container_regexes : can(regex(pattern, name))])]))}, which the exporter's exclude_containers leaves out: it publishes no ContainerExits for it, and the alarm could never fire. Leave the name out."
  }
}

variable "alarm_name_prefix" {
  description = "Prefix of every alarm name; null uses dashboard_name."
  type        = string
  default     = null
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires (e.g. an SNS topic)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ok_actions" {
  description = "ARNs notified when an alarm returns to OK."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "region" {
  description = "Region shown in the widgets; null uses the provider's region."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every alarm the module creates. The dashboard itself (aws_cloudwatch_dashboard) cannot be tagged. Provider default_tags still apply."
  type        = map(string)
  default     = {}
  nullable    = false
}
