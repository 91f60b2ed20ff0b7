#!/bin/sh
# image-rootfs.sh BINARY CA_BUNDLE OUT
# Lays out the image's whole filesystem in OUT: the static binary, the CA bundle the
# cloudwatch output trusts, passwd/group naming the non-root user, and /tmp. Used by the
# Dockerfile's build stage, by scripts/build-image.sh and by the release workflow (once per
# architecture, into rootfs/ARCH), so every image holds the same files.
# POSIX sh: it also runs in the Rust build image.
set -eu

if [ "$#" -ne 3 ]; then
  echo "usage: $0 BINARY CA_BUNDLE OUT" >&2
  exit 2
fi
binary=$1
ca_bundle=$2
out=$3

[ -f "$binary" ] || { echo "image-rootfs: no binary at $binary" >&2; exit 1; }
# An empty bundle would make every HTTPS call of the cloudwatch output fail at run time.
grep -q "BEGIN CERTIFICATE" "$ca_bundle" 2>/dev/null ||
  { echo "image-rootfs: $ca_bundle holds no certificate (install ca-certificates)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/etc/ssl/certs" "$out/tmp"
cp "$binary" "$out/ecs-emf-exporter"
chmod 0755 "$out/ecs-emf-exporter"
# rustls-native-certs finds the bundle at this path (openssl-probe's first Debian location).
cp "$ca_bundle" "$out/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$out/etc/ssl/certs/ca-certificates.crt"
# 65532 is the conventional "nonroot" of distroless images; no login shell exists.
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/etc/group"
chmod 0644 "$out/etc/passwd" "$out/etc/group"
# The health file lives here. The Dockerfile copies the directory owned by 65532 (mode 0755:
# COPY does not carry a directory's own mode), and declares it a VOLUME, so Docker's anonymous
# volume and an ECS task volume both start writable by the sidecar even with a read-only root.
chmod 0755 "$out/tmp"
