#!/usr/bin/env bash
# Dependency policy (deny.toml) with cargo-deny: licences, bans, sources and RustSec advisories.
#
# Exit codes (the contract callers such as scripts/test.sh rely on):
#   0      every check ran and passed: licences, bans, sources AND advisories
#   77     licences, bans and sources passed, but the advisories check could NOT run (the
#          RustSec advisory database could not be fetched): SKIPPED, not passed
#   other  a check failed, or cargo-deny / the crates could not be installed
#
# On a fresh machine it installs what it needs itself: cargo-deny (pinned, built from
# crates.io with `cargo install --locked`; about 2-4 minutes on 2 cores, once per machine) and
# the locked crates (`cargo fetch --locked`). Licences, bans and sources need no network
# beyond that. Advisories need the RustSec database, a git repository on GitHub: where GitHub
# cannot be reached (we found no copy of the database on crates.io, PyPI, npm or Debian: npm's
# osv-offline packages download their data from GitHub at run time, and Debian packages no
# copy), that part is reported as SKIPPED, loudly, and the exit code is 77. A fetch that fails
# for another reason (e.g. an invalid deny.toml) is a failure, not a skip.
#
# Usage: bash scripts/check-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds with Rust >= 1.88 (its rust-version); bump deliberately, then re-run this script.
CARGO_DENY_VERSION=0.20.2
# How long fetching the advisory database may take before it counts as unreachable.
DB_FETCH_TIMEOUT=${DB_FETCH_TIMEOUT:-300}

installed=$(cargo deny --version 2>/dev/null || true)
if [ "$installed" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  echo "== installing cargo-deny $CARGO_DENY_VERSION from crates.io (found: ${installed:-none}; takes a few minutes)"
  start=$SECONDS
  cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
  echo "== cargo-deny installed in $((SECONDS - start)) s"
fi
cargo deny --version

echo "== cargo fetch --locked (the crates whose metadata the checks read)"
cargo fetch --locked

failed=()

echo "== cargo deny check licenses bans sources (offline)"
# Inclusion graphs are hidden to keep the log short (the duplicate-version warnings would
# print hundreds of lines); on a failure the check is run again with them, to show the path
# that brings the offending crate in.
if ! cargo deny --locked --offline check --hide-inclusion-graph licenses bans sources; then
  echo "== FAILED: again with inclusion graphs, to show where the offending crates come from"
  cargo deny --locked --offline check licenses bans sources || true
  failed+=("licenses/bans/sources")
fi

echo "== cargo deny check advisories (RustSec database)"
advisories=skipped
db_error=$(mktemp)
trap 'rm -f "$db_error"' EXIT
rc=0
timeout "$DB_FETCH_TIMEOUT" cargo deny --locked fetch db 2>"$db_error" || rc=$?
if [ "$rc" -eq 0 ]; then
  cat "$db_error" >&2
  # The database is fresh (just fetched), so the check itself runs offline. Unmaintained
  # advisories are warnings here (see deny.toml); vulnerabilities and unsound ones are errors.
  if cargo deny --locked --offline check --warn unmaintained advisories; then
    advisories=passed
  else
    advisories=failed
    failed+=("advisories")
  fi
elif [ "$rc" -ne 124 ] && ! grep -q 'failed to fetch' "$db_error"; then
  # Not a network failure (e.g. an invalid deny.toml): that is an error, not a skip.
  cat "$db_error" >&2
  advisories=failed
  failed+=("advisories (cargo deny fetch db exited $rc)")
else
  reason=$(grep -v '^[[:space:]]*$' "$db_error" | tail -n 3 || true)
  if [ "$rc" -eq 124 ]; then
    reason="timed out after ${DB_FETCH_TIMEOUT} s; $reason"
  fi
  cat >&2 <<EOF

##############################################################################################
#  ADVISORIES CHECK SKIPPED -- NOT PASSED
#
#  The RustSec advisory database could not be fetched, so Cargo.lock was NOT checked for
#  known vulnerabilities, unsound or unmaintained crates. The database is a git repository
#  on GitHub (github.com/rustsec/advisory-db); we found no copy of it on crates.io, PyPI,
#  npm or Debian, so a machine that reaches only those registries cannot run this check.
#
#  Why the fetch failed:
$(printf '%s\n' "$reason" | sed 's/^/#    /')
#
#  Run this script on a machine that can reach github.com to get a real answer.
##############################################################################################

EOF
fi

echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "check-deps: FAILED: ${failed[*]} (advisories: $advisories)"
  exit 1
fi
if [ "$advisories" = skipped ]; then
  echo "check-deps: licenses, bans, sources passed; advisories SKIPPED (database unreachable), not passed"
  exit 77
fi
echo "check-deps: licenses, bans, sources and advisories passed"
