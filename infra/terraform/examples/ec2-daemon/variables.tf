variable "region" {
  description = "Region of the cluster."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_arn" {
  description = "ARN of an existing ECS cluster with EC2 container instances (ECS-optimized Linux AMI)."
  type        = string
}

variable "exporter_image" {
  description = "ecs-emf-exporter image (build it from the repository's Dockerfile and push it to your registry)."
  type        = string
}

variable "service_name" {
  description = "An ECS service of that cluster (running on its EC2 instances) to put on the dashboard."
  type        = string
}

variable "container_names" {
  description = "That service's containers, one graph line each in the container widgets."
  type        = list(string)
}

variable "environment" {
  description = "Deployment stage, published as the static dimension \"env\"."
  type        = string
  default     = "prod"
}

variable "tag_dimension_values" {
  description = "Task tag keys to publish as dimensions (for every task on the instances), each with the value the service's tasks carry, for its dashboard and alarms; {} publishes none and grants no tag permission."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "min_tasks_reporting" {
  description = "Alarm when fewer of the service's tasks report (e.g. its desired count); null: no such alarm."
  type        = number
  default     = null
}

variable "alarm_topic_arns" {
  description = "SNS topics notified by the alarms."
  type        = list(string)
  default     = []
}
