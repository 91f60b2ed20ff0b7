terraform {
  # 1.9: validation blocks may refer to other variables (dimension_values needs metric_config).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
