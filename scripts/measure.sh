#!/usr/bin/env bash
# Measures the real release binary as a sidecar: CPU time per collection cycle (from
# /proc/<pid>/task/*/schedstat, nanoseconds, all threads) and resident memory, at a 1 s
# interval against `ecs-emf-exporter simulate` with N containers.
#
#   scripts/measure.sh [containers=3] [seconds=30] [platform=fargate]
#
# Other outputs: set ECS_EMF_OUTPUT (and its settings) in the environment. With
# ECS_EMF_OUTPUT=cloudwatch and no AWS_ENDPOINT_URL_CLOUDWATCH, the script starts moto and
# the tests' CBOR proxy (scripts/setup-moto.sh installs them) and publishes there.
# ECS_EMF_BIN measures another build.
# containers=0 measures the floor instead: the same binary polling a closed loopback port,
# so each cycle is only a timer wake-up and a refused connection.
#
# Prints one line: containers, cycles measured, CPU µs per cycle (mean and median), RSS,
# its anonymous part and peak RSS (KiB).
set -euo pipefail
cd "$(dirname "$0")/.."
containers=${1:-3}
seconds=${2:-30}
platform=${3:-fargate}
. scripts/sidecar-proc.sh
ensure_release_binary
work=$(mktemp -d)
cleanup() {
  kill "${exporter_pid:-}" "${sim_pid:-}" "${proxy_pid:-}" "${moto_pid:-}" "${cat_pid:-}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ "${ECS_EMF_OUTPUT:-stdout}" = cloudwatch ] && [ -z "${AWS_ENDPOINT_URL_CLOUDWATCH:-}" ]; then
  start_local_cloudwatch "$work"
fi

if [ "$containers" -eq 0 ]; then
  uri=http://127.0.0.1:9/v4/closed
else
  start_simulator "$containers" "$platform" "$work/sim.err" ||
    { echo "the simulator printed no URL:" >&2; cat "$work/sim.err" >&2; exit 1; }
fi

stdout_through_fifo "$work"
ECS_CONTAINER_METADATA_URI_V4=$uri ECS_EMF_INTERVAL=1s ECS_EMF_HEALTH_FILE=$work/health \
  "$bin" >"$work/out.fifo" 2>"$work/exporter.err" &
exporter_pid=$!

task_docs() { grep -c '"Type":"Task"' "$work/out.jsonl" || true; }
if [ "$containers" -eq 0 ] || [ "${ECS_EMF_OUTPUT:-stdout}" != stdout ]; then
  # No documents on stdout to count: one cycle per second by construction.
  task_docs() { awk -v s="$SECONDS" 'BEGIN {print s}'; }
fi

sleep 3.5 # start-up and first cycles are not steady state; then sample mid-way between cycles
# CPU time once a second on a fixed schedule: each difference is one cycle's CPU. The mean
# is the total over the cycles counted; the median is robust to the odd cycle that a busy
# neighbour on the VM slowed down (the figure docs/performance.md compares).
c0=$(task_docs); t0=$(cpu_ns "$exporter_pid")
start_us=${EPOCHREALTIME/./}
samples=("$t0")
for i in $(seq "$seconds"); do
  now_us=${EPOCHREALTIME/./}
  wait_us=$((start_us + i * 1000000 - now_us))
  [ "$wait_us" -le 0 ] || sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))"
  samples+=("$(cpu_ns "$exporter_pid")")
done
c1=$(task_docs); t1=${samples[-1]}
rss=$(status_kib "$exporter_pid" VmRSS)
anon=$(status_kib "$exporter_pid" RssAnon)
hwm=$(status_kib "$exporter_pid" VmHWM)
cycles=$((c1 - c0))
[ "$cycles" -gt 0 ] || { echo "no cycles measured; exporter log:" >&2; cat "$work/exporter.err" >&2; exit 1; }
per_cycle_us=$(awk -v a="$t0" -v b="$t1" -v n="$cycles" 'BEGIN {printf "%.1f", (b - a) / n / 1000}')
median_us=$(printf '%s\n' "${samples[@]}" | awk 'NR > 1 {print ($1 - prev) / 1000} {prev = $1}' |
  sort -n | awk '{v[NR] = $1} END {printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "platform=$platform output=${ECS_EMF_OUTPUT:-stdout} containers=$containers cycles=$cycles" \
  "cpu_per_cycle_us=$per_cycle_us median_cycle_us=$median_us rss_kib=$rss anon_kib=$anon peak_rss_kib=$hwm"
