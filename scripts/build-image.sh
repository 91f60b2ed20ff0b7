#!/usr/bin/env bash
# build-image.sh [TAG]   (default ecs-emf-exporter:dev)
# Builds the static binary on this machine (scripts/build-static.sh) and the image from the
# repo's Dockerfile around it (its rootfs-prebuilt path), so no registry is needed: for the
# end-to-end test, and for users without a Rust toolchain inside Docker. Prints the image's
# size.
#
# ARCH (amd64 or arm64; default: the architecture rustc builds for here) picks the image's
# architecture. Another one than this machine's cross-compiles (see scripts/build-static.sh for
# what that needs) and builds the image with --platform linux/ARCH; it then runs here only
# under emulation. The build context holds rootfs/ARCH, the directory the Dockerfile's
# rootfs-prebuilt stage copies for TARGETARCH (scripts/target-arch.sh names it).
#
# Needs cargo and a Docker whose builder is BuildKit: `docker buildx` when installed, else the
# classic CLI with DOCKER_BUILDKIT=1 (Docker 20.10's CLI has it built in). DOCKER names the CLI
# (default: docker); DOCKER_HOST the daemon, as usual.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-ecs-emf-exporter:dev}
docker=${DOCKER:-docker}
host_arch=$(sh scripts/target-arch.sh arch "$(rustc -vV | sed -n 's/^host: //p')")
arch=${ARCH:-$host_arch}
# Refuse an unknown architecture before any build starts.
rootfs=$(sh scripts/target-arch.sh rootfs "$arch")

binary=$(sh scripts/build-static.sh "$arch")

context=target/image-context
rm -rf "$context"
bash scripts/image-rootfs.sh "$binary" "${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$context/$rootfs"

echo "== image $tag (linux/$arch)" >&2
if "$docker" buildx version >/dev/null 2>&1; then
  build=("$docker" buildx build --load)
else
  build=(env DOCKER_BUILDKIT=1 "$docker" build)
fi
# BuildKit sets TARGETARCH from the platform: this machine's unless --platform says otherwise.
platform=()
[ "$arch" = "$host_arch" ] || platform=(--platform "linux/$arch")
# The context holds only the staged rootfs; the Dockerfile comes from the repo.
"${build[@]}" --quiet "${platform[@]}" --build-arg ROOTFS=rootfs-prebuilt -f Dockerfile -t "$tag" "$context" >&2

size=$("$docker" image inspect --format '{{.Size}}' "$tag")
echo "$tag: $size bytes" >&2
