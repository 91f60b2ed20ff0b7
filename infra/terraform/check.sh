#!/usr/bin/env bash
# Checks the Terraform modules and example: fmt, init + validate, terraform test, checkov, and
# optionally an offline plan of the example rendered as JSON (for the metric drift checker).
#
#   bash infra/terraform/check.sh [--plan-json OUT_FILE]
#
# Exit 77 (skipped) when Terraform or the offline provider mirror /opt/tf-plugins is missing.
# Nothing is written inside infra/: init, test and plan run on a temporary copy.
set -euo pipefail

# A stray CLI config (e.g. pointing at a network mirror) must not change what gets installed.
unset TF_CLI_CONFIG_FILE
export CHECKPOINT_DISABLE=1

usage() {
  echo "usage: bash infra/terraform/check.sh [--plan-json OUT_FILE]" >&2
  exit 2
}

plan_json=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --plan-json)
      [[ $# -ge 2 ]] || usage
      # Resolve against the caller's directory before we cd away.
      case "$2" in
        /*) plan_json="$2" ;;
        *) plan_json="$PWD/$2" ;;
      esac
      shift 2
      ;;
    -h | --help) usage ;;
    *) usage ;;
  esac
done

plugin_dir=/opt/tf-plugins
if [[ ! -d "$plugin_dir" ]] || ! command -v terraform >/dev/null 2>&1; then
  cat >&2 <<EOF

##############################################################################
# SKIPPED: infra/terraform checks did NOT run.
#   terraform on PATH:        $(command -v terraform || echo "MISSING")
#   provider mirror $plugin_dir: $([[ -d "$plugin_dir" ]] && echo present || echo "MISSING")
# Install Terraform >= 1.9 and the hashicorp/aws provider into $plugin_dir
# (registry.terraform.io/hashicorp/aws/VERSION/linux_amd64/) to run them.
##############################################################################

EOF
  exit 77
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

tf_dirs=(modules/ecs-emf-exporter modules/ecs-emf-exporter-dashboard examples/fargate-service)
tested_modules=(modules/ecs-emf-exporter modules/ecs-emf-exporter-dashboard)

work="$(mktemp -d "${TMPDIR:-/tmp}/ecs-emf-exporter-tf.XXXXXX")"
trap 'rm -rf "$work"' EXIT

step() { printf '\n==> %s\n' "$*"; }

# Run quietly; show the output only when the command fails.
quiet() {
  local log
  log="$(mktemp "$work/log.XXXXXX")"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "FAILED: $*" >&2
    return 1
  fi
}

step "terraform fmt -check -recursive infra/terraform"
terraform fmt -check -recursive -diff infra/terraform

# A clean copy: no .terraform dirs, lock files or plans end up in the repository.
tar -C infra/terraform --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfplan' \
  --exclude=tfplan --exclude=terraform.tfstate --exclude='terraform.tfstate.*' -cf - . |
  tar -C "$work" -xf -

for dir in "${tf_dirs[@]}"; do
  step "terraform init + validate: $dir"
  quiet terraform -chdir="$work/$dir" init -backend=false -plugin-dir="$plugin_dir" -input=false -no-color
  terraform -chdir="$work/$dir" validate -no-color
done

for dir in "${tested_modules[@]}"; do
  step "terraform test: $dir"
  terraform -chdir="$work/$dir" test -no-color
done

step "checkov (accepted findings are skipped in code, with a reason)"
checkov=.venv-infra/bin/checkov
if [[ ! -x "$checkov" ]]; then
  bash scripts/setup-infra-tools.sh
fi
"$checkov" --skip-download --quiet --compact -d infra/terraform --framework terraform

if [[ -n "$plan_json" ]]; then
  step "offline plan of examples/fargate-service -> $plan_json"
  example="$work/examples/fargate-service"
  # Fake credentials and no AWS calls: the plan needs none (no data source talks to AWS).
  cat >"$example/provider_override.tf" <<'EOF'
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
EOF
  quiet terraform -chdir="$example" init -plugin-dir="$plugin_dir" -input=false -no-color
  quiet terraform -chdir="$example" plan -input=false -no-color -out=example.tfplan \
    -var 'exporter_image=123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-emf-exporter:0.1.0' \
    -var 'subnet_ids=["subnet-0123456789abcdef0"]' \
    -var 'security_group_ids=["sg-0123456789abcdef0"]'
  mkdir -p "$(dirname "$plan_json")"
  terraform -chdir="$example" show -json example.tfplan >"$plan_json"
  echo "wrote $plan_json"
fi

step "infra/terraform: all checks passed"
