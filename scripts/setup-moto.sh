#!/usr/bin/env bash
# Installs moto (a local CloudWatch) into .venv at the repo root, for the tests that publish
# metrics through the real AWS SDK (tests/it/support/moto.rs). Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the proxy and the readback lean on moto's CloudWatch behaviour (its quirks are
# documented in tests/it/support/cloudwatch_readback.py), which changes between releases.
exec bash scripts/pinned-venv.sh .venv "moto[server]==5.2.5"
