import { z } from 'zod';
import type { Logger } from 'pino';
import type { Clock } from '../server/shared/clock.js';
import type { Db } from '../server/shared/db.js';
import type { EventType, OutboxEvent, ResumeAck } from '../server/shared/outbox.js';
import type { EventsSignal } from '../server/shared/realtime-signals.js';
import type { RealtimeMetrics } from './metrics.js';
import type { Sessions } from './sessions.js';
import type { RealtimeSocket } from './types.js';

export interface DeliveryOptions {
  /** Events are held back from a socket with this many packets, or bytes, waiting to be written. */
  maxBufferedPackets: number;
  maxBufferedBytes: number;
  /** Rows read from `events` per query when catching a user up. */
  fetchBatchSize: number;
  /** Delay before retrying a failed read. */
  retryMs: number;
}

export type Delivery = ReturnType<typeof createDelivery>;

export const resumeSchema = z.object({ sinceSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });

interface EventRow {
  seq: string;
  type: EventType;
  data: OutboxEvent['data'];
  at: Date;
}

/** Users whose `last_seq` one catch-up query compares at most. */
const CATCH_UP_CHUNK = 1000;

/**
 * Writes each socket its user's committed events, in seq order, from the `events` table.
 *
 * Invariants: per socket, only seq > cursor is written, in order (no duplicate); a socket whose
 * cursor is below a round's start is not written that round (no gap). The database is the buffer:
 * a socket with a full write buffer is skipped (its cursor stays) and caught up when it drains;
 * one that stays full for the slow-consumer timeout is ended. So a socket holds at most about
 * maxBufferedPackets (or maxBufferedBytes) of events in memory, and never slows the others.
 */
