# syntax=docker/dockerfile:1
#
# ds2api container: one compiled executable on distroless (no shell, no package manager), running as
# the distroless "nonroot" user (uid 65532). Data (sqlite, optional config.json) lives in the /data volume.
#
#   docker build -t ds2api .
#   docker run -d -p 5001:5001 -v ds2api-data:/data -e DS2API_ADMIN_KEY=change-me ds2api
#
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t ds2api .

# ---- build: compile src/ into one executable with the Bun release the lockfile pins ----
# `bun install` brings the build platform's native TLS addon (impit-linux-<arch>-gnu, an optional dependency);
# scripts/build.ts embeds it in the executable, and distroless cc (glibc, libgcc) has what it links against.
FROM oven/bun:1.4.5 AS build
WORKDIR /src
# Runtime dependencies first (cached layer). The lockfile is npm's; bun install reads it directly.
COPY package.json package-lock.json ./
RUN bun install --production --ignore-scripts --no-progress
COPY tsconfig.json bunfig.toml ./
COPY scripts ./scripts
COPY src ./src
COPY public ./public
RUN bun run scripts/build.ts --outfile /out/ds2api \
 && /out/ds2api --version \
 && mkdir -p /out/data

# ---- runtime ----
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ds2api /ds2api
COPY --from=build --chown=65532:65532 /out/data /data
ENV HOST=0.0.0.0 \
    PORT=5001 \
    DS2API_DB_PATH=/data/ds2api.sqlite \
    DS2API_CONFIG_PATH=/data/config.json
VOLUME ["/data"]
EXPOSE 5001
USER nonroot
# The image has no shell or curl: the executable checks /healthz itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/ds2api", "healthcheck"]
# SIGTERM drains in-flight streams for up to DS2API_SHUTDOWN_TIMEOUT_SECONDS (default 30); give
# `docker stop` a longer grace period (docker stop -t 40 / stop_grace_period in compose).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/ds2api"]
