#!/usr/bin/env bash
# Checks the Terraform modules and examples: fmt, README inputs/outputs against the .tf files,
# init + validate, terraform test, checkov, and offline plans (plan-offline.sh) of the
# fargate-service and ec2-daemon examples, each optionally rendered as JSON
# (`terraform show -json`) for the metric drift checker.
#
#   bash infra/terraform/check.sh [--plan-json OUT_FILE] [--daemon-plan-json OUT_FILE]
#
#   --plan-json FILE          the fargate-service example's plan as JSON
#   --daemon-plan-json FILE   the ec2-daemon example's plan as JSON
#
# Exit 77 (skipped) when Terraform or the offline provider mirror /opt/tf-plugins is missing.
# Nothing is written inside infra/: init, test and plan run on a temporary copy.
set -euo pipefail

# A stray CLI config (e.g. pointing at a network mirror) must not change what gets installed.
unset TF_CLI_CONFIG_FILE
export CHECKPOINT_DISABLE=1
# check_readme.py and its test are imported from infra/terraform: no __pycache__ there.
export PYTHONDONTWRITEBYTECODE=1

usage() {
  echo "usage: bash infra/terraform/check.sh [--plan-json OUT_FILE] [--daemon-plan-json OUT_FILE]" >&2
  exit 2
}

# Resolve against the caller's directory before we cd away.
absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

plan_json=""
daemon_plan_json=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --plan-json)
      [[ $# -ge 2 ]] || usage
      plan_json="$(absolute "$2")"
      shift 2
      ;;
    --daemon-plan-json)
      [[ $# -ge 2 ]] || usage
      daemon_plan_json="$(absolute "$2")"
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

tf_dirs=(modules/ecs-emf-exporter modules/ecs-emf-exporter-dashboard modules/ecs-emf-exporter-daemon
  examples/fargate-service examples/ec2-daemon)
tested_modules=(modules/ecs-emf-exporter modules/ecs-emf-exporter-dashboard modules/ecs-emf-exporter-daemon)

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

step "README inputs/outputs tables against the .tf files (check_readme.py and its unit test)"
python3 -m unittest discover -s infra/terraform -p 'test_check_readme.py'
python3 infra/terraform/check_readme.py \
  infra/terraform/modules/ecs-emf-exporter \
  infra/terraform/modules/ecs-emf-exporter-dashboard \
  infra/terraform/modules/ecs-emf-exporter-daemon \
  infra/terraform/examples/fargate-service \
  infra/terraform/examples/terraform-aws-modules-service \
  infra/terraform/examples/ec2-daemon

# A clean copy: no .terraform dirs, lock files or plans end up in the repository.
tar -C infra/terraform --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfplan' \
  --exclude=tfplan --exclude=terraform.tfstate --exclude='terraform.tfstate.*' -cf - . |
  tar -C "$work" -xf -

for dir in "${tf_dirs[@]}"; do
  step "terraform init + validate: $dir"
  quiet terraform -chdir="$work/$dir" init -backend=false -plugin-dir="$plugin_dir" -input=false -no-color
  terraform -chdir="$work/$dir" validate -no-color
done

# examples/terraform-aws-modules-service uses a registry module that cannot be downloaded here:
# validate a copy in which a local stand-in replaces it (any value for the arguments used, the
# outputs read) and the provider constraint admits the mirror's 5.x. This checks the repository's
# side of that example (the exporter and dashboard modules' inputs and outputs it uses), not the
# service module's own types.
step "terraform validate: examples/terraform-aws-modules-service (registry module replaced by a stand-in)"
tam="$work/examples/terraform-aws-modules-service"
mkdir -p "$tam/service-stand-in"
cat >"$tam/service-stand-in/main.tf" <<'EOF'
# Stand-in for terraform-aws-modules/ecs/aws//modules/service, in check.sh only.
variable "name" { type = any }
variable "cluster_arn" { type = any }
variable "cpu" { type = any }
variable "memory" { type = any }
variable "container_definitions" { type = any }
variable "volume" { type = any }
variable "subnet_ids" { type = any }
variable "create_security_group" { type = any }
variable "security_group_ids" { type = any }
variable "tags" { type = any }
output "name" { value = var.name }
output "tasks_iam_role_name" { value = "stand-in" }
output "task_definition_arn" { value = "stand-in" }
EOF
python3 - "$tam" <<'EOF'
import pathlib, sys
example = pathlib.Path(sys.argv[1])
for name, old, new in (
    ("main.tf", 'source  = "terraform-aws-modules/ecs/aws//modules/service"\n  version = "~> 6.0"',
     'source = "./service-stand-in"'),
    ("versions.tf", 'version = ">= 6.0, < 7.0"', 'version = ">= 5.29, < 7.0"'),
):
    path = example / name
    text = path.read_text(encoding="utf-8")
    if old not in text:
        sys.exit(f"check.sh: {path} no longer holds {old!r}; update the stand-in step")
    path.write_text(text.replace(old, new), encoding="utf-8")
EOF
quiet terraform -chdir="$tam" init -backend=false -plugin-dir="$plugin_dir" -input=false -no-color
terraform -chdir="$tam" validate -no-color

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

# The same script the example README documents for planning without credentials.
step "offline plan of examples/fargate-service (plan-offline.sh, fake keys, no AWS calls)"
plan_offline_args=(--plugin-dir "$plugin_dir")
if [[ -n "$plan_json" ]]; then
  plan_offline_args+=(--plan-json "$plan_json")
fi
quiet bash infra/terraform/plan-offline.sh "${plan_offline_args[@]}"
if [[ -n "$plan_json" ]]; then
  echo "wrote $plan_json"
fi

# The daemon example needs values for its required variables: an existing cluster given by ARN
# (so nothing reads AWS at plan time), the image, and the service its dashboard shows. It is
# planned with a tag dimension (tags from ecs:DescribeTasks), so the drift check also covers
# the daemon's tagged dimension sets (the fargate example covers the sidecar's untagged ones).
step "offline plan of examples/ec2-daemon (plan-offline.sh, fake keys, no AWS calls)"
daemon_plan_args=(--example ec2-daemon --plugin-dir "$plugin_dir")
if [[ -n "$daemon_plan_json" ]]; then
  daemon_plan_args+=(--plan-json "$daemon_plan_json")
fi
quiet bash infra/terraform/plan-offline.sh "${daemon_plan_args[@]}" -- \
  -var 'cluster_arn=arn:aws:ecs:eu-west-1:123456789012:cluster/main' \
  -var 'exporter_image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecs-emf-exporter:0.1.0' \
  -var 'service_name=orders' \
  -var 'container_names=["api","worker"]' \
  -var 'tag_dimension_values={team="payments"}'
if [[ -n "$daemon_plan_json" ]]; then
  echo "wrote $daemon_plan_json"
fi

step "infra/terraform: all checks passed"
