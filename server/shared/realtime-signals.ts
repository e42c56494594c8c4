import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from './db.js';

/**
 * The two realtime channels, declared once. Each is a PostgreSQL NOTIFY channel, or a Redis
 * pub/sub channel when REDIS_URL is set; realtime/ subscribes, writers signal.
 */
/** `{"userId","seq"}`: the user has committed events up to `seq`. */
export const EVENTS_CHANNEL = 'numina_events';
/** `{"userId","sessionIds"?}`: those logins are gone (without `sessionIds`: every login of the user). */
export const SESSIONS_REVOKED_CHANNEL = 'numina_sessions_revoked';

export interface EventsSignal {
  userId: string;
  seq: number;
}

/** Those logins (`sessionIds`), or every login of `userId` when no session ids are given. */
export interface RevokedSignal {
  userId?: string;
  sessionIds?: string[];
}

/**
 * Signals to the realtime instances, sent after the writing transaction has committed and never
 * inside it: a NOTIFY inside a transaction takes PostgreSQL's instance-wide notify lock through
 * that commit, which serialises every writer's commit. A signal is only a hint to read the
 * database now: a lost one (a crash between commit and signal, a dropped connection) delays
 * delivery until realtime's catch-up timer, and never loses an event.
 */
export interface Signals {
  /** Once `trx` commits: the user has events up to `seq` (a rollback sends nothing). */
  eventsCommitted(trx: Knex.Transaction, userId: string, seq: number): void;
  /** Once `trx` commits: drop the sockets of these logins on every instance. */
  sessionsRevokedAfterCommit(trx: Knex.Transaction, signal: RevokedSignal): void;
  /** Now (the caller has committed): drop the sockets of these logins on every instance. */
  sessionsRevoked(signal: RevokedSignal): void;
  /** Resolves once everything queued so far has been sent (or failed). */
  flush(): Promise<void>;
}

/** pg_notify payloads are limited to 8000 bytes: session ids go out in chunks well below that. */
const SESSION_CHUNK = 100;
/** Notifications per statement when many are queued at once. */
const BATCH = 500;

export interface SignalDeps {
  db: Db;
  /** Set: Redis pub/sub carries the signals (realtime must subscribe there too). */
  redis?: Redis;
  logger: Logger;
}

/**
 * Signals through NOTIFY on a pooled connection of its own (autocommit, outside any write), or
 * through Redis PUBLISH. Sends one batch at a time: whatever queues while a batch is on the wire
 * goes in the next one, so 100 concurrent writers cost a few NOTIFY statements, not 100, and
 * several events of one user collapse into one signal carrying the highest seq.
 */
export function createSignals({ db, redis, logger }: SignalDeps): Signals {
  const events = new Map<string, number>();
  let revoked: RevokedSignal[] = [];
  let sending: Promise<void> | null = null;
  const afterCommit = new WeakMap<Knex.Transaction, (() => void)[]>();

  const publish = async (batch: [string, string][]): Promise<void> => {
    if (redis) {
      const pipe = redis.pipeline();
      for (const [channel, payload] of batch) pipe.publish(channel, payload);
      await pipe.exec();
      return;
    }
    await db.raw('SELECT pg_notify(c, p) FROM unnest(?::text[], ?::text[]) AS s(c, p)', [batch.map((b) => b[0]), batch.map((b) => b[1])]);
  };

  const run = async (): Promise<void> => {
    try {
      while (events.size || revoked.length) {
        const batch: [string, string][] = [];
        for (const [userId, seq] of events) batch.push([EVENTS_CHANNEL, JSON.stringify({ userId, seq } satisfies EventsSignal)]);
        events.clear();
        for (const r of revoked) {
          if (!r.sessionIds) batch.push([SESSIONS_REVOKED_CHANNEL, JSON.stringify({ userId: r.userId } satisfies RevokedSignal)]);
          else
            for (let i = 0; i < r.sessionIds.length; i += SESSION_CHUNK)
              batch.push([SESSIONS_REVOKED_CHANNEL, JSON.stringify({ ...r, sessionIds: r.sessionIds.slice(i, i + SESSION_CHUNK) } satisfies RevokedSignal)]);
        }
        revoked = [];
        for (let i = 0; i < batch.length; i += BATCH) {
          try {
            await publish(batch.slice(i, i + BATCH));
          } catch (err) {
            // Realtime's catch-up finds the events; a revoked login's socket fails its next session check.
            logger.warn({ err, signals: batch.length }, 'realtime signal not sent');
          }
        }
      }
    } finally {
      sending = null;
    }
  };
  const schedule = () => {
    sending ??= run();
  };
  const queueEvents = (userId: string, seq: number) => {
    events.set(userId, Math.max(seq, events.get(userId) ?? 0));
    schedule();
  };
  const queueRevoked = (signal: RevokedSignal) => {
    if (signal.sessionIds ? !signal.sessionIds.length : !signal.userId) return;
    revoked.push(signal);
    schedule();
  };

  /**
   * Runs `fn` once `trx` has committed. knex resolves `executionPromise` after COMMIT returned
   * (and rejects it on a rollback with an error; an explicit `trx.rollback()` without one resolves
   * it, which only costs a harmless extra read). For a savepoint (nested transaction) it fires at
   * its release, before the outer commit: the reader then finds nothing yet and the catch-up
   * delivers.
   */
  const onCommit = (trx: Knex.Transaction, fn: () => void) => {
    let list = afterCommit.get(trx);
    if (!list) {
      const fns: (() => void)[] = (list = []);
      afterCommit.set(trx, fns);
      trx.executionPromise.then(
        () => {
          for (const f of fns) f();
        },
        () => {},
      );
    }
    list.push(fn);
  };

  return {
    eventsCommitted: (trx, userId, seq) => onCommit(trx, () => queueEvents(userId, seq)),
    sessionsRevokedAfterCommit: (trx, signal) => onCommit(trx, () => queueRevoked(signal)),
    sessionsRevoked: queueRevoked,
    async flush() {
      while (sending) await sending;
    },
  };
}

/** `{userId, seq}` from a signal payload, or null when it is not one. */
export function parseEventsSignal(payload: string): EventsSignal | null {
  const msg = parseJson(payload);
  if (!msg || typeof msg.userId !== 'string') return null;
  return { userId: msg.userId, seq: typeof msg.seq === 'number' && Number.isSafeInteger(msg.seq) ? msg.seq : Number.MAX_SAFE_INTEGER };
}

/** `{userId, sessionIds?}` from a signal payload, or null when it is not one. */
export function parseRevokedSignal(payload: string): RevokedSignal | null {
  const msg = parseJson(payload);
  if (!msg) return null;
  if (Array.isArray(msg.sessionIds)) return { sessionIds: msg.sessionIds.filter((s): s is string => typeof s === 'string') };
  return typeof msg.userId === 'string' ? { userId: msg.userId } : null;
}

function parseJson(payload: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(payload);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
