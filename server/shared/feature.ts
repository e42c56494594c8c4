import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { AuditService } from '../audit/index.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db.js';
import type { Authenticator, RouteRegistry } from './http.js';
import type { Jobs } from './jobs.js';
import type { Outbox } from './outbox.js';

/** A user as other features see it when one is created or erased. */
export interface UserRef {
  id: string;
  email: string;
  currency: string;
  timeZone: string;
}

/**
 * Cross-feature hooks, run inside the caller's database transaction. The ledger adds default
 * categories on `userCreated`; features that keep per-user data clean up on `userErased`.
 */
export interface UserHooks {
  userCreated: ((trx: Knex.Transaction, user: UserRef) => Promise<void>)[];
  userErased: ((trx: Knex.Transaction, userId: string) => Promise<void>)[];
  /** A login (session) was revoked: realtime disconnects its sockets. */
  sessionsRevoked: ((sessionIds: string[]) => void)[];
}

/** Everything a feature may use; wired once in server/app.ts. */
export interface FeatureContext {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  registry: RouteRegistry;
  audit: AuditService;
  outbox: Outbox;
  hooks: UserHooks;
  /** Periodic housekeeping, started when the instance serves. */
  jobs: Jobs;
  redis?: Redis;
  /** Set by the auth feature; other features receive it through the route registry. */
  services: Record<string, unknown>;
}

export interface Feature {
  name: string;
  register(ctx: FeatureContext): void | Promise<void>;
}

/** Used until a feature sets the real authenticator; it lets no one in. */
export type MutableAuthenticator = { current: Authenticator };
