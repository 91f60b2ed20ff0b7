#!/usr/bin/env bash
# Installs the infrastructure linters (checkov for Terraform, cfn-lint for the CDK's
# CloudFormation) into .venv-infra at the repo root. A venv of their own: checkov pins
# boto/botocore versions that would fight moto's in .venv. Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned, so a new rule upstream cannot turn main red without a change here.
exec bash scripts/pinned-venv.sh .venv-infra "checkov==3.3.30" "cfn-lint==1.58.0"
