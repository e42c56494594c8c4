import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { AuditService } from './audit/index.js';
import type { Clock } from './shared/clock.js';
import type { Config } from './shared/config.js';
import type { Db } from './shared/db.js';
import type { Downloads } from './shared/downloads.js';
import type { RouteRegistry } from './shared/http.js';
import type { Jobs } from './shared/jobs.js';
import type { Outbox } from './shared/outbox.js';

/** A user as other features see it when one is created. */
export interface UserRef {
  id: string;
  email: string;
  currency: string;
  timeZone: string;
}

/**
 * Cross-feature hooks. `userCreated` and `userErased` run inside the caller's database
 * transaction (categories add the defaults; features that keep per-user data clean up);
 * `sessionsRevoked` runs after commit (realtime disconnects those logins' sockets).
 */
export interface UserHooks {
  userCreated: ((trx: Knex.Transaction, user: UserRef) => Promise<void>)[];
  userErased: ((trx: Knex.Transaction, userId: string) => Promise<void>)[];
  sessionsRevoked: ((sessionIds: string[]) => void)[];
}

/**
 * The infrastructure every feature's register function receives, built once by the composition
 * root (server/app.ts). Services of other features are not in here: each feature declares the
 * ones it needs as a typed second argument, and app.ts passes them in plain order.
 */
export interface FeatureContext {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  registry: RouteRegistry;
  audit: AuditService;
  outbox: Outbox;
  hooks: UserHooks;
  /** Scheduled work, started when the instance serves. */
  jobs: Jobs;
  /** Slots, pool and stall guard every streamed download (exports, report CSVs) goes through. */
  downloads: Downloads;
  redis?: Redis;
}

/** Extra routes registered after the features (tests of the wiring itself). */
export interface RouteSet {
  register(ctx: FeatureContext): void | Promise<void>;
}
