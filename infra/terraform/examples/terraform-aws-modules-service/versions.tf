terraform {
  # 1.9: this repository's modules (validations that refer to other variables).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # terraform-aws-modules/ecs 6.x needs the 6.x provider; this repository's modules take 5.29 to 6.x.
      version = ">= 6.0, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}
