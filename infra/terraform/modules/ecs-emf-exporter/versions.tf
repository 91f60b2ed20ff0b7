terraform {
  # 1.9: validation blocks may refer to other variables (cluster_arn needs tags_from_api, ...).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.29: aws_cloudwatch_log_group.log_group_class.
      version = ">= 5.29, < 7.0"
    }
  }
}
