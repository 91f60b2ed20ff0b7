# The ecs-emf-exporter image: one static binary on `scratch` (no shell, no package manager),
# running as the non-root user 65532, with the CA bundle the cloudwatch output needs.
#
#   docker build -t ecs-emf-exporter .     builds the binary in the Rust image (needs BuildKit,
#                                          the default builder since Docker 23, and Docker Hub)
#   scripts/build-image.sh                 builds the binary on this machine and the image from
#                                          it (ROOTFS=rootfs-prebuilt): no registry needed
#
# The binary is built for the build machine's architecture (x86_64 or aarch64, for Graviton).

ARG RUST_IMAGE=rust:1.95-slim-bookworm
# Which stage provides the image's files: built here from source, or staged by
# scripts/build-image.sh in its build context. BuildKit builds only the stage chosen.
ARG ROOTFS=rootfs-from-source

FROM ${RUST_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY crates/ crates/
COPY benches/ benches/
COPY scripts/image-rootfs.sh scripts/
# +crt-static links glibc statically (scratch has no libc); it needs an explicit --target so
# build scripts and proc macros stay dynamic. The slim Rust image carries ca-certificates.
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS='-C target-feature=+crt-static' cargo build --locked --release --target "$target" \
 && sh scripts/image-rootfs.sh "target/$target/release/ecs-emf-exporter" /etc/ssl/certs/ca-certificates.crt /rootfs

FROM scratch AS rootfs-from-source
COPY --from=build /rootfs/ /

FROM scratch AS rootfs-prebuilt
COPY rootfs/ /

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
