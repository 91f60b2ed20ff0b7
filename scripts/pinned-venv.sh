#!/usr/bin/env bash
# pinned-venv.sh VENV 'dist[extra]==VERSION'...
# Makes VENV (at the repo root) hold exactly these pinned distributions. Idempotent: returns
# at once when every pin is already installed. Prints nothing unless something fails.
# Used by setup-moto.sh and setup-infra-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$1
shift
py=$venv/bin/python

installed() {
  [ -x "$py" ] && "$py" - "$@" >/dev/null 2>&1 <<'PY'
import re
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    if version(re.sub(r"\[.*\]", "", name)) != wanted:
        sys.exit(1)
PY
}

if installed "$@"; then
  exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! {
  { [ -x "$py" ] || python3 -m venv "$venv"; } &&
    "$py" -m pip install --quiet --disable-pip-version-check "$@"
} >"$log" 2>&1; then
  echo "pinned-venv: installing $* into $venv failed:" >&2
  cat "$log" >&2
  exit 1
fi

if ! installed "$@"; then
  echo "pinned-venv: $* installed into $venv, but the versions do not match" >&2
  exit 1
fi
