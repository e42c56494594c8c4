import cors from 'cors';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { registerAccounts, createAccountService, type AccountService } from './accounts/index.js';
import { createAuditService, registerAuditRoutes } from './audit/index.js';
import { bearerAuthenticator, createAuthService, registerAuth, type AuthService } from './auth/index.js';
import { createCategoryService, registerCategories, type CategoryService } from './categories/index.js';
import type { FeatureContext, RouteSet, UserHooks } from './context.js';
import { systemClock, type Clock } from './shared/clock.js';
import type { Config } from './shared/config.js';
import type { Db } from './shared/db.js';
import { errorHandler, notFoundHandler, UnauthorizedError } from './shared/errors.js';
import { createRouteRegistry, type AuthUser, type Authenticator, type RouteRegistry } from './shared/http.js';
import { createDownloads } from './shared/downloads.js';
import { createJobs } from './shared/jobs.js';
import { requestLogging } from './shared/logger.js';
import { createMailer } from './shared/mailer.js';
import { createOutbox } from './shared/outbox.js';
import { createLimiter } from './shared/rate-limit.js';
import { createMetrics, type Metrics } from './system/metrics.js';
import { securityHeaders } from './system/security-headers.js';
import { registerSystemRoutes } from './system/system.routes.js';
import { createTransactionService, registerTransactions, type TransactionService } from './transactions/index.js';
import { createUsersService, registerUsers, type UsersService } from './users/index.js';
import type { RealtimeComponents } from '../realtime/index.js';

export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock?: Clock;
  redis?: Redis;
  /** No product feature and no auth: every user/admin route answers 401 (tests of the wiring itself). */
  bare?: boolean;
  /** Extra routes registered after the features (tests of the wiring itself). */
  routes?: RouteSet[];
}

/** The services the composition root built, for what sits above the app (admin panel, CLI, tests). */
export interface AppServices {
  auth: AuthService;
  users: UsersService;
  accounts: AccountService;
  categories: CategoryService;
  ledger: TransactionService;
}

/** What the running instance needs beyond the Express app: realtime's pieces and the jobs. */
export interface App {
  app: Express;
  registry: RouteRegistry;
  metrics: Metrics;
  ctx: FeatureContext;
  /** Absent on a bare app. */
  services?: AppServices;
  /** What realtime is built from (absent on a bare app, which has no auth). */
  realtime?: RealtimeComponents;
}

/**
 * The composition root: builds the infrastructure, then each service in plain order (a service is
 * built before the ones that use it), then registers each feature with exactly the services it
 * declares. Nothing here listens or connects: runtime.ts (or a test) owns the server and database.
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

  // Infrastructure every feature shares.
  const audit = createAuditService({ clock });
  const outbox = createOutbox({ clock });
  const hooks: UserHooks = { userCreated: [], userErased: [], sessionsRevoked: [] };
  const jobs = createJobs(logger);
  const downloads = createDownloads({
    limits: config.downloads,
    databaseUrl: config.databaseUrl,
    mainDb: db,
    acquireTimeoutMs: config.databaseAcquireTimeoutMs,
    logger,
    metricsRegistry: metrics.registry,
  });

  // Auth first: the route registry authenticates with it.
  const auth: AuthService | undefined = deps.bare ? undefined : createAuthService({ db, clock, config, logger, audit, hooks, mailer: createMailer(config, logger) });
  const authenticate: Authenticator = auth
    ? bearerAuthenticator(auth)
    : async () => {
        throw new UnauthorizedError();
      };
  const limiterBackends = { db, redis: deps.redis };
  const registry = createRouteRegistry({
    authenticate,
    publicLimiter: createLimiter(limiterBackends, { prefix: 'ip', windowMs: 60_000, limit: config.rateLimit.ipPerMinute }),
    userLimiter: createLimiter(limiterBackends, {
      prefix: 'user',
      windowMs: 60_000,
      limit: config.rateLimit.userPerMinute,
      key: (req) => (req.res?.locals.user as AuthUser).id,
    }),
  });
  const ctx: FeatureContext = { config, db, logger, clock, registry, audit, outbox, hooks, jobs, downloads, redis: deps.redis };
  registerSystemRoutes(app, registry, { db, metrics, publicUrl: config.publicUrl, env: config.env, metricsToken: config.metricsToken });

  let services: AppServices | undefined;
  if (auth) {
    // Services, each after the ones it uses.
    const users = createUsersService({ db, clock, audit });
    const ledger = createTransactionService({ db, clock, audit, outbox });
    const accounts = createAccountService({ db, clock, audit, hasTransactions: ledger.accountHasTransactions });
    const categories = createCategoryService({ db, clock, audit, uncategorise: ledger.uncategoriseInTrx });

    // Features, each with the services it declares.
    registerAuth(ctx, { auth, authenticate });
    registerUsers(ctx, { users, auth });
    registerAccounts(ctx, { accounts });
    registerCategories(ctx, { categories });
    registerTransactions(ctx, { ledger });
    registerAuditRoutes({ registry, db, audit });
    services = { auth, users, accounts, categories, ledger };
  }
  for (const extra of deps.routes ?? []) await extra.register(ctx);

  app.use(registry.router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  const realtime: RealtimeComponents | undefined =
    auth && config.databaseUrl
      ? {
          db,
          clock,
          logger,
          databaseUrl: config.databaseUrl,
          corsOrigins: config.corsOrigins,
          hooks,
          verifyAccessToken: (token) => auth.verifyAccessToken(token),
          metricsRegistry: metrics.registry,
        }
      : undefined;
  return { app, registry, metrics, ctx, services, realtime };
}
