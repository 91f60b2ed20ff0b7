# The ecs-emf-exporter image: one static binary on `scratch` (no shell, no package manager),
# running as the non-root user 65532, with the CA bundle the cloudwatch output needs.
# Multi-arch: linux/amd64 and linux/arm64 (Graviton), picked by BuildKit's TARGETARCH; any
# other platform is refused (scripts/target-arch.sh maps each to its Rust target).
#
#   docker build -t ecs-emf-exporter .     builds the binary in the Rust image for this
#                                          machine's architecture (needs BuildKit, the default
#                                          builder since Docker 23, and Docker Hub)
#   docker buildx build --platform linux/arm64 -t ecs-emf-exporter:arm64 .
#                                          the same for another architecture, cross-compiled
#   scripts/build-image.sh                 builds the binary on this machine and the image from
#                                          it (ROOTFS=rootfs-prebuilt): no registry needed
#
# The release workflow (.github/workflows/release.yml) builds both binaries natively on
# amd64 and arm64 runners, stages them as rootfs/amd64 and rootfs/arm64, and builds one
# multi-arch image from them with ROOTFS=rootfs-prebuilt: no compiler, no emulation.

ARG RUST_IMAGE=rust:1.95-slim-bookworm
# Which stage provides the image's files: built here from source, or staged by
# scripts/build-image.sh (or the release workflow) in its build context. BuildKit builds only
# the stage chosen.
ARG ROOTFS=rootfs-from-source

# The build stage runs on the build machine's own platform and cross-compiles for the target:
# Rust cross-compiles with the target's standard library and a cross gcc as the linker, at
# native speed, while a build under QEMU emulation would take many times as long (LTO, the
# AWS SDK). When both platforms are the same this is an ordinary native build.
FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS build
ARG BUILDARCH
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY scripts/target-arch.sh scripts/build-static.sh scripts/image-rootfs.sh scripts/
# For another target: its standard library and Debian's cross gcc and libc (the static libc.a
# that +crt-static links). Unversioned on purpose: they must match the Rust image's Debian
# release, which RUST_IMAGE pins. target-arch.sh refuses an unsupported TARGETARCH here.
# hadolint ignore=DL3008
RUN triple="$(sh scripts/target-arch.sh triple "$TARGETARCH")" \
 && if [ "$TARGETARCH" != "$BUILDARCH" ]; then \
      read -r -a packages <<<"$(sh scripts/target-arch.sh cross-packages "$TARGETARCH")" \
      && apt-get update \
      && apt-get install -y --no-install-recommends "${packages[@]}" \
      && rm -rf /var/lib/apt/lists/* \
      && rustup target add "$triple"; \
    fi
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY crates/ crates/
COPY benches/ benches/
# The slim Rust image carries ca-certificates; the bundle is text, the same for every target.
RUN binary="$(sh scripts/build-static.sh "$TARGETARCH")" \
 && sh scripts/image-rootfs.sh "$binary" /etc/ssl/certs/ca-certificates.crt /rootfs

FROM scratch AS rootfs-from-source
COPY --from=build /rootfs/ /

# The context holds one directory per architecture (rootfs/amd64, rootfs/arm64, as
# `scripts/target-arch.sh rootfs ARCH` names them): each platform copies its own.
FROM scratch AS rootfs-prebuilt
ARG TARGETARCH
COPY rootfs/${TARGETARCH}/ /

FROM ${ROOTFS} AS rootfs

FROM scratch
COPY --from=rootfs /ecs-emf-exporter /ecs-emf-exporter
COPY --from=rootfs /etc/ /etc/
# Owned by the runtime user: Docker's anonymous volume for /tmp, and an ECS task volume
# mounted there, copy this ownership, so the health file can be written under a read-only root.
COPY --from=rootfs --chown=65532:65532 /tmp /tmp
USER 65532:65532
VOLUME ["/tmp"]
# Docker honours this; ECS ignores image health checks and uses the task definition's
# healthCheck, which infra/ renders with the same command.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/ecs-emf-exporter", "healthcheck"]
ENTRYPOINT ["/ecs-emf-exporter"]
