#!/usr/bin/env bash
# Soak test: the release binary as a sidecar at a 1 s interval against
# `ecs-emf-exporter simulate --containers 10` for SECONDS (default 600), sampled every few
# seconds, then checked for slow trouble: leaks, creeping CPU, lost cycles, bad output.
#
#   scripts/soak.sh [SECONDS=600]          # CI runs: scripts/soak.sh 45
#
# Environment: SOAK_CONTAINERS (10), SOAK_SAMPLE_EVERY (seconds between samples, 5),
# SOAK_BIN (the binary; default target/release/ecs-emf-exporter, built if missing),
# SOAK_SAMPLES (a file to keep every sample in). Other ECS_EMF_* settings pass through.
#
# Each sample, from /proc/<pid> as in scripts/measure.sh: VmRSS, RssAnon and VmHWM (KiB),
# CPU time of all threads (schedstat, ns), open file descriptors, threads, and cycles done
# (task documents on stdout). After a warm-up (the first 10 % of the run, at least 5 s),
# scripts/soak-check.py fails the run when:
#   - VmRSS grew by more than 512 KiB from the first sample after warm-up to the last;
#   - RssAnon (heap, stacks: where a leak goes) grew by more than 48 KiB over the second
#     half of the run (memory still climbing);
#   - the median CPU per cycle over the last third is more than 1.5 x that of the first third;
#   - file descriptors or threads are above their post-warm-up count for the whole last third;
#   - fewer cycles than seconds (one per second, the first at once; up to max(2, 1 %) lost
#     to scheduling delays), or not one document per container in every cycle;
#   - a stdout line is not a JSON EMF document, or stderr has a WARN, ERROR or panic;
#   - the exporter does not stop on SIGTERM with exit 0 and a summary matching its output.
# Prints a table of the samples, one line per check and a summary line; exits 1 on failure.
# On exit or interrupt it stops the exporter and the simulator (TERM, then KILL after 5 s).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
containers=${SOAK_CONTAINERS:-10}
every=${SOAK_SAMPLE_EVERY:-5}
for v in "$seconds" "$containers" "$every"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/soak.sh [SECONDS >= 20]; got '$v'" >&2; exit 2; }
done
[ "$seconds" -ge 20 ] || { echo "soak: SECONDS must be at least 20 (warm-up plus 3 samples)" >&2; exit 2; }
. scripts/sidecar-proc.sh
if [ -n "${SOAK_BIN:-}" ]; then
  bin=$SOAK_BIN
  [ -x "$bin" ] || { echo "soak: SOAK_BIN=$bin is not an executable file" >&2; exit 2; }
else
  ensure_release_binary
fi

