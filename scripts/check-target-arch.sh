#!/usr/bin/env bash
# shellcheck disable=SC2016 # its patterns hold a literal $ (Dockerfile and script text)
# The multi-arch mapping, checked without Docker or an aarch64 toolchain (run by
# scripts/test.sh): scripts/target-arch.sh maps amd64 and arm64 (and only them) to the right
# Rust triples, cross packages, binary paths and prebuilt-context directories; the Dockerfile,
# scripts/build-image.sh, scripts/build-static.sh and .github/workflows/release.yml use it the
# way it expects; every other architecture is refused before anything is built.
# What it cannot check here: a real arm64 build (no aarch64 standard library on these
# machines) and BuildKit's own TARGETARCH expansion (scripts/e2e-docker.sh builds the amd64
# image through the same Dockerfile path).
set -euo pipefail
cd "$(dirname "$0")/.."

map=scripts/target-arch.sh
passed=0
failures=()
ok() { passed=$((passed + 1)); }
fail() { failures+=("$1"); }

# expect DESCRIPTION WANT COMMAND...: COMMAND exits 0 and prints exactly WANT.
expect() {
  local what=$1 want=$2 got rc=0
  shift 2
  got=$("$@" 2>/dev/null) || rc=$?
  if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then ok; else fail "$what: want '$want' (exit 0), got '$got' (exit $rc)"; fi
}
# refused DESCRIPTION COMMAND...: COMMAND exits 2, prints nothing on stdout, says why on stderr.
refused() {
  local what=$1 out err rc=0
  shift
  err=$(mktemp)
  out=$("$@" 2>"$err") || rc=$?
  if [ "$rc" -eq 2 ] && [ -z "$out" ] && grep -q unsupported "$err"; then
    ok
  else
    fail "$what: want exit 2 and 'unsupported' on stderr, got exit $rc, stdout '$out', stderr '$(head -c 300 "$err")'"
  fi
  rm -f "$err"
}

echo "== scripts/target-arch.sh: the mapping"
expect "list" "amd64 arm64" sh "$map" list
expect "triple amd64" x86_64-unknown-linux-gnu sh "$map" triple amd64
expect "triple arm64" aarch64-unknown-linux-gnu sh "$map" triple arm64
expect "gnu amd64" x86_64-linux-gnu sh "$map" gnu amd64
expect "gnu arm64" aarch64-linux-gnu sh "$map" gnu arm64
expect "cross-packages amd64" "gcc-x86-64-linux-gnu libc6-dev-amd64-cross" sh "$map" cross-packages amd64
expect "cross-packages arm64" "gcc-aarch64-linux-gnu libc6-dev-arm64-cross" sh "$map" cross-packages arm64
expect "binary amd64" target/x86_64-unknown-linux-gnu/release/ecs-emf-exporter sh "$map" binary amd64
expect "binary arm64" target/aarch64-unknown-linux-gnu/release/ecs-emf-exporter sh "$map" binary arm64
expect "rootfs amd64" rootfs/amd64 sh "$map" rootfs amd64
expect "rootfs arm64" rootfs/arm64 sh "$map" rootfs arm64
for arch in amd64 arm64; do
  expect "arch(triple $arch) round trip" "$arch" sh "$map" arch "$(sh "$map" triple "$arch")"
done

echo "== scripts/target-arch.sh: everything else is refused"
# Docker's other platforms, the kernel's and Rust's spellings, variants, case, whitespace.
for bad in "" 386 arm arm/v7 arm64/v8 armhf riscv64 s390x ppc64le mips64le x86_64 aarch64 \
  x86-64 AMD64 Arm64 "amd64 " " arm64" "amd64 arm64" linux/amd64 "amd64;id" "*"; do
  for field in triple gnu cross-packages binary rootfs; do
    refused "$field '$bad'" sh "$map" "$field" "$bad"
  done
done
for bad in x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-gnueabihf \
  aarch64-apple-darwin x86_64-pc-windows-msvc amd64 ""; do
  refused "arch '$bad'" sh "$map" arch "$bad"
done
for args in "" "triple" "nosuchfield amd64" "triple amd64 arm64" "list amd64"; do
  rc=0
  # shellcheck disable=SC2086 # the words are the arguments
  sh "$map" $args >/dev/null 2>&1 || rc=$?
  if [ "$rc" -eq 2 ]; then ok; else fail "usage error '$args': want exit 2, got $rc"; fi
