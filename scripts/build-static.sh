#!/bin/sh
# build-static.sh ARCH
# Builds the release binary for the image architecture ARCH (amd64 or arm64; see
# scripts/target-arch.sh) as one static executable: glibc linked in with +crt-static, which
# needs an explicit --target so build scripts and proc macros stay dynamic. Prints the
# binary's path on stdout; cargo's output goes to stderr.
# Used by the Dockerfile's build stage, scripts/build-image.sh and the release workflow, so
# all three build the same way.
#
# When ARCH is not the architecture rustc runs on, it cross-compiles: it needs the target's
# standard library (`rustup target add TRIPLE`) and Debian's cross gcc and libc (the packages
# `target-arch.sh cross-packages ARCH` names), and points cargo's linker and the cc crate at
# that gcc unless CARGO_TARGET_<TRIPLE>_LINKER / CC_<triple> are already set.
# POSIX sh: it also runs in the Rust build image.
set -eu
cd "$(dirname "$0")/.."

if [ "$#" -ne 1 ]; then
  echo "usage: $0 ARCH   (amd64 or arm64)" >&2
  exit 2
fi
arch=$1
triple=$(sh scripts/target-arch.sh triple "$arch")
binary=$(sh scripts/target-arch.sh binary "$arch")
host=$(rustc -vV | sed -n 's/^host: //p')

if [ "$triple" != "$host" ]; then
  sysroot=$(rustc --print sysroot)
  if [ ! -d "$sysroot/lib/rustlib/$triple/lib" ]; then
    echo "build-static: no Rust standard library for $triple in $sysroot (rustup target add $triple)" >&2
    exit 1
  fi
  gnu=$(sh scripts/target-arch.sh gnu "$arch")
  if ! command -v "$gnu-gcc" >/dev/null; then
    echo "build-static: no $gnu-gcc to link for $arch (apt-get install $(sh scripts/target-arch.sh cross-packages "$arch"))" >&2
    exit 1
  fi
  upper=$(echo "$triple" | tr 'a-z-' 'A-Z_')
  lower=$(echo "$triple" | tr - _)
  # Set each variable only when the caller has not: `export NAME=VALUE` with a computed name.
  for pair in "CARGO_TARGET_${upper}_LINKER=$gnu-gcc" "CC_$lower=$gnu-gcc" "AR_$lower=$gnu-ar"; do
    name=${pair%%=*}
    if eval "[ -z \"\${$name:-}\" ]"; then
      # shellcheck disable=SC2163 # exports the variable $pair names, as meant
      export "$pair"
    fi
  done
  echo "== cross-compiling for $triple on $host with $gnu-gcc" >&2
fi

echo "== static binary for $triple (+crt-static)" >&2
# RUSTFLAGS is set, not added to: a flag from the environment (say -C target-cpu=native)
# must not change what is published.
RUSTFLAGS='-C target-feature=+crt-static' cargo build --locked --release --target "$triple" >&2

[ -f "$binary" ] || { echo "build-static: cargo built no $binary" >&2; exit 1; }
# A dynamically linked binary would start on the build machine and fail in `scratch`; one of
# another architecture would fail there too. (The Rust build image has no `file`.)
if command -v file >/dev/null; then
  case $arch in
    amd64) machine=x86-64 ;;
    arm64) machine=aarch64 ;;
  esac
  description=$(file -b "$binary")
  case $description in
    *"static linked"* | *"static-pie linked"* | *"statically linked"*) ;;
    *)
      echo "build-static: $binary is not statically linked: $description" >&2
      exit 1
      ;;
  esac
  case $description in
    *"$machine"*) ;;
    *)
      echo "build-static: $binary is not an $machine executable: $description" >&2
      exit 1
      ;;
  esac
fi
echo "$binary"
