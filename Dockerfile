# Production image of the API server: compiled JavaScript on Node 24 LTS, production dependencies
# only (no TypeScript toolchain, no embedded PostgreSQL), run as the unprivileged `node` user.
# Configure it with environment variables (README "Production"): DATABASE_URL, JWT_SECRET and
# ENCRYPTION_KEY are required; nothing secret is baked in.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY server ./server
COPY realtime ./realtime
COPY admin ./admin
COPY migrations ./migrations
COPY seeds ./seeds
RUN npm run build

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force
# Scheduled backups (BACKUP_DIR/BACKUP_CRON) run pg_dump: Debian 12's client is PostgreSQL 15, the
# Compose database's major. The archive directory is the node user's (a volume mounted there keeps it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/backups/numina \
    && chown node:node /var/backups/numina
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Unhealthy after 6 failed checks (1 min: covers migrations at start; no --start-period, which
# dockerfilelint cannot parse).
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (drains requests, closes sockets and the pool).
CMD ["node", "dist/server/main.js"]
