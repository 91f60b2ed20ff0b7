#!/usr/bin/env bash
# The image and daemon mode end to end: installs Docker (Debian's docker.io) when dockerd is
# missing, starts a private dockerd (its own socket and data root; loopback only: no iptables,
# no bridge) with test AWS credentials in its environment for the awslogs driver, builds the
# image with scripts/build-image.sh and the daemon-mode workload (tests/it/support/loadgen.c,
# static, imported as an image: nothing is pulled), and runs the #[ignore]d tests in
# tests/it/image.rs, tests/it/docker_awslogs.rs and tests/it/daemon.rs against it and a local
# moto. One daemon-mode test starts (and restarts) a dockerd of its own with live restore,
# from the same dockerd binary; another runs the daemon as nobody: these need root, as dockerd
# does.
# When dockerd cannot be installed or started here, or gcc is missing, it says so loudly and
# exits 77: skipped, never passed. scripts/test.sh reports that.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  {
    echo "############################################################"
    echo "# e2e-docker: SKIPPED: $1"
    echo "# The image, awslogs and daemon-mode end-to-end tests did NOT run."
    echo "############################################################"
  } >&2
  exit 77
}

if ! command -v dockerd >/dev/null; then
  echo "== installing docker.io (dockerd is missing)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -q docker.io >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker.io >/dev/null 2>&1; }; }; then
    skip "apt-get install docker.io failed"
  fi
fi
# The daemon-mode workload is a static C program (no image can be pulled here).
command -v gcc >/dev/null || skip "gcc is missing (it builds tests/it/support/loadgen.c)"
# The CLI from the same package: it has BuildKit built in (DOCKER_BUILDKIT=1), which a newer
# CLI without the buildx plugin lacks.
cli=/usr/bin/docker
[ -x "$cli" ] || cli=$(command -v docker) || skip "no docker CLI"

work=$(mktemp -d /tmp/e2e-docker.XXXXXX)
sock=$work/docker.sock
cleanup() {
  if [ -f "$work/dockerd.pid" ]; then
    kill "$(cat "$work/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -e "$work/dockerd.pid" ] || break
      sleep 0.2
    done
  fi
  # dockerd leaves its network namespace mounted under the exec root.
  awk -v dir="$work/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mountpoint; do umount -l "$mountpoint" 2>/dev/null || true; done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

echo "== private dockerd on $sock" >&2
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
  dockerd --iptables=false --ip6tables=false --bridge=none \
  --host "unix://$sock" --data-root "$work/data" --exec-root "$work/exec" \
  --pidfile "$work/dockerd.pid" >"$work/dockerd.log" 2>&1 &
export DOCKER_HOST=unix://$sock
for _ in $(seq 1 60); do
  "$cli" info >/dev/null 2>&1 && break
  sleep 0.5
done
if ! "$cli" info >/dev/null 2>&1; then
  tail -20 "$work/dockerd.log" >&2 || true
  skip "dockerd did not start on this machine (its log is above)"
fi

bash scripts/setup-moto.sh
image=ecs-emf-exporter:e2e
DOCKER=$cli bash scripts/build-image.sh "$image"

echo "== the daemon-mode workload image" >&2
loadgen_image=loadgen:e2e
gcc -static -O2 -o "$work/loadgen" tests/it/support/loadgen.c
tar -C "$work" -c loadgen | "$cli" import --change 'ENTRYPOINT ["/loadgen"]' - "$loadgen_image" >/dev/null

echo "== image, awslogs and daemon-mode end-to-end tests" >&2
E2E_DOCKER=$cli E2E_IMAGE=$image E2E_LOADGEN_IMAGE=$loadgen_image cargo test --locked --test it \
  -- --ignored --test-threads=1 image:: docker_awslogs:: daemon::
