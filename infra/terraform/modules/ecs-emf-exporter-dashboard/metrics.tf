# Which of the metrics the dashboard and alarms name the sidecar actually publishes, mirroring the
# binary's Settings::publishes: the level switch (container metrics, self metrics) AND the name
# filters: (metrics is null/empty OR the name matches one of them) AND it matches no
# exclude_metrics entry. A `*` matches any run of characters and nothing else is special; the
# patterns are made of [A-Za-z0-9*] (validated here and in the exporter module), so replacing "*"
# with ".*" gives an exact, anchored regular expression.
#
# The names and levels come from the widget specs in main.tf (every alarm metric has a widget
# line), so there is no second copy of the exporter's catalog here; the exporter module validates
# that every pattern matches a metric of its catalog (catalog.tf).

locals {
  include_metric_patterns = coalesce(var.metric_config.metrics, [])
  exclude_metric_patterns = coalesce(var.metric_config.exclude_metrics, [])

  level_switched_on = {
    task      = true
    container = var.metric_config.container_metrics
    exporter  = var.metric_config.self_metrics
  }

  # { metric name = level } for every metric a widget line (or an alarm) names.
  dashboard_metric_levels = { for metric in distinct(flatten([
    for level, specs in {
      task      = concat(local.task_widget_specs, local.running_widget_specs, local.clock_widget_specs)
      container = concat(local.container_widget_specs, local.container_exit_widget_specs)
      exporter  = local.exporter_widget_specs
    } : [for spec in specs : [for line in spec.lines : { name = line[0], level = level }]]
  ])) : metric.name => metric.level }

  published_metrics = toset([for name, level in local.dashboard_metric_levels : name if local.level_switched_on[level] && (
    length(local.include_metric_patterns) == 0 || anytrue([for pattern in local.include_metric_patterns : can(regex("^${replace(pattern, "*", ".*")}$", name))])
    ) && !anytrue([for pattern in local.exclude_metric_patterns : can(regex("^${replace(pattern, "*", ".*")}$", name))])
  ])

  # Whether any published line needs the task-level / container-level dimension values.
  task_level_published      = anytrue([for name, level in local.dashboard_metric_levels : contains(local.published_metrics, name) if level != "container"])
  container_level_published = anytrue([for name, level in local.dashboard_metric_levels : contains(local.published_metrics, name) if level == "container"])
}
