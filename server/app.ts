import cors from 'cors';
import express, { type Express } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import proxyAddr from 'proxy-addr';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { registerAccounts, createAccountService, type AccountService } from './accounts/index.js';
import { createAuditService, registerAuditRoutes } from './audit/index.js';
import { bearerAuthenticator, createAuth, registerAuth, type AuthServices } from './auth/index.js';
import { BACKUP_JOB, createScheduledBackup } from './backup/index.js';
import { createBudgetService, registerBudgets, type BudgetService } from './budgets/index.js';
import { createGoalService, registerGoals, type GoalService } from './goals/index.js';
import { createCategoryService, registerCategories, type CategoryService } from './categories/index.js';
import { createRecurringService, registerRecurring, type RecurringService } from './recurring/index.js';
import type { FeatureContext, RouteSet, UserHooks } from './context.js';
import { systemClock, type Clock } from './shared/clock.js';
import type { Config } from './shared/config.js';
import type { Db } from './shared/db.js';
import type { Convert } from './shared/convert.js';
import { errorHandler, notFoundHandler, UnauthorizedError } from './shared/errors.js';
import { createRouteRegistry, type AuthUser, type Authenticator, type RouteRegistry } from './shared/http.js';
import { createDownloads } from './shared/downloads.js';
import { createJobs } from './shared/jobs.js';
import { requestLogging } from './shared/logger.js';
import { createMailer } from './shared/mailer.js';
import { createNotificationService, registerNotifications, type NotificationService } from './notifications/index.js';
import { createOutbox } from './shared/outbox.js';
import { createSignals } from './shared/realtime-signals.js';
import { createLimiter, purgeExpiredRateLimits } from './shared/rate-limit.js';
import { createRatesService, registerRates, type RatesService } from './rates/index.js';
import { registerReports } from './reports/index.js';
import { createMetrics, type Metrics } from './system/metrics.js';
import { securityHeaders } from './system/security-headers.js';
import { registerSystemRoutes } from './system/system.routes.js';
import { mountDashboard } from './system/dashboard.js';
import { categoryHasTransactions, createTransactionService, registerTransactions, type TransactionService } from './transactions/index.js';
import { createUsersService, registerUsers, type UsersService } from './users/index.js';
import { createEraseService, registerGdpr, type EraseService } from './gdpr/index.js';
import type { RealtimeComponents } from '../realtime/index.js';
import { mountAdmin } from '../admin/index.js';

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
  auth: AuthServices;
  users: UsersService;
  accounts: AccountService;
  categories: CategoryService;
  ledger: TransactionService;
  rates: RatesService;
  recurring: RecurringService;
  notifications: NotificationService;
  budgets: BudgetService;
  goals: GoalService;
  /** GDPR erasure (DELETE /users/me, and the admin panel's action). */
  erase: EraseService;
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
  app.use(cors({ origin: config.corsOrigins.length ? config.corsOrigins : false, exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition', 'Missing-Rates'] }));
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  // Infrastructure every feature shares.
  const audit = createAuditService({ clock });
  // Realtime signals go out after each commit (NOTIFY on a pooled connection, or Redis pub/sub).
  const signals = createSignals({ db, redis: deps.redis, logger });
  const outbox = createOutbox({ clock, signals });
  const hooks: UserHooks = { userCreated: [], userErased: [], sessionsRevoked: [] };
  const jobs = createJobs({ logger, databaseUrl: config.databaseUrl });
  jobs.schedule('rate-limits.purge', '*/15 * * * *', () => purgeExpiredRateLimits(db, clock));
  // Scheduled backups (BACKUP_DIR + BACKUP_CRON): one instance runs each tick, as for every schedule.
  if (config.backup && config.databaseUrl) {
    const backup = createScheduledBackup({ ...config.backup, databaseUrl: config.databaseUrl, logger, clock, metricsRegistry: metrics.registry });
    jobs.schedule(BACKUP_JOB, config.backup.cron, backup, { retryLimit: 2, retryDelayMs: 5 * 60_000, expireInSeconds: 60 * 60 });
  }
  const downloads = createDownloads({
    limits: config.downloads,
    databaseUrl: config.databaseUrl,
    mainDb: db,
    acquireTimeoutMs: config.databaseAcquireTimeoutMs,
    logger,
    metricsRegistry: metrics.registry,
  });

  // Auth first: the route registry authenticates with it.
  const mailer = createMailer(config, logger);
  const auth: AuthServices | undefined = deps.bare ? undefined : createAuth({ db, clock, config, logger, audit, hooks, mailer, redis: deps.redis });
  const userLimit = { prefix: 'user', windowMs: 60_000, limit: config.rateLimit.userPerMinute };
  // With counters in PostgreSQL, a request's per-user hit is counted in the statement that checks its
  // session (one round trip); with Redis, by the limiter middleware after authentication.
  const authenticatorCounts = !!auth && !deps.redis;
  const authenticate: Authenticator = auth
    ? bearerAuthenticator(auth.tokens, authenticatorCounts ? userLimit : undefined)
    : () => Promise.reject(new UnauthorizedError());
  const limiterBackends = { db, redis: deps.redis };
  const registry = createRouteRegistry({
    authenticate,
    authenticatorCounts,
    publicLimiter: createLimiter(limiterBackends, { prefix: 'ip', windowMs: 60_000, limit: config.rateLimit.ipPerMinute }),
    userLimiter: createLimiter(limiterBackends, { ...userLimit, key: (req) => (req.res?.locals.user as AuthUser).id }),
  });
  const ctx: FeatureContext = { config, db, logger, clock, registry, audit, outbox, hooks, jobs, downloads, redis: deps.redis };
  registerSystemRoutes(app, registry, { db, metrics, publicUrl: config.publicUrl, env: config.env, metricsToken: config.metricsToken });
  mountDashboard(app);

  let services: AppServices | undefined;
  if (auth) {
    // Services, each after the ones it uses.
    const users = createUsersService({ db, clock, audit });
    const notifications = createNotificationService({ db, clock, jobs, mailer, logger });
    // One conversion rule (rate on or before the date; a missing rate is reported, never 1).
    const rates = createRatesService({ db, clock, audit });
    const convert: Convert = rates.convert;
    const budgets = createBudgetService({ db, clock, audit, convert, notifications });
    const goals = createGoalService({ db, clock, audit, convert, notifications });
    // Listeners in lock order: budget rows, then goal rows (see transactions.service.ts).
    const ledger = createTransactionService({ db, clock, audit, outbox, onPosted: [budgets.onPosted, goals.onPosted] });
    const accounts = createAccountService({ db, clock, audit, hasTransactions: ledger.accountHasTransactions, onRetired: [goals.onAccountRetired] });
    const categories = createCategoryService({ db, clock, audit, uncategorise: ledger.uncategoriseInTrx, hasTransactions: categoryHasTransactions });
    const recurring = createRecurringService({
      db,
      clock,
      logger,
      audit,
      ledger,
      timeZoneOf: async (userId) => (await users.getProfile(userId)).timeZone,
      sweepConcurrency: config.recurringSweepConcurrency,
      // An ended rule tells its owner once (a `recurring.stopped` notification, in the ending transaction).
      onStopped: async (trx, userId, p) => {
        await notifications.notify(trx, userId, 'recurring.stopped', { recurringId: p.recurringId, reason: p.reason });
      },
    });

    // Erasure runs every feature's userErased hook, then sweeps what the catalog says is left.
    const erase = createEraseService({ db, clock, logger, audit, hooks, jobs, auth });

    // Features, each with the services it declares.
    registerAuth(ctx, { auth, authenticate });
    registerUsers(ctx, { users });
    registerAccounts(ctx, { accounts });
    registerCategories(ctx, { categories });
    registerTransactions(ctx, { ledger });
    registerRecurring(ctx, { recurring });
    registerNotifications(ctx, { notifications });
    registerBudgets(ctx, { budgets });
    registerGoals(ctx, { goals });
    registerAuditRoutes({ registry, db, audit });
    registerRates(ctx, { rates });
    registerReports(ctx, { rates, profiles: users });
    registerGdpr(ctx, { erase });
    services = { auth, users, accounts, categories, ledger, rates, recurring, notifications, budgets, goals, erase };
    await mountAdmin(app, { config, db, logger, clock, audit, jobs, redis: deps.redis, auth, erase });
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
          redis: deps.redis,
          signals,
          corsOrigins: config.corsOrigins,
          hooks,
          verifyAccessToken: (token) => auth.tokens.verifyAccessToken(token),
          metricsRegistry: metrics.registry,
          // The address the HTTP limiters see: Express's own trust-proxy rule, IPv6 grouped by /56.
          clientAddress: (req) => ipKeyGenerator(proxyAddr(req, app.get('trust proxy fn') as (addr: string, i: number) => boolean)),
          handshakesPerMinute: config.rateLimit.socketHandshakesPerMinute,
        }
      : undefined;
  return { app, registry, metrics, ctx, services, realtime };
}
