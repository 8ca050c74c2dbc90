# syntax=docker/dockerfile:1
#
# The control plane (apps/control-plane): tRPC, REST + OpenAPI, gateway, workers, reconciler.
# It also contains apps/instance, so RUNTIME=local can run instances as child processes in the
# same container (the compose stack does). Build from the repository root, the pnpm workspace
# (BuildKit then reads control-plane.Dockerfile.dockerignore beside this file):
#   docker build -f infra/docker/control-plane.Dockerfile -t vdb-control-plane .
#
# Base image: node:20-bookworm-slim is Debian 12 with glibc 2.36. That is fine ONLY because
# pnpm-workspace.yaml pins the Chroma server binding (chromadb-js-bindings-linux-x64-gnu) to 1.0.5
# with a pnpm override: every later binding needs glibc >= 2.38 and fails to load on this image.
# The pin is for x86_64, so the platform is fixed to linux/amd64.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM --platform=linux/amd64 ${NODE_IMAGE} AS build
ENV CI=true
WORKDIR /app
# The lockfile and workspace settings (which hold the overrides) alone first: the dependency
# download layer stays cached until they change.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN npx -y pnpm@10.34.9 fetch
COPY . .
# Production dependencies of the control plane and every workspace package it uses (instance,
# embeddings, schemas), from that cache. `chroma --help` loads the native binding the local
# runtime's instances need: a wrong glibc or platform fails the build, not the first instance.
# First with the build tools (esbuild, a dev dependency) to compile dist/ of the control plane
# and of the instances it runs, then again with --prod, which removes the dev dependencies.
RUN npx -y pnpm@10.34.9 install --frozen-lockfile --offline --filter "@vdb/control-plane..." \
  && npx -y pnpm@10.34.9 --filter @vdb/instance --filter @vdb/control-plane run build \
  && npx -y pnpm@10.34.9 install --frozen-lockfile --offline --prod --filter "@vdb/control-plane..." \
  && apps/instance/node_modules/.bin/chroma --help > /dev/null

FROM --platform=linux/amd64 ${NODE_IMAGE}
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8787 \
  DATA_DIR=/data
# Code and dependencies stay owned by root: the service cannot rewrite itself.
COPY --from=build /app /app
# Embedded state (PGlite when DATABASE_URL is unset, local blobs, local instances' data).
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /app/apps/control-plane
EXPOSE 8787
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The compiled build, exactly as `npm start` runs it (no TypeScript loader at run time); the local
# runtime starts instances from apps/instance/dist the same way.
CMD ["node", "dist/main.mjs"]
