# syntax=docker/dockerfile:1
# Parley image: one image for every role; the command picks it.
#   web (default)   node src/web.ts
#   worker          node workers/index.ts      (WORKER_QUEUES=chat,ingest,maintenance)
#   migrations      node src/migrate.ts
# TypeScript runs directly on Node 24 (native type stripping); the only build is the web client's
# (web/ → web/dist with Vite), made in its own stage; the runtime image carries just its output.
# Both roles need DATABASE_URL (Postgres with pgvector) and REDIS_URL; see docker-compose.yml.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- production dependencies only ------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# .npmrc matters: onnxruntime-node-install=skip keeps the postinstall from downloading
# extra (GPU) binaries. The `node` devDependency is omitted, so the image's own Node 24 runs.
COPY package.json package-lock.json .npmrc ./
# package-lock.json may lack other platforms' optional builds (the registry it was made against
# did not serve them), which `npm ci` refuses; `npm install` then installs the same locked
# versions. A lockfile that is really out of date is caught by CI (.ci/run), not here.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund \
    || { echo "WARNING: npm ci refused package-lock.json; installing from it with npm install" >&2; \
         npm install --omit=dev --no-save --no-audit --no-fund; }

# ---- the web client: every dependency (Vite and the client's libraries), then the build ----
FROM ${NODE_IMAGE} AS web-build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: the client build needs no install script (the `node` devDependency's would
# fetch a second Node; the image's own Node 24 runs the build). Same lockfile fallback as above.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund \
    || { echo "WARNING: npm ci refused package-lock.json; installing from it with npm install" >&2; \
         npm install --ignore-scripts --no-save --no-audit --no-fund; }
COPY scripts/buildWeb.ts ./scripts/
COPY web ./web
# web/dist, .br and .gz of each file; --force: never trust a dist that came with the context.
RUN node scripts/buildWeb.ts --force

# ---- runtime ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app

# Application files stay root-owned (read-only to the app); only the data dir is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY src ./src
COPY workers ./workers
# The built web client, served by the web role at / (WEB_DIST_DIR defaults to /app/web/dist).
COPY --from=web-build /app/web/dist ./web/dist
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3000

# Liveness only (the process answers); compose checks /health/ready for the web role.
# The worker role serves no HTTP: disable this check for it (docker-compose.yml does).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "src/web.ts"]
