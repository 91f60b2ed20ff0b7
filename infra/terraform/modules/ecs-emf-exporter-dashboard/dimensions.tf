# Which dimensions (names and values) the dashboard and alarms select. CloudWatch matches a metric
# only on its exact dimension set, so this must mirror what the exporter publishes: the FIRST set
# of each level, plus tag keys, then static names (no duplicates), as the binary appends them.

data "aws_region" "current" {
  count = var.region == null ? 1 : 0
}

locals {
  region = var.region != null ? var.region : data.aws_region.current[0].name
  ns     = var.metric_config.namespace

  extra_dimension_names     = distinct(concat(var.metric_config.tag_dimensions, keys(var.metric_config.static_dimensions)))
  task_dimension_names      = distinct(concat(var.metric_config.task_dimensions[0], local.extra_dimension_names))
  container_dimension_names = distinct(concat(var.metric_config.container_dimensions[0], local.extra_dimension_names))

  # A static dimension carries its own value (and wins over a tag of the same name, as in the binary).
  dimension_values = merge(var.dimension_values, var.metric_config.static_dimensions)

  # Names the caller must give a value for (statics bring their own; ContainerName comes from
  # container_names), counting only levels with a published metric (metrics.tf).
  needed_dimension_names = [for name in distinct(concat(
    local.task_level_published ? local.task_dimension_names : [],
    local.container_level_published ? [for name in local.container_dimension_names : name if name != "ContainerName"] : [],
  )) : name if !contains(keys(var.metric_config.static_dimensions), name)]

  # Without ContainerName in the set, all containers publish to one series: graph it once.
  needs_container_name = local.container_level_published && contains(local.container_dimension_names, "ContainerName")
  container_keys       = contains(local.container_dimension_names, "ContainerName") ? var.container_names : ["all"]

  # Alarm form: { name = value }. lookup() defaults keep a missing value from failing before the
  # dimension_values validation can explain it.
  task_dimensions = { for name in local.task_dimension_names : name => lookup(local.dimension_values, name, "") }
  container_dimensions = {
    for container in local.container_keys : container => {
      for name in local.container_dimension_names : name => name == "ContainerName" ? container : lookup(local.dimension_values, name, "")
    }
  }

  # Widget form: the flat name, value, name, value, ... part of a metric array.
  task_dimension_pairs      = flatten([for name in local.task_dimension_names : [name, local.task_dimensions[name]]])
  container_dimension_pairs = { for container, dims in local.container_dimensions : container => flatten([for name in local.container_dimension_names : [name, dims[name]]]) }
}
