#!/bin/sh
# target-arch.sh FIELD ARCH
# The one place that maps an image architecture (Docker's TARGETARCH: amd64, arm64) to what
# building and staging the static binary for it needs. Used by the Dockerfile, by
# scripts/build-static.sh (so scripts/build-image.sh) and by .github/workflows/release.yml;
# scripts/check-target-arch.sh tests it. Any other architecture is refused (exit 2), never
# guessed. POSIX sh: it also runs in the Rust build image.
#
#   triple ARCH          Rust target triple           x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu
#   gnu ARCH             GNU triplet, the cross gcc's prefix      x86_64-linux-gnu | aarch64-linux-gnu
#   cross-packages ARCH  Debian packages that link for ARCH from another architecture
#   binary ARCH          where cargo puts the binary: target/TRIPLE/release/ecs-emf-exporter
#   rootfs ARCH          the image rootfs's directory in a prebuilt build context: rootfs/ARCH
#   arch TRIPLE          the reverse: the architecture of a Rust target triple
#   list                 the supported architectures
set -eu

usage() {
  echo "usage: $0 {triple|gnu|cross-packages|binary|rootfs} ARCH | arch TRIPLE | list" >&2
  exit 2
}

refuse() {
  echo "target-arch: unsupported $1 '$2' (supported: amd64 = x86_64-unknown-linux-gnu, arm64 = aarch64-unknown-linux-gnu)" >&2
  exit 2
}

[ "$#" -ge 1 ] || usage
field=$1
if [ "$field" = list ]; then
  [ "$#" -eq 1 ] || usage
  echo "amd64 arm64"
  exit 0
fi
[ "$#" -eq 2 ] || usage
value=$2

if [ "$field" = arch ]; then
  case $value in
    x86_64-unknown-linux-gnu) echo amd64 ;;
    aarch64-unknown-linux-gnu) echo arm64 ;;
    *) refuse "Rust target" "$value" ;;
  esac
  exit 0
fi

# Exactly Docker's names: not x86_64/aarch64, not arm (32-bit), not a variant like arm64/v8.
case $value in
  amd64) cpu=x86_64 ;;
  arm64) cpu=aarch64 ;;
  *) refuse architecture "$value" ;;
esac
triple=$cpu-unknown-linux-gnu

case $field in
  triple) echo "$triple" ;;
  gnu) echo "$cpu-linux-gnu" ;;
  # Debian names the compiler package after the GNU triplet with '-' for '_' (gcc-x86-64-...),
  # and the cross libc after Debian's architecture, which is Docker's name here.
  cross-packages) echo "gcc-$(echo "$cpu" | tr _ -)-linux-gnu libc6-dev-$value-cross" ;;
  binary) echo "target/$triple/release/ecs-emf-exporter" ;;
  rootfs) echo "rootfs/$value" ;;
  *) usage ;;
esac