export function createDelivery(deps: {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: RealtimeMetrics;
  sessions: Sessions;
  options: DeliveryOptions;
  isClosing(): boolean;
}) {
  const { db, clock, logger, metrics, sessions, options: opts } = deps;
  const reads = new Map<string, { again: boolean }>();

  /** Packets and bytes a socket has waiting: engine.io's write buffer grows while the transport is not writable. */
  const backlog = (socket: RealtimeSocket): { packets: number; bytes: number } => {
    // engine.io keeps this buffer on the transport-level socket; its typings do not expose it.
    const buf = (socket.conn as unknown as { writeBuffer?: { data?: unknown }[] }).writeBuffer ?? [];
    let bytes = 0;
    for (const p of buf) if (typeof p.data === 'string') bytes += p.data.length;
    return { packets: buf.length, bytes };
  };
  const congested = (b: { packets: number; bytes: number }) => b.packets >= opts.maxBufferedPackets || b.bytes >= opts.maxBufferedBytes;

  const emitEvent = <T extends EventType>(socket: RealtimeSocket, event: OutboxEvent<T>) => {
    // Socket.IO's typed emit cannot relate a union of names to their payloads: one name at a time.
    (socket.emit as (name: T, event: OutboxEvent<T>) => boolean)(event.type, event);
  };

  /** Catches every live socket of a user up to the newest committed event; one read at a time per user. */
  const deliver = async (userId: string): Promise<void> => {
    const running = reads.get(userId);
    if (running) {
      running.again = true;
      return;
    }
    const read = { again: false };
    reads.set(userId, read);
    try {
      do {
        read.again = false;
        const budget = new Map<RealtimeSocket, { packets: number; bytes: number }>();
        for (const s of sessions.userSockets(userId)) {
          if (!s.connected || !s.data.live) continue;
          const b = backlog(s);
          if (congested(b)) s.data.behindSince ??= Date.now();
          else budget.set(s, b);
        }
        if (!budget.size) break;
        const from = Math.min(...[...budget.keys()].map((s) => s.data.cursor));
        const rows = await db('events')
          .select<EventRow[]>('seq', 'type', 'data', 'at')
          .where({ user_id: userId })
          .andWhere('seq', '>', from)
          .orderBy('seq')
          .limit(opts.fetchBatchSize);
        if (!rows.length) continue;
        const now = clock.now().getTime();
        for (const row of rows) {
          const event: OutboxEvent = { seq: Number(row.seq), type: row.type, at: row.at.toISOString(), data: row.data };
          let size: number | undefined;
          for (const [socket, b] of budget) {
            const st = socket.data;
            if (!socket.connected || st.cursor < from || event.seq <= st.cursor) continue;
            size ??= JSON.stringify(event).length;
            if (congested(b)) {
              // Full: stop writing to it this round (later events would leave a gap); the drain resumes it.
              st.behindSince ??= Date.now();
              budget.delete(socket);
              continue;
            }
            emitEvent(socket, event);
            b.packets += 1;
            b.bytes += size;
            st.cursor = event.seq;
            st.behindSince = null;
            metrics.delivered.inc({ type: event.type });
            metrics.lag.observe(Math.max(0, now - row.at.getTime()) / 1000);
          }
        }
        if (rows.length === opts.fetchBatchSize) read.again = true;
        // Sockets that went live or resumed meanwhile, below this round's start, need another round.
        for (const s of sessions.userSockets(userId)) {
          if (s.connected && s.data.live && s.data.cursor < from && !congested(backlog(s))) read.again = true;
        }
      } while (read.again && !deps.isClosing());
    } catch (err) {
      if (deps.isClosing()) return;
      logger.error({ err, userId }, 'realtime read failed; retrying');
      setTimeout(() => void deliver(userId), opts.retryMs).unref();
    } finally {
      reads.delete(userId);
    }
  };

  /** Live sockets of the user that are behind `seq` and can take more. */
  const wants = (userId: string, seq: number) => {
    for (const s of sessions.userSockets(userId)) if (s.connected && s.data.live && s.data.cursor < seq && !congested(backlog(s))) return true;
    return false;
  };

  /**
   * Where a socket starts for a client that last saw `sinceSeq`, and whether events after it were
   * pruned (`gap`). When every later event was pruned, the cursor moves past them.
   */
  const startAfter = async (userId: string, sinceSeq: number): Promise<{ cursor: number; lastSeq: number; gap: boolean }> => {
    const { rows } = await db.raw<{ rows: { last: string | null; first: string | null }[] }>(
      `SELECT (SELECT last_seq FROM user_event_seq WHERE user_id = ?) AS last,
              (SELECT min(seq) FROM events WHERE user_id = ? AND seq > ?) AS first`,
      [userId, userId, sinceSeq],
    );
    const last = rows[0].last === null ? 0 : Number(rows[0].last);
    const first = rows[0].first === null ? null : Number(rows[0].first);
    const cursor = Math.min(sinceSeq, last);
    const gap = last > cursor && (first === null || first > cursor + 1);
    return { cursor: first === null ? last : cursor, lastSeq: last, gap };
  };

  return {
    deliver,
    backlog,
    congested,
    startAfter,

    /** The user's newest seq (a new socket without a resume point starts there: live events only). */
    async lastSeq(userId: string): Promise<number> {
      const row: { last_seq: string } | undefined = await db('user_event_seq').where({ user_id: userId }).first('last_seq');
      return row ? Number(row.last_seq) : 0;
    },

    goLive(socket: RealtimeSocket) {
      if (socket.data.graceTimer) clearTimeout(socket.data.graceTimer);
      socket.data.graceTimer = undefined;
      socket.data.live = true;
      void deliver(socket.data.userId);
    },

    /** `resume {sinceSeq}`: the ack, then every event after sinceSeq in order, then live ones. */
    async resume(socket: RealtimeSocket, body: unknown): Promise<ResumeAck> {
      const parsed = resumeSchema.safeParse(body);
      if (!parsed.success) {
        return { ok: false, code: 'validation_failed', errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
      }
      const start = await startAfter(socket.data.userId, parsed.data.sinceSeq);
      socket.data.cursor = start.cursor;
      return { ok: true, lastSeq: start.lastSeq, gap: start.gap };
    },

    /** A signal: the user has committed events up to `seq`. Skips the read when every live socket has them. */
    onSignal(signal: EventsSignal) {
      if (wants(signal.userId, signal.seq)) void deliver(signal.userId);
    },

    /** Reads for every user held here (after the signal connection was re-established). */
    deliverAll() {
      for (const userId of [...sessions.userIds()]) void deliver(userId);
    },

    /**
     * The catch-up that makes a lost signal a delay, not a loss: compares each connected user's
     * `user_event_seq.last_seq` with what their live sockets were written, and reads for those
     * behind. By seq per user, never by the global `events.id` (ids commit out of order).
     */
    async catchUp(): Promise<void> {
      const users = [...sessions.userIds()].filter((u) => !reads.has(u) && wants(u, Number.MAX_SAFE_INTEGER));
      for (let i = 0; i < users.length && !deps.isClosing(); i += CATCH_UP_CHUNK) {
        const rows = await db('user_event_seq')
          .select<{ user_id: string; last_seq: string }[]>('user_id', 'last_seq')
          .whereIn('user_id', users.slice(i, i + CATCH_UP_CHUNK));
        for (const row of rows) if (wants(row.user_id, Number(row.last_seq))) void deliver(row.user_id);
      }
    },
  };
}
