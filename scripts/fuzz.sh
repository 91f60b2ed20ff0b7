#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time: scripts/fuzz.sh [SECONDS_PER_TARGET]
# (default 60). Not part of CI: `cargo test` replays the committed inputs through the same
# checks instead (tests/it/fuzz_regressions.rs). See fuzz/README.md.
#
# Installs cargo-fuzz (pinned) from crates.io when it is missing. cargo-fuzz needs nightly
# rustc flags: with a nightly toolchain installed it runs `cargo +nightly fuzz`, otherwise the
# stable toolchain with RUSTC_BOOTSTRAP=1.
# Builds with debug assertions (so integer overflow panics) and AddressSanitizer; new inputs
# go to fuzz/corpus/TARGET/ (git-ignored), crashes to fuzz/artifacts/TARGET/.
# Exit status: 0 when no target crashed, 1 when one did (the input's path is printed), 2 for a
# bad argument.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (a whole number of seconds, default 60)" >&2
  exit 2
fi

CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION from crates.io"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

if command -v rustup >/dev/null && rustup toolchain list | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
  toolchain="nightly ($(rustc +nightly --version))"
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
  toolchain="stable with RUSTC_BOOTSTRAP=1 ($(rustc --version))"
fi
echo "== $(cargo fuzz --version), $toolchain, ${seconds}s per target"

mapfile -t targets < <("${fuzz[@]}" list)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "no fuzz targets found in fuzz/" >&2
  exit 1
fi

echo "== building ${targets[*]}"
"${fuzz[@]}" build --debug-assertions

mkdir -p fuzz/artifacts
summary=()
crashed=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log="fuzz/artifacts/$target.log"
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  echo "== $target: ${seconds}s from $started (log: $log)"
  rc=0
  # The first corpus directory receives new inputs; the seeds are only read.
  "${fuzz[@]}" run --debug-assertions "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  execs=${execs:-?}
  if [ "$rc" -eq 0 ]; then
    result="no crash"
  else
    crashed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    result="CRASH (exit $rc): ${artifact:-no artifact written, see $log}"
    tail -n 40 "$log" >&2
    if [ -n "$artifact" ]; then
      echo "reproduce: ${fuzz[*]} run --debug-assertions $target $artifact" >&2
    fi
  fi
  echo "   $target: $result, $execs executions"
  summary+=("$started  $target  ${seconds}s  $execs executions  $result")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "$crashed" -ne 0 ]; then
  echo "a fuzz target crashed: the input is in fuzz/artifacts/ (path above)" >&2
  exit 1
fi
