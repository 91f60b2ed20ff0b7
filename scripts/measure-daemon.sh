#!/usr/bin/env bash
# Measures the release binary in daemon mode: CPU time per cycle (all threads, from
# /proc/<pid>/task/*/schedstat) and resident memory at a 1 s interval, with N real containers
# on one Docker daemon, two per task (N/2 tasks), listed by `simulate --platform ec2
# --agent-tasks`. The containers are idle (a static `pause()` loop): what is measured is the
# exporter's work per container, not a neighbour's load on this 2-core VM.
#
#   DOCKER_HOST=unix:///path/docker.sock scripts/measure-daemon.sh [containers=10] [seconds=30]
#
# Needs a running dockerd at DOCKER_HOST (scripts/e2e-docker.sh shows how to start a private
# one here), the docker CLI and gcc. The host's cgroup tree is read at /sys/fs/cgroup. Prints
# one line like scripts/measure.sh, plus the wall time per cycle and, with DOCKERD_PID set,
# the CPU time dockerd spent per cycle answering (its own threads only, not containerd's). Compare with the sidecar mode on the same host: N/2 tasks
# each with its own sidecar over 2 containers is N/2 × `scripts/measure.sh 2 30 ec2`.
set -euo pipefail
cd "$(dirname "$0")/.."
containers=${1:-10}
seconds=${2:-30}
[ -n "${DOCKER_HOST:-}" ] || { echo "set DOCKER_HOST to a running dockerd (unix:///...)" >&2; exit 2; }
[ "$containers" -ge 2 ] && [ $((containers % 2)) -eq 0 ] ||
  { echo "containers: an even number >= 2 (two per task)" >&2; exit 2; }
