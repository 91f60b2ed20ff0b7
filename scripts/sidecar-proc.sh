# Shell functions shared by scripts/measure.sh and scripts/soak.sh (sourced, not run): the
# release binary, the simulated endpoint, and what /proc says about a running process.
# The caller is in the repository root.

# ECS_EMF_BIN measures another build (A/B comparisons).
bin=${ECS_EMF_BIN:-target/release/ecs-emf-exporter}

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

# free_port: an unused loopback TCP port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT: waits (up to 30 s) until something accepts connections on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# start_local_cloudwatch LOG_DIR: moto (from .venv, scripts/setup-moto.sh) and the tests'
# CBOR proxy in front of it (tests/it/support/cloudwatch_proxy.py), then exports what the
# exporter's AWS SDK needs to publish there. Sets moto_pid and proxy_pid.
start_local_cloudwatch() {
  [ -x .venv/bin/python ] || { echo "no .venv with moto: run scripts/setup-moto.sh" >&2; return 1; }
  local moto_port proxy_port
  moto_port=$(free_port); proxy_port=$(free_port)
  .venv/bin/python -m moto.server -H 127.0.0.1 -p "$moto_port" >"$1/moto.log" 2>&1 &
  moto_pid=$!
  wait_port "$moto_port" || { echo "moto did not start:" >&2; cat "$1/moto.log" >&2; return 1; }
  mkdir -p "$1/proxy-state"
  .venv/bin/python tests/it/support/cloudwatch_proxy.py --listen "$proxy_port" \
    --moto "http://127.0.0.1:$moto_port" --moto-protocol json --state-dir "$1/proxy-state" \
    >"$1/proxy.log" 2>&1 &
  proxy_pid=$!
  wait_port "$proxy_port" || { echo "the proxy did not start:" >&2; cat "$1/proxy.log" >&2; return 1; }
  export AWS_ENDPOINT_URL_CLOUDWATCH=http://127.0.0.1:$proxy_port AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
}

# stdout_through_fifo DIR: makes DIR/out.fifo and copies what is written to it into
# DIR/out.jsonl (sets cat_pid). The exporter's stdout then is a FIFO, as under Docker's
# log drivers, not a regular file: the write path measured is the one ECS runs.
stdout_through_fifo() {
  mkfifo "$1/out.fifo"
  cat "$1/out.fifo" >"$1/out.jsonl" &
  cat_pid=$!
}
