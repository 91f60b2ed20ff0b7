variable "region" {
  description = "Region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name of the cluster, service and dashboard."
  type        = string
  default     = "orders"
}

variable "exporter_image" {
  description = "ecs-emf-exporter image (build it from the repository's Dockerfile and push it to your registry)."
  type        = string
}

variable "app_image" {
  description = "Image of the demo app container (busybox httpd)."
  type        = string
  default     = "public.ecr.aws/docker/library/busybox:1.36"
}

variable "subnet_ids" {
  description = "Private subnets of the service (with a NAT gateway or VPC endpoints for ECR, Logs and ECS)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the service's tasks."
  type        = list(string)
}

variable "environment" {
  description = "Deployment stage, published as the static dimension \"env\"."
  type        = string
  default     = "prod"
}

variable "alarm_topic_arns" {
  description = "SNS topics notified by the alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every taggable resource (cluster, service module, log group, alarms)."
  type        = map(string)
  default     = {}
}
