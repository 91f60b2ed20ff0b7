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
  description = "Containers to graph (one line each) and to watch for restarts. Needed when container metrics are on."
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
  description = "Create the CPU, memory, container-restart and exporter-error alarms."
  type        = bool
  default     = true
  nullable    = false
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
