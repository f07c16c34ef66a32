# GoChat's container image: the static all-in-one binary and the web client, nothing else
# (FROM scratch: no shell, no libc, no package manager; about 16 MB).
#
# The binaries are built outside the image, by `make dist` (static musl binaries for amd64 and
# arm64, cross-compiled with cargo-zigbuild), and the build context is target/dist:
#
#   make dist
#   docker buildx build --platform linux/amd64,linux/arm64 -t gochat -f Dockerfile target/dist
#   buildah build --platform linux/arm64 --format docker -t gochat -f Dockerfile target/dist
#
#   docker run -d --name gochat -p 8080:8080 -v gochat-data:/data gochat
#
# It runs `gochat serve` (every service in one process, in-process bus) on port 8080 as an
# unprivileged user, with its SQLite files and session key in the /data volume. Any other
# subcommand runs instead of `serve`: `docker run ... gochat auth` runs the auth service alone
# (set GOCHAT_AMQP_URL and GOCHAT_JWT_KEY), `gochat backup /data/backup-1` takes a backup.
# Settings are the GOCHAT_* environment variables (see README "Configuration").

FROM scratch

# Set by `docker buildx` / `buildah build --platform` to amd64 or arm64.
ARG TARGETARCH

COPY linux-${TARGETARCH}/bin/gochat /usr/local/bin/gochat
COPY linux-${TARGETARCH}/client/dist /opt/gochat/client/dist
COPY linux-${TARGETARCH}/config /opt/gochat/config
COPY --chown=10001:10001 empty /data

# config/gochat.toml and client/dist are found relative to the working directory.
WORKDIR /opt/gochat
ENV GOCHAT_LISTEN=0.0.0.0:8080 \
    GOCHAT_DATA_DIR=/data \
    GOCHAT_CLIENT_DIR=/opt/gochat/client/dist

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

# No curl in the image: the binary asks itself (GET /readyz on GOCHAT_LISTEN's port).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/gochat", "probe"]

LABEL org.opencontainers.image.title="GoChat" \
      org.opencontainers.image.description="Self-hosted real-time chat: every service in one static binary" \
      org.opencontainers.image.licenses="MIT"

ENTRYPOINT ["/usr/local/bin/gochat"]
CMD ["serve"]
