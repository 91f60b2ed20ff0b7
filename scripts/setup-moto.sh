#!/usr/bin/env bash
# Installs moto (a local CloudWatch) into .venv at the repo root, for the tests that publish
# metrics through the real AWS SDK (tests/support/moto.rs). Idempotent: returns at once when
# the pinned version is already there. Prints nothing unless something fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the proxy and the readback lean on moto's CloudWatch behaviour (its quirks are
# documented in tests/support/cloudwatch_readback.py), which changes between releases.
MOTO_VERSION=5.2.5
venv=.venv
py=$venv/bin/python

installed() {
  [ -x "$py" ] && "$py" - "$MOTO_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
import boto3, flask, moto.server  # noqa: F401  (what the server and the readback import)
sys.exit(0 if version("moto") == sys.argv[1] else 1)
EOF
}

if installed; then
  exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! {
  { [ -x "$py" ] || python3 -m venv "$venv"; } &&
    "$py" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
} >"$log" 2>&1; then
  echo "setup-moto: installing moto[server]==$MOTO_VERSION into $venv failed:" >&2
  cat "$log" >&2
  exit 1
fi

if ! installed; then
  echo "setup-moto: moto[server]==$MOTO_VERSION installed, but $py cannot import it" >&2
  exit 1
fi
