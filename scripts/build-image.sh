#!/usr/bin/env bash
# build-image.sh [TAG]   (default ecs-emf-exporter:dev)
# Builds the static binary on this machine and the image from the repo's Dockerfile around it
# (its rootfs-prebuilt path), so no registry is needed: for the end-to-end test, and for users
# without a Rust toolchain inside Docker. Prints the image's size.
#
# Needs cargo and a Docker whose builder is BuildKit: `docker buildx` when installed, else the
# classic CLI with DOCKER_BUILDKIT=1 (Docker 20.10's CLI has it built in). DOCKER names the CLI
# (default: docker); DOCKER_HOST the daemon, as usual.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-ecs-emf-exporter:dev}
docker=${DOCKER:-docker}
target=$(rustc -vV | sed -n 's/^host: //p')

echo "== static binary for $target (+crt-static)" >&2
RUSTFLAGS='-C target-feature=+crt-static' cargo build --locked --release --target "$target" >&2
binary=target/$target/release/ecs-emf-exporter
# A dynamically linked binary would start on this machine and fail in `scratch`.
if command -v file >/dev/null && ! file "$binary" | grep -Eq 'static(-pie)? linked'; then
  echo "build-image: $binary is not statically linked: $(file -b "$binary")" >&2
  exit 1
fi

context=target/image-context
bash scripts/image-rootfs.sh "$binary" "${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$context/rootfs"

echo "== image $tag" >&2
if "$docker" buildx version >/dev/null 2>&1; then
  build=("$docker" buildx build --load)
else
  build=(env DOCKER_BUILDKIT=1 "$docker" build)
fi
# The context holds only the staged rootfs; the Dockerfile comes from the repo.
"${build[@]}" --quiet --build-arg ROOTFS=rootfs-prebuilt -f Dockerfile -t "$tag" "$context" >&2

size=$("$docker" image inspect --format '{{.Size}}' "$tag")
echo "$tag: $size bytes" >&2
