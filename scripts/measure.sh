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
bin=target/release/ecs-emf-exporter
[ -x "$bin" ] || cargo build --release --locked >&2
work=$(mktemp -d)
cleanup() { kill "${exporter_pid:-}" "${sim_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [ "$containers" -eq 0 ]; then
  uri=http://127.0.0.1:9/v4/closed
else
  "$bin" simulate --platform "$platform" --containers "$containers" 2>"$work/sim.err" >/dev/null &
  sim_pid=$!
  for _ in $(seq 100); do grep -q '^ECS_CONTAINER_METADATA_URI_V4=' "$work/sim.err" && break; sleep 0.05; done
  uri=$(grep -m1 '^ECS_CONTAINER_METADATA_URI_V4=' "$work/sim.err" | cut -d= -f2-)
fi

ECS_CONTAINER_METADATA_URI_V4=$uri ECS_EMF_INTERVAL=1s ECS_EMF_HEALTH_FILE=$work/health \
  "$bin" >"$work/out.jsonl" 2>"$work/exporter.err" &
exporter_pid=$!

cpu_ns() { cat /proc/"$exporter_pid"/task/*/schedstat | awk '{s += $1} END {print s}'; }
task_docs() { grep -c '"Type":"Task"' "$work/out.jsonl" || true; }
if [ "$containers" -eq 0 ] || [ "${ECS_EMF_OUTPUT:-stdout}" != stdout ]; then
  # No documents on stdout to count: one cycle per second by construction.
  task_docs() { awk -v s="$SECONDS" 'BEGIN {print s}'; }
fi

sleep 3 # start-up and first cycles are not steady state
c0=$(task_docs); t0=$(cpu_ns)
sleep "$seconds"
c1=$(task_docs); t1=$(cpu_ns)
rss=$(awk '/^VmRSS/ {print $2}' /proc/"$exporter_pid"/status)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/"$exporter_pid"/status)
cycles=$((c1 - c0))
[ "$cycles" -gt 0 ] || { echo "no cycles measured; exporter log:" >&2; cat "$work/exporter.err" >&2; exit 1; }
per_cycle_us=$(awk -v a="$t0" -v b="$t1" -v n="$cycles" 'BEGIN {printf "%.1f", (b - a) / n / 1000}')
echo "platform=$platform containers=$containers cycles=$cycles cpu_per_cycle_us=$per_cycle_us rss_kib=$rss peak_rss_kib=$hwm"
