# metric_config: what the daemon really publishes, in the shape the ecs-emf-exporter-dashboard
# module takes, so its dashboard and alarms name the published namespace and dimension sets.

mock_provider "aws" {}

variables {
  image          = "example.com/ecs-emf-exporter:0.1.0"
  log_group_name = "/ecs/prod/ecs-emf-exporter-daemon"
  region         = "eu-west-1"
  cluster_arn    = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
}

run "defaults_are_the_sidecars_names_and_dimensions" {
  command = plan

  assert {
    condition = jsonencode(output.metric_config) == jsonencode({
      namespace            = "ECS/TaskMetrics"
      task_dimensions      = [["ClusterName", "ServiceName"]]
      container_dimensions = [["ClusterName", "ServiceName", "ContainerName"]]
      tag_dimensions       = []
      static_dimensions    = {}
      container_metrics    = true
      self_metrics         = false
      container_name       = "ecs-emf-exporter"
      metrics              = null
      # What `metrics --json --daemon` lists as never published, whatever the settings.
      exclude_metrics = [
        "EphemeralStorageUtilized", "EphemeralStorageReserved", "ImagePullTime", "ClockErrorBound",
        "ContainerRestarts", "ExporterErrors", "ExporterDroppedDatapoints", "ExporterCycleDuration",
      ]
      exclude_containers     = null
      interval_seconds       = 60
      restart_policy_enabled = false
    })
    error_message = "metric_config: ${jsonencode(output.metric_config)}"
  }
}

run "without_service_from_api_the_family_stands_in" {
  command = plan

  variables {
    service_from_api     = false
    dimensions           = [["ClusterName", "ServiceName"], ["ClusterName", "ServiceName", "TaskDefinitionFamily"], ["ClusterName"]]
    container_dimensions = [["ServiceName", "ContainerName"]]
  }

  assert {
    # Each name once, each set once, as the binary publishes them.
    condition     = jsonencode(output.metric_config.task_dimensions) == jsonencode([["ClusterName", "TaskDefinitionFamily"], ["ClusterName"]])
    error_message = "task sets: ${jsonencode(output.metric_config.task_dimensions)}"
  }

  assert {
    condition     = jsonencode(output.metric_config.container_dimensions) == jsonencode([["TaskDefinitionFamily", "ContainerName"]])
    error_message = "container sets: ${jsonencode(output.metric_config.container_dimensions)}"
  }

  assert {
    # The binary's own setting is unchanged: the fallback is its doing.
    condition     = contains(output.container_definition.environment, { name = "ECS_EMF_DIMENSIONS", value = "ClusterName,ServiceName;ClusterName,ServiceName,TaskDefinitionFamily;ClusterName" })
    error_message = "ECS_EMF_DIMENSIONS renders the sets as given"
  }
}

run "filters_and_settings_reach_the_dashboard" {
  command = plan

  variables {
    namespace          = "Daemon/ECS"
    interval           = "5m"
    static_dimensions  = { env = "prod" }
    metrics            = ["Cpu*", "Memory*", "RunningContainerCount", "ContainerExits"]
    exclude_metrics    = ["ImagePullTime", "*Reserved"]
    container_metrics  = false
    exclude_containers = ["ecs-emf-exporter"]
    container_name     = "metrics-daemon"
  }

  assert {
    condition     = output.metric_config.namespace == "Daemon/ECS" && output.metric_config.interval_seconds == 300 && output.metric_config.static_dimensions == tomap({ env = "prod" }) && output.metric_config.container_metrics == false && output.metric_config.container_name == "metrics-daemon"
    error_message = "namespace, interval, static dimensions, container metrics and name: ${jsonencode(output.metric_config)}"
  }

  assert {
    condition     = jsonencode(output.metric_config.metrics) == jsonencode(["Cpu*", "Memory*", "RunningContainerCount", "ContainerExits"]) && jsonencode(output.metric_config.exclude_metrics) == jsonencode(["ImagePullTime", "*Reserved", "EphemeralStorageUtilized", "EphemeralStorageReserved", "ClockErrorBound", "ContainerRestarts", "ExporterErrors", "ExporterDroppedDatapoints", "ExporterCycleDuration"])
    error_message = "the user's filters, plus what the daemon never publishes (once each): ${jsonencode(output.metric_config.exclude_metrics)}"
  }

  assert {
    condition     = output.metric_config.exclude_containers == tolist(["ecs-emf-exporter"])
    error_message = "exclude_containers reaches the dashboard module"
  }
}

# Tag dimensions are appended to every published set by the binary; metric_config carries them
# apart (as the sidecar module's does), and the dashboard module appends them to the first sets.
run "tag_dimensions_reach_the_dashboard" {
  command = plan

  variables {
    tags_from_api    = true
    tag_dimensions   = ["team", "costcenter", "team"]
    service_from_api = false
  }

  assert {
    # Each key once, in the order given; the sets as published (the family for ServiceName).
    condition     = jsonencode(output.metric_config.tag_dimensions) == jsonencode(["team", "costcenter"]) && jsonencode(output.metric_config.task_dimensions) == jsonencode([["ClusterName", "TaskDefinitionFamily"]]) && jsonencode(output.metric_config.container_dimensions) == jsonencode([["ClusterName", "TaskDefinitionFamily", "ContainerName"]])
    error_message = "metric_config: ${jsonencode(output.metric_config)}"
  }
}
