import type { Request, RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator, type Store, type IncrementResponse, type Options } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Clock } from './clock.js';
import { sqlRows, type Db } from './db.js';
import { RateLimitedError } from './errors.js';

/**
 * express-rate-limit store on the service's own PostgreSQL, so limits hold across instances with
 * no extra service. One atomic upsert per hit; windows are fixed (start at the first hit).
 * (The published PostgreSQL store brings its own pool and migration runner; this one uses ours.)
 */
export class PgRateLimitStore implements Store {
  windowMs = 60_000;
  prefix: string;
  constructor(
    private readonly db: Db,
    prefix: string,
  ) {
    this.prefix = prefix;
  }
  init(options: Options): void {
    this.windowMs = options.windowMs;
  }
  async increment(key: string): Promise<IncrementResponse> {
    const rows = await sqlRows<{ hits: number; reset_at: Date }>(
      this.db,
      `INSERT INTO rate_limits (key, hits, reset_at) VALUES (?, 1, now() + (? * interval '1 millisecond'))
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN rate_limits.reset_at <= now() THEN 1 ELSE rate_limits.hits + 1 END,
         reset_at = CASE WHEN rate_limits.reset_at <= now() THEN EXCLUDED.reset_at ELSE rate_limits.reset_at END
       RETURNING hits, reset_at`,
      [this.prefix + key, this.windowMs],
    );
    return { totalHits: Number(rows[0].hits), resetTime: new Date(rows[0].reset_at) };
  }
  async decrement(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: this.prefix + key }).where('hits', '>', 0).decrement('hits', 1);
  }
  async resetKey(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: this.prefix + key }).delete();
  }
  async get(key: string): Promise<IncrementResponse | undefined> {
    const row = await this.db('rate_limits')
      .where({ key: this.prefix + key })
      .where('reset_at', '>', this.db.fn.now())
      .first<{ hits: number; reset_at: Date } | undefined>();
    return row ? { totalHits: Number(row.hits), resetTime: new Date(row.reset_at) } : undefined;
  }
}

/**
 * Deletes PostgreSQL rate-limit counters whose window ended (a hit after the window restarts the
 * counter anyway, so this only keeps the table small). Redis counters expire by themselves.
 */
export async function purgeExpiredRateLimits(db: Db, clock: Clock): Promise<number> {
  return db('rate_limits').where('reset_at', '<', clock.now()).del();
}

/**
 * Deletes, inside the caller's transaction, the PostgreSQL counters whose key names one of
 * `names` (a user id, an email) as a whole key part: keys are `<prefix>:<key>` and a key is the
 * name itself, `user:<name>`, `email:<name>` or `<name>|<address>` — so `x@b.com` never matches
 * `ax@b.com`'s counter. For a user's erasure: a counter keyed by their email is personal data.
 * Redis counters (REDIS_URL) are not scanned: they expire at the end of their window (≤ 1 hour).
 */
export async function forgetRateLimits(trx: Knex.Transaction, names: string[]): Promise<number> {
  let deleted = 0;
  for (const name of names.filter(Boolean)) {
    deleted += await trx('rate_limits')
      .where((w) => void w.whereRaw('right(key, length(?) + 1) = ?', [name, `:${name}`]).orWhereRaw('position(? in key) > 0', [`:${name}|`]))
      .delete();
  }
  return deleted;
}

export interface LimiterBackends {
  db: Db;
  redis?: Redis;
}

export function makeStore(backends: LimiterBackends, prefix: string): Store {
  if (backends.redis) {
    const redis = backends.redis;
    return new RedisStore({
      prefix: `rl:${prefix}`,
      sendCommand: (...args: string[]) => redis.call(args[0], ...args.slice(1)) as Promise<RedisReply>,
    });
  }
  return new PgRateLimitStore(backends.db, `${prefix}:`);
}

/**
 * A limiter that answers 429 problem+json with Retry-After. `key` names the bucket (default:
 * client address, with IPv6 grouped by /56 as express-rate-limit recommends).
 */
export function createLimiter(
  backends: LimiterBackends,
  opts: { prefix: string; windowMs: number; limit: number; key?: (req: Request) => string; skipSuccessfulRequests?: boolean },
): RequestHandler {
  return rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skipSuccessfulRequests: opts.skipSuccessfulRequests ?? false,
    store: makeStore(backends, opts.prefix),
    keyGenerator: opts.key ?? ((req) => ipKeyGenerator(req.ip ?? 'unknown')),
    handler: (req, _res, next) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = reset ? (reset.getTime() - Date.now()) / 1000 : opts.windowMs / 1000;
      next(new RateLimitedError(seconds));
    },
  });
}

/** A failure counter in fixed windows, per key, in the same store as the request limits. */
export interface FailureCounter {
  /** Counts one attempt; returns the hits in the window so far (this one included) and when it ends. */
  increment(key: string): Promise<{ hits: number; resetTime: Date }>;
  /** Takes one attempt back (it succeeded). */
  decrement(key: string): Promise<void>;
}

/**
 * For limits that a service, not a middleware, decides on: the outcome (a wrong password) is known
 * only inside the service. Counted before the check and taken back on success, so concurrent
 * attempts cannot slip past the limit between check and count.
 */
export function createFailureCounter(backends: LimiterBackends, opts: { prefix: string; windowMs: number }): FailureCounter {
  const store = makeStore(backends, opts.prefix);
  void store.init?.({ windowMs: opts.windowMs } as Options);
  return {
    async increment(key) {
      const r = await store.increment(key);
      return { hits: r.totalHits, resetTime: r.resetTime ?? new Date(Date.now() + opts.windowMs) };
    },
    async decrement(key) {
      await store.decrement(key);
    },
  };
}
