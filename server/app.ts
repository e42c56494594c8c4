import cors from 'cors';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAuditService } from './audit/index.js';
import { systemClock, type Clock } from './shared/clock.js';
import type { Config } from './shared/config.js';
import type { Db } from './shared/db.js';
import { errorHandler, notFoundHandler, UnauthorizedError } from './shared/errors.js';
import type { Feature, FeatureContext, UserHooks } from './shared/feature.js';
import { createRouteRegistry, type AuthUser, type Authenticator, type RouteRegistry } from './shared/http.js';
import { requestLogging } from './shared/logger.js';
import { createJobs } from './shared/jobs.js';
import { createOutbox } from './shared/outbox.js';
import { createLimiter } from './shared/rate-limit.js';
import { createMetrics, type Metrics } from './system/metrics.js';
import { registerSystemRoutes } from './system/system.routes.js';
import { securityHeaders } from './system/security-headers.js';
import { features } from './features.js';

export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock?: Clock;
  redis?: Redis;
  /** Replaces the feature list (tests of the wiring itself). */
  features?: Feature[];
}

export interface App {
  app: Express;
  registry: RouteRegistry;
  metrics: Metrics;
  ctx: FeatureContext;
}

/**
 * Builds the Express app from its dependencies. Nothing here listens or connects: main.ts (or a
 * test) owns the server, the database and their lifetimes.
 */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config, db, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');

  const metrics = createMetrics(db);
  app.use(metrics.middleware);
  app.use(...requestLogging(logger));
  app.use(securityHeaders(config));
  app.use(cors({ origin: config.corsOrigins.length ? config.corsOrigins : false, exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed'] }));
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  // The auth feature sets the real authenticator; until then no one is let in.
  let authenticator: Authenticator = async () => {
    throw new UnauthorizedError();
  };
  const limiterBackends = { db, redis: deps.redis };
  const registry = createRouteRegistry({
    authenticate: (req) => authenticator(req),
    publicLimiter: createLimiter(limiterBackends, { prefix: 'ip', windowMs: 60_000, limit: config.rateLimit.ipPerMinute }),
    userLimiter: createLimiter(limiterBackends, {
      prefix: 'user',
      windowMs: 60_000,
      limit: config.rateLimit.userPerMinute,
      key: (req) => (req.res?.locals.user as AuthUser).id,
    }),
  });

  const hooks: UserHooks = { userCreated: [], userErased: [], sessionsRevoked: [] };
  const ctx: FeatureContext = {
    config,
    db,
    logger,
    clock,
    registry,
    audit: createAuditService({ clock }),
    outbox: createOutbox({ clock }),
    hooks,
    jobs: createJobs(logger),
    redis: deps.redis,
    services: {},
  };
  registerSystemRoutes(app, registry, { db, metrics, publicUrl: config.publicUrl });
  for (const feature of deps.features ?? features) await feature.register(ctx);
  const auth = ctx.services.authenticate as Authenticator | undefined;
  if (auth) authenticator = auth;

  app.use(registry.router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return { app, registry, metrics, ctx };
}