done

echo "== the scripts refuse an unsupported ARCH before building anything"
# DOCKER=false: were the refusal to come late, no image could be built by accident either.
refused "build-static.sh riscv64" sh scripts/build-static.sh riscv64
refused "build-image.sh with ARCH=arm/v7" env ARCH=arm/v7 DOCKER=false bash scripts/build-image.sh
# Another architecture without its standard library (these machines have none for aarch64):
# a clear message at once, not a cargo build that fails minutes later.
host=$(rustc -vV | sed -n 's/^host: //p')
host_arch=$(sh "$map" arch "$host")
for arch in amd64 arm64; do
  [ "$arch" = "$host_arch" ] && continue
  triple=$(sh "$map" triple "$arch")
  if [ -d "$(rustc --print sysroot)/lib/rustlib/$triple/lib" ]; then
    echo "   ($triple's standard library is installed here: the missing-library message is not checked)"
    continue
  fi
  rc=0
  msg=$(sh scripts/build-static.sh "$arch" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" -eq 1 ] && [[ $msg == *"rustup target add $triple"* ]]; then
    ok
  else
    fail "build-static.sh $arch without its std: want exit 1 naming 'rustup target add $triple', got exit $rc: $msg"
  fi
done

echo "== Dockerfile: each platform resolves to its own files"
# dockerfile_problems FILE: prints one line per problem (nothing when FILE is right).
dockerfile_problems() {
  local file=$1 prebuilt arch src
  # ARG NAME must be declared inside each stage that uses $NAME / ${NAME}: a platform arg
  # declared only globally, or not at all, expands to empty inside a stage, and
  # `COPY rootfs/${TARGETARCH}/` would then copy every architecture's rootfs at once.
  awk '
    /^FROM / { stage = $NF; split("", declared); next }
    /^ARG / { split($2, kv, "="); declared[kv[1]] = 1; next }
    {
      line = $0
      while (match(line, /[$][{]?(TARGETARCH|BUILDARCH|TARGETPLATFORM|TARGETOS)/)) {
        name = substr(line, RSTART, RLENGTH); gsub(/[${]/, "", name)
        if (!(name in declared)) print "stage " stage " uses " name " without ARG " name
        line = substr(line, RSTART + RLENGTH)
      }
    }' "$file"
  grep -Eq '^FROM --platform=\$BUILDPLATFORM \$\{RUST_IMAGE\} AS build$' "$file" ||
    echo "the build stage must run on \$BUILDPLATFORM (it cross-compiles)"
  grep -Fq 'scripts/build-static.sh "$TARGETARCH"' "$file" ||
    echo "the build stage must build with scripts/build-static.sh \"\$TARGETARCH\""
  { grep -Fq 'scripts/target-arch.sh triple "$TARGETARCH"' "$file" &&
    grep -Fq 'scripts/target-arch.sh cross-packages "$TARGETARCH"' "$file"; } ||
    echo "the cross toolchain must come from scripts/target-arch.sh"
  # The prebuilt stage's COPY source, with TARGETARCH substituted as BuildKit does, must be
  # the directory target-arch.sh names (the one build-image.sh and the release workflow stage).
  prebuilt=$(awk '/^FROM scratch AS rootfs-prebuilt$/ { on = 1; next } /^FROM / { on = 0 } on && /^COPY / { print $2 }' "$file")
  if [ "$(printf '%s\n' "$prebuilt" | grep -c .)" -eq 1 ] && [[ $prebuilt == *'${TARGETARCH}'* ]]; then
    for arch in amd64 arm64; do
      [ "${prebuilt//\$\{TARGETARCH\}/$arch}" = "$(sh "$map" rootfs "$arch")/" ] ||
        echo "rootfs-prebuilt copies ${prebuilt//\$\{TARGETARCH\}/$arch} for $arch, not $(sh "$map" rootfs "$arch")/"
    done
  else
    echo "rootfs-prebuilt must have one COPY whose source names \${TARGETARCH}, got '$prebuilt'"
  fi
  # Every script the build stage copies exists and is let into the context by .dockerignore
  # (the last word of a COPY is its destination).
  # shellcheck disable=SC2013 # the sources are words on one line
  for src in $(sed -n 's/^COPY \(scripts\/.*\) [^ ]*$/\1/p' "$file"); do
    grep -Fxq "!$src" .dockerignore || echo ".dockerignore does not let $src into the context"
    [ -f "$src" ] || echo "it copies $src, which does not exist"
  done
}
problems=$(dockerfile_problems Dockerfile)
if [ -z "$problems" ]; then ok; else fail "Dockerfile: $problems"; fi
# The check itself catches the mistakes it is for: each mutation must be reported.
mutant=$(mktemp)
trap 'rm -f "$mutant"' EXIT
mutate() {
  local what=$1 script=$2
  sed "$script" Dockerfile >"$mutant"
  if cmp -s Dockerfile "$mutant"; then
    fail "mutation '$what' changed nothing: the Dockerfile moved on, update this check"
  elif [ -n "$(dockerfile_problems "$mutant")" ]; then
    ok
  else
    fail "the Dockerfile check misses: $what"
  fi
}
mutate "no ARG TARGETARCH in rootfs-prebuilt" '/^FROM scratch AS rootfs-prebuilt$/{n;/^ARG TARGETARCH$/d;}'
mutate "one rootfs for every architecture" 's|^COPY rootfs/${TARGETARCH}/ /$|COPY rootfs/ /|'
mutate "the Rust target's name as the directory" 's|^COPY rootfs/${TARGETARCH}/ /$|COPY rootfs/${TARGETARCH}-linux/ /|'
mutate "the build stage under emulation" 's|^FROM --platform=$BUILDPLATFORM |FROM |'
mutate "no ARG TARGETARCH in the build stage" '/^ARG TARGETARCH$/{x;s/^/x/;/^x$/{x;d;};x;}'
mutate "the host's target instead of TARGETARCH" 's|build-static.sh "$TARGETARCH"|build-static.sh "$BUILDARCH"|'
mutate "a script left out of the context" 's|^COPY scripts/target-arch.sh |COPY scripts/nope.sh scripts/target-arch.sh |'

echo "== scripts/build-image.sh and the release workflow stage what the Dockerfile copies"
if grep -Fq 'sh scripts/target-arch.sh rootfs "$arch"' scripts/build-image.sh &&
  grep -Fq '"$context/$rootfs"' scripts/build-image.sh; then ok; else
  fail "build-image.sh: must stage the rootfs at \$context/\$(target-arch.sh rootfs ARCH)"; fi
# build-image.sh and build-static.sh for each architecture, run in a copy of the scripts with
# stand-ins for rustc (an x86_64 host with an aarch64 standard library), cargo (writes a
# placeholder where cargo puts the binary), file, the cross gcc and docker (records its
# arguments): what gets built, where it is staged, and what docker is asked to build.
fake=$(mktemp -d)
trap 'rm -f "$mutant"; rm -rf "$fake"' EXIT
[ -d "$fake" ] || { echo "check-target-arch: mktemp -d failed" >&2; exit 1; }
mkdir -p "$fake/bin" "$fake/repo" "$fake/sysroot/lib/rustlib/aarch64-unknown-linux-gnu/lib"
cp -r scripts Dockerfile "$fake/repo/"
printf '%s\n' '#!/bin/sh' \
  'case "$*" in' \
  '  -vV) echo "host: x86_64-unknown-linux-gnu" ;;' \
  "  \"--print sysroot\") echo \"$fake/sysroot\" ;;" \
  'esac' >"$fake/bin/rustc"
printf '%s\n' '#!/bin/sh' \
  "env | grep -E '^(CARGO_TARGET_.*_LINKER|CC_.*|RUSTFLAGS)=' | sort >\"$fake/cargo-env\"" \
  "echo \"cargo \$*\" >>\"$fake/cargo-env\"" \
  'while [ $# -gt 0 ]; do [ "$1" = --target ] && t=$2; shift; done' \
  'mkdir -p "target/$t/release" && echo "binary for $t" >"target/$t/release/ecs-emf-exporter"' >"$fake/bin/cargo"
printf '%s\n' '#!/bin/sh' \
  'case $(cat "$2") in' \
  '  *x86_64*) echo "ELF 64-bit LSB pie executable, x86-64, static-pie linked" ;;' \
  '  *aarch64*) echo "ELF 64-bit LSB pie executable, ARM aarch64, static-pie linked" ;;' \
  'esac' >"$fake/bin/file"
printf '%s\n' '#!/bin/sh' \
  'case "$1" in buildx) exit 1 ;; image) echo 1; exit 0 ;; esac' \
  "echo \"\$*\" >\"$fake/docker-args\"" >"$fake/bin/docker"
printf '%s\n' '#!/bin/sh' >"$fake/bin/aarch64-linux-gnu-gcc"
chmod +x "$fake/bin/rustc" "$fake/bin/cargo" "$fake/bin/file" "$fake/bin/docker" "$fake/bin/aarch64-linux-gnu-gcc"
for arch in amd64 arm64; do
  rm -f "$fake/docker-args" "$fake/cargo-env"
  rc=0
  (cd "$fake/repo" && PATH="$fake/bin:$PATH" ARCH=$arch bash scripts/build-image.sh "t:$arch" >/dev/null 2>&1) || rc=$?
  triple=$(sh "$map" triple "$arch")
  staged=$fake/repo/target/image-context/$(sh "$map" rootfs "$arch")/ecs-emf-exporter
  if [ "$rc" -eq 0 ] && [ "$(cat "$staged" 2>/dev/null)" = "binary for $triple" ] &&
    [ "$(ls "$fake/repo/target/image-context/rootfs")" = "$arch" ]; then ok; else
    fail "build-image.sh ARCH=$arch: want only $(sh "$map" rootfs "$arch"), holding the $triple binary (exit $rc)"
  fi
  platform=""
  [ "$arch" = amd64 ] || platform="--platform linux/$arch "
  expect "build-image.sh ARCH=$arch: docker's arguments" \
    "build --quiet ${platform}--build-arg ROOTFS=rootfs-prebuilt -f Dockerfile -t t:$arch target/image-context" \
    cat "$fake/docker-args"
  if grep -qx "cargo build --locked --release --target $triple" "$fake/cargo-env" 2>/dev/null &&
    grep -qx "RUSTFLAGS=-C target-feature=+crt-static" "$fake/cargo-env"; then ok; else
    fail "build-static.sh $arch: want a +crt-static cargo build for $triple, got: $(cat "$fake/cargo-env" 2>/dev/null)"
  fi
  linker=$(grep -c '_LINKER=' "$fake/cargo-env" 2>/dev/null || true)
  if [ "$arch" = arm64 ]; then
    if grep -qx "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc" "$fake/cargo-env" &&
      grep -qx "CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc" "$fake/cargo-env"; then ok; else
      fail "build-static.sh arm64 on x86_64: want the aarch64 cross gcc as linker and CC"
    fi
  elif [ "$linker" = 0 ]; then
    ok
  else
    fail "build-static.sh amd64 on x86_64 is native: no linker override wanted"
  fi
done

release=.github/workflows/release.yml
if [ -f "$release" ]; then
  # The workflow's matrix names exactly the supported architectures, and the image's platforms
  # are exactly those.
  matrix=$(sed -n 's/^ *- arch: *\([a-z0-9]*\).*/\1/p' "$release" | sort | tr '\n' ' ' | sed 's/ $//')
  expect "release.yml matrix architectures" "$(sh "$map" list)" echo "$matrix"
  platforms=$(sed -n 's/^ *platforms: *//p' "$release")
  expect "release.yml image platforms" "linux/amd64,linux/arm64" echo "$platforms"
  for use in 'scripts/build-static.sh' 'scripts/target-arch.sh rootfs' 'scripts/target-arch.sh triple' 'ROOTFS=rootfs-prebuilt'; do
    if grep -Fq "$use" "$release"; then ok; else fail "release.yml does not use $use"; fi
  done
else
  fail "$release is missing"
fi

if [ "${#failures[@]}" -gt 0 ]; then
  printf 'check-target-arch: FAILED: %s\n' "${failures[@]}" >&2
  echo "check-target-arch: $passed checks passed, ${#failures[@]} failed" >&2
  exit 1
fi
echo "check-target-arch: all $passed checks passed"
