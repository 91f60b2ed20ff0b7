#!/usr/bin/env bash
# Instructions per collection cycle of the real release binary as a sidecar, counted by
# valgrind's callgrind: repeatable for the same binary and inputs whatever else the machine is
# doing, so two builds can be compared where CPU time on this VM swings by ±20 %.
#
#   scripts/measure-instructions.sh [containers=3] [seconds=15]
#
# Runs the sidecar twice under callgrind against `simulate` with N containers: `--once`
# (start-up and one cycle), then at a 1 s interval for SECONDS, stopped with SIGTERM. The
# per-cycle count is the difference divided by the cycles in between, so start-up cancels out.
# ECS_EMF_BIN measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
containers=${1:-3}
seconds=${2:-15}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 77; }
. scripts/sidecar-proc.sh
ensure_release_binary
work=$(mktemp -d)
cleanup() {
  kill "${sim_pid:-}" "${vg_pid:-}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_simulator "$containers" fargate "$work/sim.err" ||
  { echo "the simulator printed no URL:" >&2; cat "$work/sim.err" >&2; exit 1; }

# instructions FILE: the total callgrind counted.
instructions() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

env -i ECS_CONTAINER_METADATA_URI_V4="$uri" \
  valgrind --tool=callgrind --callgrind-out-file="$work/once.out" "$bin" --once \
  >/dev/null 2>"$work/once.err"
env -i ECS_CONTAINER_METADATA_URI_V4="$uri" ECS_EMF_INTERVAL=1s \
  ECS_EMF_HEALTH_FILE="$work/health" \
  valgrind --tool=callgrind --callgrind-out-file="$work/run.out" "$bin" \
  >/dev/null 2>"$work/run.err" &
vg_pid=$!
sleep "$seconds"
kill -TERM "$vg_pid"
wait "$vg_pid" || true
cycles=$(grep -o 'cycles=[0-9]*' "$work/run.err" | tail -1 | cut -d= -f2)
once=$(instructions "$work/once.out")
run=$(instructions "$work/run.out")
if [ -z "$cycles" ] || [ "$cycles" -lt 2 ]; then
  echo "the sidecar reported no cycles:" >&2; cat "$work/run.err" >&2; exit 1
fi
echo "containers=$containers cycles=$cycles instructions_once=$once instructions_run=$run" \
  "instructions_per_cycle=$(( (run - once) / (cycles - 1) ))"
