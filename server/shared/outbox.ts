import type { Knex } from 'knex';
import type { Clock } from './clock.js';
import { preparedSql } from './db.js';
import type { Signals } from './realtime-signals.js';

/**
 * The realtime events, declared once: what a feature publishes, what the `events` table holds and
 * what a client receives (docs/api.md, Realtime). Money is a decimal string, never a number.
 */
export interface EventPayloads {
  'balance.updated': { accountId: string; balance: string; currency: string };
  'transaction.created': { transaction: TransactionPayload };
  'transaction.updated': { transaction: TransactionPayload };
  'transaction.deleted': { transaction: TransactionPayload };
  /** `period` is `monthly` or `weekly`; `periodStart` its first day; `threshold` the fraction crossed. */
  'budget.alert': {
    budgetId: string;
    categoryId: string;
    period: string;
    periodStart: string;
    spent: string;
    amount: string;
    currency: string;
    threshold: string;
  };
  'goal.progress': { goalId: string; currentAmount: string; currency: string; progress: string; achieved: boolean };
}

/** A transaction as `GET /transactions/{id}` returns it (the ledger's view; its fields are the ledger's). */
export interface TransactionPayload {
  id: string;
  [field: string]: unknown;
}

export type EventType = keyof EventPayloads;

/** One event to publish, its payload typed by its type. */
export type AnyEvent = { [T in EventType]: { type: T; data: EventPayloads[T] } }[EventType];

export interface OutboxEvent<T extends EventType = EventType> {
  seq: number;
  type: T;
  at: string;
  data: EventPayloads[T];
}

/** Why the server ends a socket (`session.ended {reason}`, sent just before the disconnect). */
export type SessionEndReason = 'session_revoked' | 'token_expired' | 'slow_consumer' | 'rate_limited';

/** Acknowledgement of `resume`. `gap: true`: events after sinceSeq were pruned, reload over HTTP. */
export type ResumeAck = { ok: true; lastSeq: number; gap: boolean } | { ok: false; code: string; errors?: { path: string; message: string }[] };
export type AuthAck = { ok: true } | { ok: false; code: string };

/** What the server emits: each event under its type, and `session.ended`. */
export type ServerToClientEvents = { [T in EventType]: (event: OutboxEvent<T>) => void } & {
  'session.ended': (body: { reason: SessionEndReason }) => void;
};

/** What a client may emit (bodies are validated: a client can send anything). */
export interface ClientToServerEvents {
  resume: (body: { sinceSeq: number }, ack?: (ack: ResumeAck) => void) => void;
  auth: (body: { token: string }, ack?: (ack: AuthAck) => void) => void;
}

export interface Outbox {
  /**
   * Stores an event for `userId` in the caller's transaction, with the user's next `seq`.
   * The user's counter row stays locked until commit, so seqs are gap-free among committed events
   * and commit in order. The realtime signal goes out after the commit, outside the transaction
   * (a rollback sends nothing, and nothing is stored).
   */
  publish<T extends EventType>(trx: Knex.Transaction, userId: string, type: T, data: EventPayloads[T]): Promise<OutboxEvent<T>>;
  /**
   * Stores several events for `userId` in order, with consecutive seqs (batch writers: the ledger's
   * events of one write, the recurring sweep): one counter bump, multi-row inserts, one signal.
   */
  publishMany(trx: Knex.Transaction, userId: string, events: readonly AnyEvent[]): Promise<OutboxEvent[]>;
}

export function createOutbox({ clock, signals }: { clock: Clock; signals: Pick<Signals, 'eventsCommitted'> }): Outbox {
  /**
   * Takes the next `events.length` numbers of the user's counter and inserts the events under them
   * in one statement (a data-modifying CTE always runs to completion): one round trip per write.
   */
  async function publishAll(trx: Knex.Transaction, userId: string, events: readonly AnyEvent[]): Promise<OutboxEvent[]> {
    const n = events.length;
    const at = clock.now();
    const rows = await preparedSql<{ last_seq: string }>(
      trx,
      `WITH s AS (
         INSERT INTO user_event_seq (user_id, last_seq) VALUES (?::uuid, ?::bigint)
         ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_seq.last_seq + EXCLUDED.last_seq
         RETURNING last_seq
       ), e AS (
         INSERT INTO events (user_id, seq, type, data, at)
         SELECT ?::uuid, s.last_seq - ?::bigint + u.i, u.type, u.data, ?::timestamptz
           FROM s, unnest(?::text[], ?::jsonb[]) WITH ORDINALITY AS u(type, data, i)
       )
       SELECT last_seq FROM s`,
      [userId, n, userId, n, at, events.map((e) => e.type), events.map((e) => JSON.stringify(e.data))],
    );
    const last = Number(rows[0].last_seq);
    // Delivery reads every event after the socket's cursor: one signal (after commit) carries the whole batch.
    signals.eventsCommitted(trx, userId, last);
    return events.map((e, i): OutboxEvent => ({ seq: last - n + 1 + i, type: e.type, at: at.toISOString(), data: e.data }));
  }

  return {
    async publish<T extends EventType>(trx: Knex.Transaction, userId: string, type: T, data: EventPayloads[T]) {
      const [event] = await publishAll(trx, userId, [{ type, data } as AnyEvent]);
      return event as OutboxEvent<T>;
    },

    publishMany(trx, userId, events) {
      return events.length === 0 ? Promise.resolve([]) : publishAll(trx, userId, events);
    },
  };
}

/** How many events were published (and so delivered to every connected device of their user) since `since`. */
export async function countEventsSince(db: Knex, since: Date): Promise<number> {
  const row = (await db('events').where('at', '>', since).count({ n: '*' }).first()) as { n: string | number } | undefined;
  return Number(row?.n ?? 0);
}
