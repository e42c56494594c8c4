import type { Knex } from 'knex';
import type { Clock } from './clock.js';

/** The event types clients receive (see docs/api.md, Realtime). */
export type EventType =
  | 'balance.updated'
  | 'transaction.created'
  | 'transaction.updated'
  | 'transaction.deleted'
  | 'budget.alert'
  | 'goal.progress';

export interface OutboxEvent {
  seq: number;
  type: EventType;
  at: string;
  data: unknown;
}

/** PostgreSQL channel that carries `{"userId","seq"}` at commit of each publishing transaction. */
export const EVENTS_CHANNEL = 'numina_events';

export interface Outbox {
  /**
   * Stores an event for `userId` in the caller's transaction, with the user's next `seq`.
   * The user's counter row stays locked until commit, so seqs are gap-free among committed events
   * and commit in order; NOTIFY is delivered by PostgreSQL only if the transaction commits.
   */
  publish(trx: Knex.Transaction, userId: string, type: EventType, data: unknown): Promise<OutboxEvent>;
}

export function createOutbox({ clock }: { clock: Clock }): Outbox {
  return {
    async publish(trx, userId, type, data) {
      const { rows } = await trx.raw(
        `INSERT INTO user_event_seq (user_id, last_seq) VALUES (?, 1)
         ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_seq.last_seq + 1
         RETURNING last_seq`,
        [userId],
      );
      const seq = Number(rows[0].last_seq);
      const at = clock.now();
      await trx('events').insert({ user_id: userId, seq, type, data: JSON.stringify(data), at });
      await trx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, JSON.stringify({ userId, seq })]);
      return { seq, type, at: at.toISOString(), data };
    },
  };
}
