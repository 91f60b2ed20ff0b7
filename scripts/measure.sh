#!/usr/bin/env bash
# Measures the real release binary as a sidecar: CPU time per collection cycle (from
# /proc/<pid>/task/*/schedstat, nanoseconds, all threads) and resident memory, at a 1 s
# interval against `ecs-emf-exporter simulate` with N containers.
#
#   scripts/measure.sh [containers=3] [seconds=30] [platform=fargate]
#
# Other outputs: set ECS_EMF_OUTPUT (and its settings) in the environment.
# containers=0 measures the floor instead: the same binary polling a closed loopback port,
# so each cycle is only a timer wake-up and a refused connection.
#
# Prints one line: containers, cycles measured, CPU µs per cycle, RSS and peak RSS (KiB).
set -euo pipefail
cd "$(dirname "$0")/.."
containers=${1:-3}
seconds=${2:-30}
platform=${3:-fargate}
. scripts/sidecar-proc.sh
ensure_release_binary
work=$(mktemp -d)
cleanup() { kill "${exporter_pid:-}" "${sim_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [ "$containers" -eq 0 ]; then
  uri=http://127.0.0.1:9/v4/closed
else
  start_simulator "$containers" "$platform" "$work/sim.err" ||
    { echo "the simulator printed no URL:" >&2; cat "$work/sim.err" >&2; exit 1; }
fi

ECS_CONTAINER_METADATA_URI_V4=$uri ECS_EMF_INTERVAL=1s ECS_EMF_HEALTH_FILE=$work/health \
  "$bin" >"$work/out.jsonl" 2>"$work/exporter.err" &
exporter_pid=$!

task_docs() { grep -c '"Type":"Task"' "$work/out.jsonl" || true; }
if [ "$containers" -eq 0 ] || [ "${ECS_EMF_OUTPUT:-stdout}" != stdout ]; then
  # No documents on stdout to count: one cycle per second by construction.
  task_docs() { awk -v s="$SECONDS" 'BEGIN {print s}'; }
fi

sleep 3 # start-up and first cycles are not steady state
c0=$(task_docs); t0=$(cpu_ns "$exporter_pid")
sleep "$seconds"
c1=$(task_docs); t1=$(cpu_ns "$exporter_pid")
rss=$(status_kib "$exporter_pid" VmRSS)
hwm=$(status_kib "$exporter_pid" VmHWM)
cycles=$((c1 - c0))
[ "$cycles" -gt 0 ] || { echo "no cycles measured; exporter log:" >&2; cat "$work/exporter.err" >&2; exit 1; }
per_cycle_us=$(awk -v a="$t0" -v b="$t1" -v n="$cycles" 'BEGIN {printf "%.1f", (b - a) / n / 1000}')
echo "platform=$platform containers=$containers cycles=$cycles cpu_per_cycle_us=$per_cycle_us rss_kib=$rss peak_rss_kib=$hwm"
