#!/usr/bin/env bash
# Checks the CDK construct: npm ci, tsc (typecheck + build into build/), node --test on the
# compiled tests, jsii (the public API is jsii-compatible; dist/ and the .jsii assembly), npm pack,
# a fresh CDK app in a temporary directory that installs that tarball and synthesizes with it,
# an offline `cdk synth` of the example app, and cfn-lint on what both synthesize.
#   bash infra/cdk/check.sh [--template-dir OUT_DIR]
# With --template-dir the synthesized cloud assembly (*.template.json among it) is left in
# OUT_DIR for the drift checker; otherwise it goes to a temporary directory.
# Exit 77 (SKIPPED) when node/npm are missing: the caller reports it, never as a pass.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

template_dir=""
while [ $# -gt 0 ]; do
  case $1 in
    --template-dir)
      [ $# -ge 2 ] || { echo "check.sh: --template-dir needs a directory" >&2; exit 2; }
      template_dir=$2
      shift 2
      ;;
    *)
      echo "usage: bash infra/cdk/check.sh [--template-dir OUT_DIR]" >&2
      exit 2
      ;;
  esac
done

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  {
    echo "############################################################"
    echo "# infra/cdk/check.sh: SKIPPED — node and npm are required"
    echo "# The CDK construct was NOT built, tested, synthesized or linted."
    echo "############################################################"
  } >&2
  exit 77
fi

cfn_lint=$repo/.venv-infra/bin/cfn-lint
if [ ! -x "$cfn_lint" ]; then
  bash "$repo/scripts/setup-infra-tools.sh"
fi

# Resolve OUT_DIR before changing directory, so a relative path means the caller's cwd.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "$template_dir" ]; then
  mkdir -p "$template_dir"
  out=$(cd "$template_dir" && pwd)
else
  out=$work/cdk.out
fi

cd "$here"
npm ci --silent --no-audit --no-fund
npx --no-install tsc
# Explicit file list: node 20's --test has no glob support of its own.
node --test --test-reporter=spec build/test/*.test.js

# jsii: fails on any jsii error or warning (C# reserved words, e.g. the namespace prop, are
# silenced: the bindings escape them); writes dist/ and .jsii, the package's contents.
npm run --silent jsii
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/ecs-emf-exporter-cdk-*.tgz)
bash "$here/package-test/check-package.sh" "$tarball" "$work/consumer"

# Offline and quiet: no version check, no notices, no telemetry; the example does no lookups.
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
npx --no-install cdk synth --no-notices --quiet -o "$out" >/dev/null

templates=("$out"/*.template.json)
if [ ! -f "${templates[0]}" ]; then
  echo "check.sh: cdk synth wrote no *.template.json into $out" >&2
  exit 1
fi
# No rule is ignored: the example's and the package consumer's templates lint clean.
"$cfn_lint" -- "${templates[@]}" "$work"/consumer/cdk.out/*.template.json
echo "infra/cdk: jsii, the packed tarball in a fresh app, ${#templates[@]} template(s) synthesized into $out, tests and cfn-lint passed"
