#!/usr/bin/env bash
# actionlint over .github/workflows (run by scripts/test.sh). actionlint also runs shellcheck
# on every `run:` block when shellcheck is on PATH (Debian: apt-get install shellcheck); this
# says which. Exit 77 (cannot run here) when actionlint cannot be installed: see
# scripts/setup-infra-tools.sh --actionlint.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-infra-tools.sh --actionlint
if command -v shellcheck >/dev/null; then
  echo "   shellcheck $(shellcheck --version | sed -n 's/^version: //p') is installed: actionlint checks the run: blocks with it"
else
  echo "   shellcheck is not installed: actionlint does not check the run: blocks' shell"
fi
.venv-infra/bin/actionlint .github/workflows/*.yml
echo "   actionlint $(.venv-infra/bin/actionlint -version | head -1): no problems"
