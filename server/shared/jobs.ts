import type { Knex } from 'knex';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './errors.js';
import { sqlRows } from './db.js';

/**
 * Scheduled and one-off background work on pg-boss (a job queue inside our own PostgreSQL, schema
 * `pgboss`, created by pg-boss when the first instance starts). Features only see this interface,
 * never pg-boss itself.
 *
 * Invariants:
 * - A schedule tick runs on exactly one instance: pg-boss's cron inserts one job per tick (a
 *   singleton per minute) and a worker claims it with `FOR UPDATE SKIP LOCKED`. Scheduled queues
 *   use the `stately` policy, so at most one run is queued and one active at a time.
 * - A run that throws is retried (with back-off); a run whose process died is expired by pg-boss's
 *   supervisor and retried on another instance. Handlers must therefore be idempotent.
 * - Payloads carry ids only (never money, secrets or mail bodies): the handler reads the current
 *   state from the database when it runs.
 * - Nothing runs until `start()`, and `stop()` waits for runs in flight, then closes the queue's
 *   own small pool, so tests and shutdown leave nothing behind.
 * - Handlers read time from the injected clock (`ctx.clock`), never from the queue: `runNow` lets
 *   tests (and operators) run a job at once in this process, with whatever "now" the clock says.
 */

/** Ids and flags only: the handler loads everything else from the database. */
export type JobPayload = Record<string, string | number | boolean | null>;

/** What a queued job's handler receives: its payload (ids only) and which try this is. */
export interface QueuedJob<T> {
  id: string;
  payload: T;
  /** 1 on the first try. */
  attempt: number;
}

export interface JobRetryOptions {
  /** How many times a failed run is retried after the first try (default 3). */
  retryLimit?: number;
  /** Delay before the first retry, doubling each time (default 30 s; pg-boss counts whole seconds). */
  retryDelayMs?: number;
  /** A run still active after this long counts as crashed and is retried (default 15 min). */
  expireInSeconds?: number;
}

export interface ScheduleOptions extends JobRetryOptions {
  /** Also queue one run when the instance starts (catch-up after downtime). */
  runAtStart?: boolean;
}

export interface SendOptions {
  /** Run no earlier than this. */
  startAfter?: Date;
  /** At most one queued job per key (e.g. one alert mail per notification id). */
  singletonKey?: string;
}

export interface Jobs {
  /**
   * Periodic work. `every` is a 5-field cron expression in UTC (`"*\/5 * * * *"`) or a period in
   * milliseconds that divides an hour or a day (turned into the matching cron). One instance runs
   * each tick.
   */
  schedule(name: string, every: string | number, fn: () => Promise<unknown>, opts?: ScheduleOptions): void;
  /** The handler of one-off jobs queued with `enqueue`/`send`; a thrown error schedules a retry. Register before `start()`. */
  work<P extends JobPayload>(name: string, handler: (job: QueuedJob<P>) => Promise<unknown>, opts?: JobRetryOptions): void;
  /**
   * Queues a one-off job inside the caller's database transaction: it becomes visible (and runs)
   * only once `trx` commits, and vanishes if it rolls back — so a mail about a change is never
   * sent for a change that did not happen, and never lost for one that did.
   */
  enqueue(trx: Knex | Knex.Transaction, name: string, payload: JobPayload, opts?: SendOptions): Promise<string | null>;
  /** Queues a one-off job outside any transaction (after `start()`). Resolves with its id (null when a singleton already waits). */
  send(name: string, payload: JobPayload, opts?: SendOptions): Promise<string | null>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs a scheduled job now, in this process, with the injected clock; resolves with its result. */
  runNow(name: string): Promise<unknown>;
  /** Same as `runNow` (the name the ledger's tests and CLIs use). */
  run(name: string): Promise<unknown>;
  /** Claims and runs every queued one-off job that is due now, once each; resolves with how many succeeded (tests, operators). */
  drain(): Promise<number>;
  /** Names of the scheduled jobs (operators, docs, tests). */
  scheduled(): { name: string; cron: string }[];
  /**
   * Deletes, inside the caller's transaction, every job still waiting to run (states `created` and
   * `retry`, any queue) whose payload has `key` equal to `value` — e.g. `userId` when a user is
   * erased: a queued run would otherwise act on, or mail, a user who is gone. Runs already active
   * finish (their handlers find the rows gone). Resolves with how many were deleted; needs no `start()`.
   */
  deleteQueued(trx: Knex | Knex.Transaction, match: { key: string; value: string }): Promise<number>;
}

