# syntax=docker/dockerfile:1
#
# The per-tenant instance (apps/instance): a Hono service that starts its own `chroma run`.
# Build from the repository root, the pnpm workspace (BuildKit then reads the ignore list
# instance.Dockerfile.dockerignore beside this file):
#   docker build -f infra/docker/instance.Dockerfile -t vdb-instance .
#
# Base image: node:20-bookworm-slim is Debian 12 with glibc 2.36. That is fine ONLY because
# pnpm-workspace.yaml pins the Chroma server binding (chromadb-js-bindings-linux-x64-gnu) to 1.0.5
# with a pnpm override: every later binding needs glibc >= 2.38 and fails to load on this image.
# The pin is for x86_64 (linux-arm64 would get an unpinned binding), so the platform is fixed to
# linux/amd64; the ECS task definition says X86_64 for the same reason.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM --platform=linux/amd64 ${NODE_IMAGE} AS build
ENV CI=true
WORKDIR /app
# The lockfile and workspace settings (which hold the overrides) alone first: the dependency
# download layer stays cached until they change.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN npx -y pnpm@10.34.9 fetch
COPY . .
# Production dependencies of the instance and the workspace packages it uses, from that cache.
# `chroma --help` loads the native binding: a wrong glibc or platform fails the build, not the task.
# First with the build tools (esbuild, a dev dependency) to compile dist/, then again with --prod,
# which removes the dev dependencies.
RUN npx -y pnpm@10.34.9 install --frozen-lockfile --offline --filter "@vdb/instance..." \
  && npx -y pnpm@10.34.9 --filter @vdb/instance run build \
  && npx -y pnpm@10.34.9 install --frozen-lockfile --offline --prod --filter "@vdb/instance..." \
  && apps/instance/node_modules/.bin/chroma --help > /dev/null

FROM --platform=linux/amd64 ${NODE_IMAGE}
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8080 \
  DATA_DIR=/data
# Code and dependencies stay owned by root: the service cannot rewrite itself.
COPY --from=build /app /app
# /data is where the ECS task mounts the tenant's EFS directory (uid 1000 = the `node` user,
# the same POSIX user the EFS access point enforces).
RUN mkdir -p /data && chown node:node /data
# sqlite3: a pool reads Chroma's SQLite (read-only) to remove a deleted tenant's index files.
RUN apt-get update \
  && apt-get install -y --no-install-recommends sqlite3 \
  && rm -rf /var/lib/apt/lists/*
USER node
WORKDIR /app/apps/instance
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The compiled build (no TypeScript loader at run time), exactly as `pnpm start`. No ENTRYPOINT of
# ours, so a command override (the ECS runtime's data clean-up task runs `rm -rf -- /data/<tenantId>`)
# replaces this CMD.
CMD ["node", "dist/main.mjs"]
