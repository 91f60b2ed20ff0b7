#!/usr/bin/env bash
# Plans a Terraform example without AWS credentials and without AWS API calls.
#
#   bash infra/terraform/plan-offline.sh [--example DIR] [--plugin-dir DIR] [--plan-json OUT_FILE] [-- PLAN_ARGS...]
#
#   --example DIR      example under infra/terraform/examples (default: fargate-service)
#   --plugin-dir DIR   install the AWS provider from this local mirror instead of the registry
#                      (e.g. /opt/tf-plugins on a machine without registry access)
#   --plan-json FILE   also write `terraform show -json` of the plan there
#   PLAN_ARGS          extra `terraform plan` arguments; without any, the fargate-service example
#                      gets placeholder values for its three required variables
#
# How: the example is copied (with the modules it uses) to a temporary directory, and a
# provider_override.tf is added there with fake keys and the provider's skip_* flags
# (skip_credentials_validation, skip_requesting_account_id, skip_metadata_api_check,
# skip_region_validation): the provider then never calls STS, IMDS or any other AWS API. This
# works because nothing in the examples reads AWS at plan time (aws_region reads the provider
# configuration, aws_iam_policy_document is computed locally). Nothing is written inside infra/.
set -euo pipefail

# A stray CLI config (e.g. pointing at a network mirror) must not change what gets installed.
unset TF_CLI_CONFIG_FILE
export CHECKPOINT_DISABLE=1

usage() {
  sed -n '4,5p' "$0" | sed 's/^#   //' >&2
  exit 2
}

example="fargate-service"
plugin_dir=""
plan_json=""
plan_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --example)
      [[ $# -ge 2 ]] || usage
      example="$2"
      shift 2
      ;;
    --plugin-dir)
      [[ $# -ge 2 ]] || usage
      plugin_dir="$2"
      shift 2
      ;;
    --plan-json)
      [[ $# -ge 2 ]] || usage
      # Resolve against the caller's directory before we cd away.
      case "$2" in
        /*) plan_json="$2" ;;
        *) plan_json="$PWD/$2" ;;
      esac
      shift 2
      ;;
    --)
      shift
      plan_args=("$@")
      break
      ;;
    -h | --help) usage ;;
    *) usage ;;
  esac
done

tf_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -d "$tf_root/examples/$example" ]]; then
  echo "plan-offline: no example $tf_root/examples/$example" >&2
  exit 2
fi

if [[ ${#plan_args[@]} -eq 0 && "$example" == "fargate-service" ]]; then
  plan_args=(
    -var 'exporter_image=123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-emf-exporter:0.1.0'
    -var 'subnet_ids=["subnet-0123456789abcdef0"]'
    -var 'security_group_ids=["sg-0123456789abcdef0"]'
  )
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ecs-emf-exporter-plan.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tar -C "$tf_root" --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfplan' \
  --exclude=tfplan --exclude=terraform.tfstate --exclude='terraform.tfstate.*' -cf - modules examples |
  tar -C "$work" -xf -

dir="$work/examples/$example"
# Merged into the example's provider "aws" block (Terraform override file). Fake keys, no calls.
cat >"$dir/provider_override.tf" <<'EOF'
provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
EOF

init_args=(-input=false -no-color)
[[ -n "$plugin_dir" ]] && init_args+=(-plugin-dir="$plugin_dir")

log="$work/init.log"
if ! terraform -chdir="$dir" init "${init_args[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "plan-offline: terraform init failed (no registry access? pass --plugin-dir)" >&2
  exit 1
fi

terraform -chdir="$dir" plan -input=false -no-color -out=offline.tfplan "${plan_args[@]}"

if [[ -n "$plan_json" ]]; then
  mkdir -p "$(dirname "$plan_json")"
  terraform -chdir="$dir" show -json offline.tfplan >"$plan_json"
  echo "wrote $plan_json"
fi
