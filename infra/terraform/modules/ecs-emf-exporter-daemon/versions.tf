terraform {
  # 1.9: validation blocks may refer to other variables (cluster_name needs cluster_arn, ...).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.29: aws_cloudwatch_log_group.log_group_class (in the sidecar module used here).
      version = ">= 5.29, < 7.0"
    }
  }
}
