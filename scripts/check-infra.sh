#!/usr/bin/env bash
# The infrastructure checks: the Terraform module and the CDK construct each run
# their own checks (fmt/validate/test/checkov; tsc/node --test/cdk synth/cfn-lint), then the
# drift checker compares what both really render — the Terraform plans of the fargate-service
# (sidecar) and ec2-daemon (daemon mode) examples, and every synthesized template of the CDK
# example app (the sidecar stack and the EcsEmfExporterDaemon stack) — with the catalog of the
# exporter container's own settings: `ecs-emf-exporter metrics --json` for the sidecar renderings,
# `ecs-emf-exporter metrics --json --daemon` for the daemon ones.
# Needs the release binary (scripts/test.sh builds it first). A part whose tools are missing
# on this machine (exit 77) is reported as SKIPPED, loudly, never as passed.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/ecs-emf-exporter
if [ ! -x "$bin" ]; then
  echo "check-infra: $bin is missing; run cargo build --release first" >&2
  exit 1
fi
bash scripts/setup-infra-tools.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
skipped=()

echo "== infra/tests: the drift checker catches each kind of drift"
python3 -m unittest discover -s infra/tests

echo "== the infra's copies of the metric catalog against ecs-emf-exporter metrics --json"
python3 infra/tests/check_catalogs.py --binary "$bin" \
  --terraform-catalog infra/terraform/modules/ecs-emf-exporter/catalog.tf \
  --cdk-catalog infra/cdk/lib/metric-catalog.ts

# part NAME COMMAND...: exit 77 records NAME as skipped; other failures stop here.
. scripts/part.sh

echo "== infra/terraform: fmt, validate, terraform test, checkov, offline plans of the examples"
part terraform bash infra/terraform/check.sh --plan-json "$work/plan.json" \
  --daemon-plan-json "$work/daemon-plan.json"

echo "== infra/cdk: tsc, node --test, cdk synth, cfn-lint"
part cdk bash infra/cdk/check.sh --template-dir "$work/cdk.out"

drift_args=()
for p in "$work/plan.json" "$work/daemon-plan.json"; do
  [ -f "$p" ] && drift_args+=(--terraform-plan "$p")
done
for t in "$work"/cdk.out/*.template.json; do
  [ -f "$t" ] && drift_args+=(--cdk-template "$t")
done
if [ "${#drift_args[@]}" -gt 0 ]; then
  echo "== dashboards and alarms against ecs-emf-exporter metrics --json (sidecar) / metrics --json --daemon (daemon)"
  python3 infra/tests/check_metric_drift.py --binary "$bin" "${drift_args[@]}"
fi

if [ "${#skipped[@]}" -gt 0 ]; then
  {
    echo "############################################################"
    echo "# check-infra: SKIPPED (tools missing here): ${skipped[*]}"
    echo "# These parts did NOT pass; they did not run."
    echo "############################################################"
  } >&2
fi