docker=${DOCKER:-docker}
. scripts/sidecar-proc.sh
ensure_release_binary
work=$(mktemp -d)
run_id=measure-$$
cleanup() {
  kill "${exporter_pid:-}" "${sim_pid:-}" "${cat_pid:-}" 2>/dev/null || true
  # MEASURE_LOG=FILE keeps the exporter's log.
  [ -z "${MEASURE_LOG:-}" ] || cp "$work/exporter.err" "$MEASURE_LOG" 2>/dev/null || true
  "$docker" ps -aq --filter "label=measure-daemon=$run_id" | xargs -r "$docker" rm -f >/dev/null 2>&1 || true
  # The task cgroups Docker made for --cgroup-parent (rmdir: only once empty).
  for t in $(seq 1 "${tasks:-0}"); do
    rmdir /sys/fs/cgroup/ecs/"$(printf '%032x' "$t")" /sys/fs/cgroup/*/ecs/"$(printf '%032x' "$t")" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# An idle static workload, imported as an image (nothing can be pulled here).
mkdir -p "$work/rootfs"
printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' >"$work/idle.c"
gcc -static -O2 -o "$work/rootfs/idle" "$work/idle.c"
tar -C "$work/rootfs" -c idle | "$docker" import --change 'ENTRYPOINT ["/idle"]' - measure-idle:local >/dev/null

cluster=measure
tasks=$((containers / 2))
echo "== starting $containers containers in $tasks tasks" >&2
{
  printf '{"Tasks":['
  for t in $(seq 1 "$tasks"); do
    task_id=$(printf '%032x' "$t")
    arn="arn:aws:ecs:us-east-1:123456789012:task/$cluster/$task_id"
    ids=()
    for name in app log; do
      ids+=("$("$docker" run -d --network none --memory 32m --cpu-shares 128 \
        --cgroup-parent "/ecs/$task_id" --label "measure-daemon=$run_id" \
        --label com.amazonaws.ecs.cluster=$cluster --label "com.amazonaws.ecs.task-arn=$arn" \
        --label com.amazonaws.ecs.task-definition-family=svc$((t % 5)) \
        --label com.amazonaws.ecs.task-definition-version=1 \
        --label "com.amazonaws.ecs.container-name=$name" measure-idle:local)")
    done
    [ "$t" -eq 1 ] || printf ','
    printf '{"Arn":"%s","DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Family":"svc%d","Version":"1","Containers":[' "$arn" $((t % 5))
    printf '{"DockerId":"%s","DockerName":"ecs-svc-app-%d","Name":"app"},' "${ids[0]}" "$t"
    printf '{"DockerId":"%s","DockerName":"ecs-svc-log-%d","Name":"log"}]}' "${ids[1]}" "$t"
  done
  printf ']}\n'
} >"$work/tasks.json"

port=$(free_port)
"$bin" simulate --platform ec2 --agent-tasks "$work/tasks.json" --port "$port" >/dev/null 2>"$work/sim.err" &
sim_pid=$!
wait_port "$port" || { echo "the simulator did not start:" >&2; cat "$work/sim.err" >&2; exit 1; }

stdout_through_fifo "$work"
ECS_EMF_INTERVAL=1s "$bin" daemon --introspection-uri "http://127.0.0.1:$port" \
  --docker-host "$DOCKER_HOST" >"$work/out.fifo" 2>"$work/exporter.err" &
exporter_pid=$!

task_docs() { grep -c '"Type":"Task"' "$work/out.jsonl" || true; }
# Start-up and the first cycles are not steady state: Docker answers a container's first
# stats request slowly (its collector starts then; 4.7 s for 200 containers here), so the
# first cycle may overrun the interval and say so. Measuring starts once three cycles have
# published every task, and warnings from then on fail the run.
for _ in $(seq 1 600); do
  [ "$(task_docs)" -lt $((3 * tasks)) ] || break
  kill -0 "$exporter_pid" 2>/dev/null || { cat "$work/exporter.err" >&2; exit 1; }
  sleep 0.1
done
[ "$(task_docs)" -ge $((3 * tasks)) ] ||
  { echo "no three cycles within 60 s; exporter log:" >&2; cat "$work/exporter.err" >&2; exit 1; }
sleep 0.5
c0=$(task_docs); t0=$(cpu_ns "$exporter_pid")
d0=""
[ -z "${DOCKERD_PID:-}" ] || d0=$(cpu_ns "$DOCKERD_PID")
warnings_before=$(grep -c ' WARN ' "$work/exporter.err" || true)
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
# One task document per task per cycle.
cycles=$(((c1 - c0) / tasks))
[ "$cycles" -gt 0 ] || { echo "no cycles measured; exporter log:" >&2; cat "$work/exporter.err" >&2; exit 1; }
if [ "$(grep -c ' WARN ' "$work/exporter.err" || true)" -ne "$warnings_before" ]; then
  echo "the daemon warned; its log:" >&2
  cat "$work/exporter.err" >&2
  exit 1
fi
per_cycle_us=$(awk -v a="$t0" -v b="$t1" -v n="$cycles" 'BEGIN {printf "%.1f", (b - a) / n / 1000}')
median_us=$(printf '%s\n' "${samples[@]}" | awk 'NR > 1 {print ($1 - prev) / 1000} {prev = $1}' |
  sort -n | awk '{v[NR] = $1} END {printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
# A cycle may take longer than the 1 s interval (the ticks it overran are skipped): then
# the median of the per-second samples is not a cycle's, and the mean per cycle is the figure.
wall_ms=$(awk -v s="$seconds" -v n="$cycles" 'BEGIN {printf "%.0f", s * 1000 / n}')
dockerd_field=""
if [ -n "$d0" ]; then
  d1=$(cpu_ns "$DOCKERD_PID")
  dockerd_field=" dockerd_cpu_per_cycle_us=$(awk -v a="$d0" -v b="$d1" -v n="$cycles" 'BEGIN {printf "%.1f", (b - a) / n / 1000}')"
fi
echo "mode=daemon containers=$containers tasks=$tasks cycles=$cycles wall_per_cycle_ms=$wall_ms" \
  "cpu_per_cycle_us=$per_cycle_us median_second_us=$median_us rss_kib=$rss anon_kib=$anon peak_rss_kib=$hwm$dockerd_field"
