#!/usr/bin/env bash
# What the hardware and kernel cost before the exporter does anything: two tiny C programs
# (benches/floor/) measured exactly as scripts/measure.sh measures the exporter (CPU time
# per cycle from /proc/<pid>/schedstat, all threads, 1 s apart).
#   wake      sleep one second, wake, nothing else
#   two_gets  wake, then the cycle's two keep-alive HTTP requests to `simulate`, responses
#             read whole (no parsing, no output)
#
#   scripts/measure-floor.sh [containers=3] [seconds=30]
#
# Prints one line per program. Needs gcc.
set -euo pipefail
cd "$(dirname "$0")/.."
containers=${1:-3}
seconds=${2:-30}
. scripts/sidecar-proc.sh
ensure_release_binary
work=$(mktemp -d)
cleanup() { kill "${prog_pid:-}" "${sim_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for c in wake two_gets; do gcc -O2 -o "$work/$c" "benches/floor/$c.c"; done

# per_cycle NAME: CPU µs per second of the running program prog_pid, over $seconds.
per_cycle() {
  sleep 2
  local t0 t1
  t0=$(cpu_ns "$prog_pid"); sleep "$seconds"; t1=$(cpu_ns "$prog_pid")
  awk -v n="$1" -v a="$t0" -v b="$t1" -v s="$seconds" -v c="$containers" \
    'BEGIN {printf "floor=%s containers=%s cpu_per_cycle_us=%.1f\n", n, c, (b - a) / s / 1000}'
  kill "$prog_pid"; wait "$prog_pid" 2>/dev/null || true
}

"$work/wake" & prog_pid=$!
per_cycle wake
start_simulator "$containers" fargate "$work/sim.err" ||
  { echo "the simulator printed no URL:" >&2; cat "$work/sim.err" >&2; exit 1; }
rest=${uri#http://127.0.0.1:}
"$work/two_gets" "${rest%%/*}" "/${rest#*/}" & prog_pid=$!
per_cycle two_gets
