# Shell functions shared by scripts/measure.sh and scripts/soak.sh (sourced, not run): the
# release binary, the simulated endpoint, and what /proc says about a running process.
# The caller is in the repository root.

bin=target/release/ecs-emf-exporter

# Builds the release binary if it is not there yet (build output on stderr).
ensure_release_binary() { [ -x "$bin" ] || cargo build --release --locked >&2; }

# start_simulator CONTAINERS PLATFORM STDERR_FILE: starts `simulate` in the background and
# waits (up to 5 s) for the URL it prints. Sets sim_pid and uri; returns 1 without a URL.
start_simulator() {
  "$bin" simulate --platform "$2" --containers "$1" 2>"$3" >/dev/null &
  sim_pid=$!
  for _ in $(seq 100); do grep -qs '^ECS_CONTAINER_METADATA_URI_V4=' "$3" && break; sleep 0.05; done
  uri=$(grep -m1 '^ECS_CONTAINER_METADATA_URI_V4=' "$3" | cut -d= -f2-) || true
  [ -n "$uri" ]
}

# cpu_ns PID: CPU time of all the process's threads, user and kernel, in nanoseconds.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {print s}'; }

# status_kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM, RssAnon, ...).
status_kib() { awk -v f="$2:" '$1 == f {print $2}' /proc/"$1"/status; }