export interface JobsDeps {
  logger: Logger;
  /** The database the queue lives in (our own). Required to start; unused by apps that never start. */
  databaseUrl?: string;
  /** The queue's own pool size (small: it only polls and claims). */
  poolMax?: number;
  /** How often workers poll for one-off jobs, seconds (≥ 0.5). */
  pollingIntervalSeconds?: number;
}

export const JOBS_SCHEMA = 'pgboss';

/** Turns a period in ms into a cron expression, when one exists; anything else is a programming error. */
export function cronFor(every: string | number): string {
  if (typeof every === 'string') return every;
  const minutes = every / 60_000;
  if (Number.isInteger(minutes) && minutes >= 1 && minutes < 60 && 60 % minutes === 0) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`;
  const hours = minutes / 60;
  if (Number.isInteger(hours) && hours >= 1 && hours < 24 && 24 % hours === 0) return hours === 1 ? '0 * * * *' : `0 */${hours} * * *`;
  if (hours === 24) return '0 0 * * *';
  throw new Error(`no cron expression for a period of ${every} ms: use a cron string`);
}

/**
 * pg-boss's Db adapter over a Knex transaction, so a job insert joins the caller's transaction.
 * pg-boss writes `$n` placeholders; Knex binds `?` — the insert statement has no literal `?`.
 */
function trxDb(trx: Knex | Knex.Transaction): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      if (text.includes('?')) throw new Error('pg-boss statement with a literal "?" cannot be rebound for Knex');
      const bindings: unknown[] = [];
      const sql = text.replace(/\$(\d+)/g, (_m, n: string) => {
        const v = values[Number(n) - 1];
        bindings.push(v === undefined ? null : v);
        return '?';
      });
      const rows = await sqlRows<unknown>(trx, sql, bindings as Knex.RawBinding[]);
      return { rows };
    },
  };
}

export function createJobs(deps: JobsDeps): Jobs {
  const { logger } = deps;
  const schedules = new Map<string, { cron: string; fn: () => Promise<unknown>; opts: ScheduleOptions }>();
  const workers = new Map<string, { handler: (job: QueuedJob<JobPayload>) => Promise<unknown>; opts: JobRetryOptions }>();
  let boss: PgBoss | undefined;

  const assertNew = (name: string) => {
    if (schedules.has(name) || workers.has(name)) throw new Error(`job ${name} is registered twice`);
    if (!/^[\w.-]+$/.test(name)) throw new Error(`job name ${name} may hold only letters, digits, "_", "." and "-"`);
  };
  const queueOptions = (opts: JobRetryOptions) => ({
    retryLimit: opts.retryLimit ?? 3,
    retryDelay: Math.max(1, Math.round((opts.retryDelayMs ?? 30_000) / 1000)),
    retryBackoff: true,
    expireInSeconds: opts.expireInSeconds ?? 15 * 60,
  });
  const running = (): PgBoss => {
    if (!boss) throw new Error('jobs are not started');
    return boss;
  };
  const toSendOptions = (opts: SendOptions = {}): PgBoss.SendOptions => ({
    ...(opts.startAfter ? { startAfter: opts.startAfter } : {}),
    ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
  });

  return {
    schedule(name, every, fn, opts = {}) {
      assertNew(name);
      schedules.set(name, { cron: cronFor(every), fn, opts });
    },

    work(name, handler, opts = {}) {
      assertNew(name);
      workers.set(name, { handler: handler as (job: QueuedJob<JobPayload>) => Promise<unknown>, opts });
    },

    async send(name, payload, opts) {
      if (!workers.has(name)) throw new Error(`no worker for job ${name}`);
      return running().send(name, payload, toSendOptions(opts));
    },

    async enqueue(trx, name, payload, opts) {
      if (!workers.has(name)) throw new Error(`no worker for job ${name}`);
      return running().send(name, payload, { ...toSendOptions(opts), db: trxDb(trx) });
    },

    async start() {
      if (boss) return;
      if (!deps.databaseUrl) throw new Error('jobs need a database URL to start');
      const b = new PgBoss({
        connectionString: deps.databaseUrl,
        schema: JOBS_SCHEMA,
        max: deps.poolMax ?? 3,
        application_name: 'numina-jobs',
      });
      // pg-boss polls: during a database outage every poll fails. The outage itself is logged once
      // by the database watch; the queue says so at most once a minute, as a warning.
      let quietUntil = 0;
      b.on('error', (err) => {
        if (!isDatabaseUnavailable(err)) return logger.error({ err }, 'job queue error');
        if (Date.now() < quietUntil) return;
        quietUntil = Date.now() + 60_000;
        logger.warn({ err: { message: err.message } }, 'job queue cannot reach the database; it retries on its own');
      });
      await b.start();
      boss = b;
      // Creating a queue creates and attaches a partition; two instances doing it at once deadlock
      // in PostgreSQL. A session advisory lock makes instances create the queues one at a time.
      const lock = new pg.Client({ connectionString: deps.databaseUrl, application_name: 'numina-jobs' });
      try {
        await lock.connect();
        await lock.query('SELECT pg_advisory_lock(hashtext($1))', ['numina.jobs.create-queues']);
        try {
          for (const [name, s] of schedules) await b.createQueue(name, { name, policy: 'stately', ...queueOptions(s.opts) });
          for (const [name, w] of workers) await b.createQueue(name, { name, policy: 'standard', ...queueOptions(w.opts) });
        } finally {
          await lock.query('SELECT pg_advisory_unlock(hashtext($1))', ['numina.jobs.create-queues']);
        }
      } catch (err) {
        boss = undefined;
        await lock.end().catch(() => undefined);
        await b.stop({ graceful: false, close: true, wait: true });
        throw err;
      }
      await lock.end();
      try {
        for (const [name, s] of schedules) {
          await b.schedule(name, s.cron, {}, { tz: 'UTC' });
          await b.work(name, { batchSize: 1, pollingIntervalSeconds: 5 }, async () => {
            try {
              const result = await s.fn();
              logger.debug({ job: name, result }, 'job done');
              return result;
            } catch (err) {
              logger.error({ err, job: name }, 'scheduled job failed; it will be retried');
              throw err;
            }
          });
          if (s.opts.runAtStart) await b.send(name, {}, { singletonKey: 'start' });
        }
        for (const [name, w] of workers) {
          await b.work<JobPayload>(name, { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: deps.pollingIntervalSeconds ?? 2 }, async ([job]) => {
            try {
              return await w.handler({ id: job.id, payload: job.data, attempt: job.retryCount + 1 });
            } catch (err) {
              logger.error({ err, job: name, id: job.id }, 'job failed; it will be retried');
              throw err;
            }
          });
        }
      } catch (err) {
        boss = undefined;
        await b.stop({ graceful: false, close: true, wait: true });
        throw err;
      }
    },

    async stop() {
      const b = boss;
      boss = undefined;
      // Waits for runs in flight (bounded), stops pg-boss's timers and closes its pool.
      if (b) await b.stop({ graceful: true, close: true, wait: true, timeout: 10_000 });
    },

    async runNow(name) {
      const s = schedules.get(name);
      if (!s) throw new Error(`no scheduled job ${name}`);
      return s.fn();
    },

    async run(name) {
      return this.runNow(name);
    },

    async drain() {
      const b = running();
      let done = 0;
      for (const [name, w] of workers) {
        for (;;) {
          // fetch claims the jobs (state active), so a background worker cannot run them too.
          const jobs = await b.fetch<JobPayload>(name, { batchSize: 50, includeMetadata: true });
          if (jobs.length === 0) break;
          for (const job of jobs) {
            try {
              await w.handler({ id: job.id, payload: job.data, attempt: job.retryCount + 1 });
              await b.complete(name, job.id);
              done++;
            } catch (err) {
              logger.error({ err, job: name, id: job.id }, 'job failed; it will be retried');
              await b.fail(name, job.id, { message: String((err as Error)?.message ?? err) });
            }
          }
        }
      }
      return done;
    },

    scheduled() {
      return [...schedules].map(([name, s]) => ({ name, cron: s.cron }));
    },

    async deleteQueued(trx, match) {
      const rows = await sqlRows<{ id: string }>(
        trx,
        `DELETE FROM ${JOBS_SCHEMA}.job WHERE state IN ('created', 'retry') AND data ->> ? = ? RETURNING id`,
        [match.key, match.value],
      );
      return rows.length;
    },
  };
}