work=$(mktemp -d)
exporter_pid='' sim_pid='' sleep_pid='' cat_pid=''
# alive PID: the process runs (an exited child stays a zombie until waited for).
alive() {
  local state
  state=$(awk '$1 == "State:" {print $2}' /proc/"${1:-none}"/status 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
any_alive() { local pid; for pid; do alive "$pid" && return 0; done; return 1; }
# stop PID...: TERM, up to 5 s to exit, then KILL; reaps them.
stop() {
  local pid pids=() i
  for pid in "$@"; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && pids+=("$pid"); done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in $(seq 50); do any_alive "${pids[@]}" || break; sleep 0.1; done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM HUP
  stop "$sleep_pid" "$exporter_pid" "$sim_pid" "$cat_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "soak: interrupted; stopping the exporter and the simulator" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# A sleep that a signal interrupts at once (a foreground sleep would delay the traps).
pause() { sleep "$1" & sleep_pid=$!; wait "$sleep_pid" || true; sleep_pid=''; }
die() { echo "soak: FAIL: $*" >&2; exit 1; }

start_simulator "$containers" fargate "$work/sim.err" ||
  { cat "$work/sim.err" >&2; die "the simulator printed no URL"; }
# stdout is a FIFO, as under Docker's log drivers (the exporter writes it non-blocking).
stdout_through_fifo "$work"
ECS_CONTAINER_METADATA_URI_V4=$uri ECS_EMF_INTERVAL=1s ECS_EMF_OUTPUT=stdout \
  ECS_EMF_LOG_FORMAT=text ECS_EMF_LOG_LEVEL=info ECS_EMF_HEALTH_FILE=$work/health \
  "$bin" >"$work/out.fifo" 2>"$work/exporter.err" &
exporter_pid=$!
start_us=${EPOCHREALTIME/./}
echo "soak: $bin, 1 s interval, $containers containers, $seconds s, a sample every $every s" >&2
# The first sample once the first cycle is out (at most 5 s; sample() notices a dead exporter).
for _ in $(seq 100); do grep -qs '"Type":"Task"' "$work/out.jsonl" && break; alive "$exporter_pid" || break; sleep 0.05; done

# One tab-separated line: t_s cycles rss_kib anon_kib hwm_kib cpu_ns fds threads.
sample() {
  local now_us state='' rss anon hwm threads cpu fds cycles
  now_us=${EPOCHREALTIME/./}
  read -r state rss anon hwm threads < <(awk '$1 == "State:" {s = $2} $1 == "VmRSS:" {r = $2}
    $1 == "RssAnon:" {a = $2} $1 == "VmHWM:" {h = $2} $1 == "Threads:" {t = $2}
    END {print s, r + 0, a + 0, h + 0, t + 0}' /proc/"$exporter_pid"/status 2>/dev/null) || true
  cpu=$(cpu_ns "$exporter_pid" 2>/dev/null) || cpu=''
  fds=(/proc/"$exporter_pid"/fd/*)
  if [ -z "$state" ] || [ "$state" = Z ] || [ -z "$cpu" ] || ! alive "$exporter_pid"; then
    local rc=0
    wait "$exporter_pid" || rc=$?
    tail -n 20 "$work/exporter.err" >&2
    exporter_pid=''
    die "the exporter exited (status $rc) after $(((now_us - start_us) / 1000000)) s (its last log lines above)"
  fi
  cycles=$(grep -cs '"Type":"Task"' "$work/out.jsonl") || cycles=0
  printf '%d.%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $(((now_us - start_us) / 1000000)) \
    $(((now_us - start_us) % 1000000 / 100000)) "$cycles" "$rss" "$anon" "$hwm" \
    "$cpu" "${#fds[@]}" "$threads" >>"$work/samples"
}

end_us=$((start_us + seconds * 1000000))
next_us=$start_us
last_report=0
while :; do
  sample
  now_us=${EPOCHREALTIME/./}
  [ "$now_us" -lt "$end_us" ] || break
  if [ $(((now_us - start_us) / 60000000)) -gt "$last_report" ]; then
    last_report=$(((now_us - start_us) / 60000000))
    echo "soak: $((last_report * 60)) of $seconds s: $(tail -n 1 "$work/samples" | cut -f2) cycles" >&2
  fi
  next_us=$((next_us + every * 1000000))
  [ "$next_us" -le "$end_us" ] || next_us=$end_us
  [ "$next_us" -le "$now_us" ] || pause "$(printf '%d.%06d' $(((next_us - now_us) / 1000000)) $(((next_us - now_us) % 1000000)))"
done

stop_us=${EPOCHREALTIME/./}
kill -TERM "$exporter_pid"
for _ in $(seq 100); do alive "$exporter_pid" || break; sleep 0.1; done
! alive "$exporter_pid" || die "the exporter did not exit within 10 s of SIGTERM"
exporter_rc=0
wait "$exporter_pid" || exporter_rc=$?
exporter_pid=''
wait "$cat_pid" || true # the copy ends when the exporter's stdout closes
cat_pid=''
stop "$sim_pid"
sim_pid=''
[ -z "${SOAK_SAMPLES:-}" ] || cp "$work/samples" "$SOAK_SAMPLES"

python3 scripts/soak-check.py --samples "$work/samples" --stdout "$work/out.jsonl" \
  --stderr "$work/exporter.err" --exit-code "$exporter_rc" --containers "$containers" \
  --elapsed "$(awk -v us=$((stop_us - start_us)) 'BEGIN {printf "%.3f", us / 1e6}')" || {
  echo "soak: exporter log (last 20 lines):" >&2
  tail -n 20 "$work/exporter.err" >&2
  exit 1
}
