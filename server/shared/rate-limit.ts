import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, ipKeyGenerator, type Store, type IncrementResponse, type Options } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Clock } from './clock.js';
import { sqlRows, type Db } from './db.js';
import { RateLimitedError } from './errors.js';

/**
 * The counter's one atomic step in SQL: `INSERT … SELECT <key>, 1, now() + <window ms> <source> ON
 * CONFLICT … RETURNING hits, reset_at` — a fixed window that starts at its first hit. `key` and
 * `windowMs` are placeholders (`?` for knex, `$n` for a prepared statement); `source` (`FROM …
 * WHERE …`) lets another statement count a hit only when its own condition holds, in the same
 * round trip (the session check counts the per-user limit this way).
 */
export function countHitSql(key: string, windowMs: string, source = ''): string {
  return `INSERT INTO rate_limits AS r (key, hits, reset_at)
       SELECT ${key}::text, 1, now() + (${windowMs}::integer * interval '1 millisecond') ${source}
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN r.reset_at <= now() THEN 1 ELSE r.hits + 1 END,
         reset_at = CASE WHEN r.reset_at <= now() THEN EXCLUDED.reset_at ELSE r.reset_at END
       RETURNING hits, reset_at`;
}

/** A request counted against a limit: the hits in the window so far (this one included) and when it ends. */
export interface LimitHit {
  totalHits: number;
  resetTime: Date;
}

/** A fixed-window limit: `limit` requests per `windowMs`, counted under `prefix:<key>`. */
export interface LimitSpec {
  prefix: string;
  windowMs: number;
  limit: number;
}

/** The counter key of `key` in the PostgreSQL store under `prefix` (as PgRateLimitStore writes it). */
export function limitKey(prefix: string, key: string): string {
  return `${prefix}:${key}`;
}

/**
 * Answers a hit counted elsewhere (in the session check's statement) exactly as the middleware
 * limiter does: IETF draft-7 `RateLimit` / `RateLimit-Policy` headers, and a 429 with Retry-After
 * past the limit.
 */
export function enforceLimit(res: Response, hit: LimitHit, spec: LimitSpec): void {
  const resetSeconds = Math.max(0, Math.ceil((hit.resetTime.getTime() - Date.now()) / 1000));
  if (!res.headersSent) {
    res.setHeader('RateLimit-Policy', `${spec.limit};w=${Math.ceil(spec.windowMs / 1000)}`);
    res.setHeader('RateLimit', `limit=${spec.limit}, remaining=${Math.max(spec.limit - hit.totalHits, 0)}, reset=${resetSeconds}`);
  }
  if (hit.totalHits > spec.limit) throw new RateLimitedError((hit.resetTime.getTime() - Date.now()) / 1000);
}

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
    const rows = await sqlRows<{ hits: number; reset_at: Date }>(this.db, countHitSql('?', '?'), [this.prefix + key, this.windowMs]);
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
