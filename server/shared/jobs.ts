import type { Knex } from 'knex';
import type { Logger } from 'pino';

/** What a queued job's handler receives: its payload (ids only, never personal data) and attempt number. */
export interface QueuedJob<T> {
  id: string;
  payload: T;
  /** 1 on the first try. */
  attempt: number;
}

export interface WorkOptions {
  /** Tries in all before the job is marked failed (kept in `job_queue` with its last error). */
  retryLimit?: number;
  /** Delay before the n-th retry: `retryDelayMs * 2^(n-1)`, capped at one hour. */
  retryDelayMs?: number;
}

/**
 * Periodic housekeeping that features register (purging expired rows and the like), and a durable
 * queue for work that must happen after a commit (mail). Timers start when the instance serves and
 * stop at shutdown; they never keep a process alive. Every instance runs them, so a periodic job
 * must be safe to run concurrently (plain deletes of expired rows are); a queued job is claimed by
 * exactly one worker at a time (FOR UPDATE SKIP LOCKED) and retried with backoff when it throws.
 *
 * The queue is the smallest interface features need (`enqueue` inside the writer's transaction,
 * `work` to handle a name); pg-boss can stand behind the same two calls.
 */
export interface Jobs {
  schedule(name: string, everyMs: number, fn: () => Promise<unknown>): void;
  /** Registers the handler of queued jobs called `name`; a thrown error schedules a retry. */
  work<T>(name: string, handler: (job: QueuedJob<T>) => Promise<void>, opts?: WorkOptions): void;
  /**
   * Queues `name` with `payload` in the caller's transaction: workers see it only once that
   * transaction commits, and never if it rolls back.
   */
  enqueue(trx: Knex | Knex.Transaction, name: string, payload: Record<string, string | number | boolean | null>): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  /** Runs one periodic job now (operators, tests); resolves with its result. */
  run(name: string): Promise<unknown>;
  /** Runs every queued job that is due now, once each; resolves with how many succeeded (tests, operators). */
  drain(): Promise<number>;
}

const QUEUE_POLL_MS = 250;
const CLAIM_MS = 5 * 60_000;

export function createJobs(logger: Logger, db?: Knex): Jobs {
  const jobs = new Map<string, { everyMs: number; fn: () => Promise<unknown> }>();
  const workers = new Map<string, { handler: (job: QueuedJob<unknown>) => Promise<void>; retryLimit: number; retryDelayMs: number }>();
  const timers: NodeJS.Timeout[] = [];
  let inFlight: Promise<unknown> = Promise.resolve();
  let polling = false;
  const runLogged = async (name: string) => {
    try {
      const result = await jobs.get(name)!.fn();
      logger.debug({ job: name, result }, 'job done');
    } catch (err) {
      logger.error({ err, job: name }, 'job failed');
    }
  };

  /** Claims one due job (another worker skips it while claimed), runs it, and settles it. */
  async function runOne(): Promise<'done' | 'failed' | 'none'> {
    if (!db || workers.size === 0) return 'none';
    const { rows } = await db.raw(
      `UPDATE job_queue SET attempts = attempts + 1, locked_until = now() + (? * interval '1 millisecond')
        WHERE id = (SELECT id FROM job_queue
                     WHERE failed_at IS NULL AND run_at <= now() AND (locked_until IS NULL OR locked_until < now()) AND name = ANY(?)
                     ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id, name, payload, attempts`,
      [CLAIM_MS, [...workers.keys()]],
    );
    const row = rows[0] as { id: string; name: string; payload: unknown; attempts: number } | undefined;
    if (!row) return 'none';
    const worker = workers.get(row.name)!;
    try {
      await worker.handler({ id: row.id, payload: row.payload, attempt: row.attempts });
      await db('job_queue').where({ id: row.id }).del();
      return 'done';
    } catch (err) {
      const final = row.attempts >= worker.retryLimit;
      logger.warn({ err, job: row.name, jobId: row.id, attempt: row.attempts, final }, 'queued job failed');
      const delay = Math.min(worker.retryDelayMs * 2 ** (row.attempts - 1), 3_600_000);
      await db.raw(
        `UPDATE job_queue SET locked_until = NULL, last_error = ?, ${final ? 'failed_at = now()' : `run_at = now() + (? * interval '1 millisecond')`} WHERE id = ?`,
        final ? [String((err as Error)?.message ?? err).slice(0, 500), row.id] : [String((err as Error)?.message ?? err).slice(0, 500), delay, row.id],
      );
      return 'failed';
    }
  }

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      while ((await runOne()) !== 'none');
    } catch (err) {
      logger.error({ err }, 'job queue poll failed');
    } finally {
      polling = false;
    }
  }

  return {
    schedule(name, everyMs, fn) {
      if (jobs.has(name)) throw new Error(`job ${name} is scheduled twice`);
      jobs.set(name, { everyMs, fn });
    },
    work(name, handler, opts = {}) {
      if (workers.has(name)) throw new Error(`job ${name} has two workers`);
      workers.set(name, { handler: handler as (job: QueuedJob<unknown>) => Promise<void>, retryLimit: opts.retryLimit ?? 8, retryDelayMs: opts.retryDelayMs ?? 1000 });
    },
    async enqueue(trx, name, payload) {
      await trx('job_queue').insert({ name, payload: JSON.stringify(payload) });
    },
    start() {
      for (const [name, job] of jobs) {
        const timer = setInterval(() => void runLogged(name), job.everyMs);
        timer.unref();
        timers.push(timer);
      }
      if (db && workers.size > 0) {
        const timer = setInterval(() => {
          inFlight = poll();
        }, QUEUE_POLL_MS);
        timer.unref();
        timers.push(timer);
      }
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      await inFlight;
    },
    async run(name) {
      const job = jobs.get(name);
      if (!job) throw new Error(`no job ${name}`);
      return job.fn();
    },
    async drain() {
      let done = 0;
      for (let r = await runOne(); r !== 'none'; r = await runOne()) if (r === 'done') done++;
      return done;
    },
  };
}
