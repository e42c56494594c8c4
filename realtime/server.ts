import type { Knex } from 'knex';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { UserHooks } from '../server/context.js';
import type { Clock } from '../server/shared/clock.js';
import type { Db } from '../server/shared/db.js';
import type { HttpServer } from '../server/shared/server.js';
import { EVENTS_CHANNEL, type OutboxEvent } from '../server/shared/outbox.js';
import { createListener, type Listener } from './listener.js';
import { createRealtimeMetrics } from './metrics.js';
import { DEFAULT_RETENTION_MS, pruneEvents } from './prune.js';
import { handshakeToken, tokenExpiry, type VerifyAccessToken } from './tokens.js';

/** PostgreSQL channel the auth feature NOTIFYs (inside the revoking transaction) with `{userId, sessionIds}`. */
export const SESSIONS_REVOKED_CHANNEL = 'numina_sessions_revoked';

export interface RealtimeOptions {
  /** Events younger than this are kept for `resume` (at least 7 days, API.md). */
  retentionMs?: number;
  /** How often this instance deletes events older than the retention. */
  pruneIntervalMs?: number;
  pruneBatchSize?: number;
  /** How often sockets are checked for token expiry (app clock) and for being slow consumers. */
  checkIntervalMs?: number;
  /**
   * A new socket gets live events only after its `resume` (or after this long without one), so
   * that a resuming client sees its missed events before any live one: no gap, no duplicate.
   */
  resumeGraceMs?: number;
  /** Events are held back from a socket with this many packets, or bytes, waiting to be written. */
  maxBufferedPackets?: number;
  maxBufferedBytes?: number;
  /** A socket held back this long (it does not read) is disconnected; it may reconnect and resume. */
  slowConsumerTimeoutMs?: number;
  /** Rows read from `events` per query when catching a user up. */
  fetchBatchSize?: number;
  /** Delay before reconnecting the LISTEN connection, and before retrying a failed read. */
  retryMs?: number;
}

/** The narrow pieces of the app realtime needs, handed over by the composition root. */
export interface RealtimeComponents {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The database realtime LISTENs on (the embedded one when DATABASE_URL is unset). */
  databaseUrl: string;
  corsOrigins: string[];
  /** realtime adds `sessionsRevoked` and `userErased` hooks to disconnect sockets. */
  hooks: UserHooks;
  verifyAccessToken: VerifyAccessToken;
  metricsRegistry: Registry;
}

export interface Realtime {
  io: Server;
  /** Sockets connected to this instance. */
  socketCount(): number;
  close(): Promise<void>;
}

/** Why the server ended a socket; sent as `session.ended {reason}` just before the disconnect. */
type EndReason = 'session_revoked' | 'token_expired' | 'slow_consumer';

interface SocketState {
  userId: string;
  sessionId: string;
  token: string;
  /** ms since epoch; null when the token has no `exp` (then it is re-verified periodically). */
  expiresAt: number | null;
  /** Highest seq written to this socket, or the point it starts after. Only seq > cursor is sent. */
  cursor: number;
  /** False until `resume` or the grace period: the socket receives nothing before. */
  live: boolean;
  graceTimer?: NodeJS.Timeout;
  /** Real time (ms) since which events were held back because the socket's buffer was full. */
  behindSince: number | null;
}

interface UserStream {
  sockets: Set<Socket>;
  reading: boolean;
  again: boolean;
}

const resumeSchema = z.object({ sinceSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
const authSchema = z.object({ token: z.string().min(1).max(4096) });

type Ack = (body: unknown) => void;
const ackOf = (args: unknown[]): Ack | undefined => {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as Ack) : undefined;
};

/**
 * Socket.IO on the API's HTTP(S) server.
 *
 * Invariants:
 * - a socket is admitted only with a valid access token, joins `user:<id>` and nothing else, and
 *   is only ever written its own user's events;
 * - events come from the `events` table, read after a NOTIFY that PostgreSQL delivers only at
 *   commit, so a rolled-back change is never sent; every instance LISTENs, so whichever instance
 *   made the change, the instance holding the socket delivers it;
 * - per socket, events are written in seq order and only seq > cursor: no duplicate, and (seqs
 *   being gap-free among committed events, committed in order) no gap.
 */
export async function createRealtime(server: HttpServer, components: RealtimeComponents, options: RealtimeOptions = {}): Promise<Realtime> {
  const { db, clock, hooks, verifyAccessToken: verify } = components;
  const logger = components.logger.child({ component: 'realtime' });
  const opts = {
    retentionMs: DEFAULT_RETENTION_MS,
    pruneIntervalMs: 60 * 60 * 1000,
    pruneBatchSize: 5000,
    checkIntervalMs: 1000,
    resumeGraceMs: 1000,
    maxBufferedPackets: 1000,
    maxBufferedBytes: 4 * 1024 * 1024,
    slowConsumerTimeoutMs: 30_000,
    fetchBatchSize: 500,
    retryMs: 1000,
    ...options,
  };
  const metrics = createRealtimeMetrics(components.metricsRegistry);

  const io = new Server(server, {
    serveClient: false,
    // Clients only send `resume` and `auth`: nothing big may come in.
    maxHttpBufferSize: 16 * 1024,
    cors: { origin: components.corsOrigins.length ? components.corsOrigins : false },
  });

  const users = new Map<string, UserStream>();
  const sessions = new Map<string, Set<Socket>>();
  /** Sessions revoked in the last minute: closes the window between verifying a token and registering its socket. */
  const recentlyRevoked = new Map<string, number>();
  const state = (s: Socket) => s.data as SocketState;
  let closing = false;

  const unauthorized = () => Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized' } });

  const lastSeq = async (userId: string): Promise<number> => {
    const row = await db('user_event_seq').where({ user_id: userId }).first('last_seq');
    return row ? Number(row.last_seq) : 0;
  };

  const addSession = (sessionId: string, socket: Socket) => {
    let set = sessions.get(sessionId);
    if (!set) sessions.set(sessionId, (set = new Set()));
    set.add(socket);
  };
  const removeSession = (sessionId: string, socket: Socket) => {
    const set = sessions.get(sessionId);
    if (!set) return;
    set.delete(socket);
    if (!set.size) sessions.delete(sessionId);
  };

  const end = (socket: Socket, reason: EndReason) => {
    if (!socket.connected) return;
    metrics.disconnects.inc({ reason });
    // Queued before the disconnect packet, so the client learns why (except a slow one, which is behind anyway).
    if (reason !== 'slow_consumer') socket.emit('session.ended', { reason });
    socket.disconnect(true);
    // A client that does not read would hold the close behind its unsent buffer: discard it.
    if (reason === 'slow_consumer') socket.conn.close(true);
  };

  /** Packets and bytes a socket has waiting: engine.io's write buffer grows while the transport is not writable. */
  const backlog = (socket: Socket): { packets: number; bytes: number } => {
    const buf = (socket.conn as unknown as { writeBuffer?: { data?: unknown }[] }).writeBuffer ?? [];
    let bytes = 0;
    for (const p of buf) if (typeof p.data === 'string') bytes += p.data.length;
    return { packets: buf.length, bytes };
  };
  const congested = (b: { packets: number; bytes: number }) => b.packets >= opts.maxBufferedPackets || b.bytes >= opts.maxBufferedBytes;

  /**
   * Catches every live socket of a user up to the newest committed event. One read at a time per
   * user; a notification arriving meanwhile makes it read again.
   *
   * Back-pressure: the database is the buffer. A socket with a full write buffer is skipped (its
   * cursor stays) and caught up when its buffer drains; one that stays full for
   * `slowConsumerTimeoutMs` is disconnected. So a socket holds at most about
   * maxBufferedPackets (or maxBufferedBytes) of events in memory, and never slows the others.
   */
  const deliver = async (userId: string): Promise<void> => {
    const stream = users.get(userId);
    if (!stream) return;
    if (stream.reading) {
      stream.again = true;
      return;
    }
    stream.reading = true;
    try {
      do {
        stream.again = false;
        const budget = new Map<Socket, { packets: number; bytes: number }>();
        for (const s of stream.sockets) {
          if (!s.connected || !state(s).live) continue;
          const b = backlog(s);
          if (congested(b)) state(s).behindSince ??= Date.now();
          else budget.set(s, b);
        }
        if (!budget.size) break;
        // A socket whose cursor is below `from` is not written this round, so it can never skip a seq.
        const from = Math.min(...[...budget.keys()].map((s) => state(s).cursor));
        const rows: { seq: string; type: OutboxEvent['type']; data: unknown; at: Date }[] = await db('events')
          .select('seq', 'type', 'data', 'at')
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
            const st = state(socket);
            if (!socket.connected || st.cursor < from || event.seq <= st.cursor) continue;
            size ??= JSON.stringify(event).length;
            if (congested(b)) {
              // Full: stop writing to it this round (later events would leave a gap); the drain resumes it.
              st.behindSince ??= Date.now();
              budget.delete(socket);
              continue;
            }
            socket.emit(event.type, event);
            b.packets += 1;
            b.bytes += size;
            st.cursor = event.seq;
            st.behindSince = null;
            metrics.delivered.inc({ type: event.type });
            metrics.lag.observe(Math.max(0, now - row.at.getTime()) / 1000);
          }
        }
        if (rows.length === opts.fetchBatchSize) stream.again = true;
        // Sockets that went live or resumed meanwhile, below this round's start, need another round.
        for (const s of stream.sockets) {
          const st = state(s);
          if (s.connected && st.live && st.cursor < from && !congested(backlog(s))) stream.again = true;
        }
      } while (stream.again && !closing);
    } catch (err) {
      if (closing) return;
      logger.error({ err, userId }, 'realtime read failed; retrying');
      setTimeout(() => void deliver(userId), opts.retryMs).unref();
    } finally {
      stream.reading = false;
      if (!stream.sockets.size && users.get(userId) === stream) users.delete(userId);
    }
  };

  const goLive = (socket: Socket) => {
    const st = state(socket);
    if (st.graceTimer) clearTimeout(st.graceTimer);
    st.graceTimer = undefined;
    st.live = true;
    void deliver(st.userId);
  };

  const onEventsNotification = (payload: string) => {
    let msg: { userId?: unknown; seq?: unknown };
    try {
      msg = JSON.parse(payload);
    } catch {
      return;
    }
    if (typeof msg.userId !== 'string') return;
    const stream = users.get(msg.userId);
    if (!stream) return;
    // Already written to every live socket (several events of one transaction, one read): skip the query.
    const seq = typeof msg.seq === 'number' ? msg.seq : Infinity;
    if ([...stream.sockets].every((s) => !state(s).live || state(s).cursor >= seq)) return;
    void deliver(msg.userId);
  };

  const revokeSessions = (sessionIds: string[]) => {
    const now = Date.now();
    for (const [sid, until] of recentlyRevoked) if (until < now) recentlyRevoked.delete(sid);
    for (const sid of sessionIds) {
      recentlyRevoked.set(sid, now + 60_000);
      for (const socket of [...(sessions.get(sid) ?? [])]) end(socket, 'session_revoked');
    }
  };

  const onRevokedNotification = (payload: string) => {
    let msg: { userId?: unknown; sessionIds?: unknown };
    try {
      msg = JSON.parse(payload);
    } catch {
      return;
    }
    if (Array.isArray(msg.sessionIds)) {
      revokeSessions(msg.sessionIds.filter((s): s is string => typeof s === 'string'));
    } else if (typeof msg.userId === 'string') {
      // No session list: every login of the user is gone (e.g. the user was disabled).
      for (const socket of [...(users.get(msg.userId)?.sockets ?? [])]) end(socket, 'session_revoked');
    }
  };

  // Connect-time authentication: the handshake is refused (`connect_error` "unauthorized") unless
  // the access token verifies; the starting cursor is read before the socket can receive anything.
  io.use(async (socket, next) => {
    const token = handshakeToken(socket.handshake.auth, socket.handshake.headers.authorization);
    if (closing) return next(Object.assign(new Error('unavailable'), { data: { code: 'unavailable' } }));
    if (!token) return next(unauthorized());
    let user;
    try {
      user = await verify(token);
    } catch {
      return next(unauthorized());
    }
    try {
      const st: SocketState = {
        userId: user.id,
        sessionId: user.sessionId,
        token,
        expiresAt: tokenExpiry(token),
        cursor: await lastSeq(user.id),
        live: false,
        behindSince: null,
      };
      const since = (socket.handshake.auth as { sinceSeq?: unknown } | undefined)?.sinceSeq;
      if (typeof since === 'number' && Number.isSafeInteger(since) && since >= 0) {
        st.cursor = Math.min(since, st.cursor);
        st.live = true;
      }
      socket.data = st;
      next();
    } catch (err) {
      logger.error({ err }, 'realtime handshake failed');
      next(Object.assign(new Error('unavailable'), { data: { code: 'unavailable' } }));
    }
  });

  io.on('connection', (socket) => {
    const st = state(socket);
    if (recentlyRevoked.has(st.sessionId) || closing) {
      socket.disconnect(true);
      return;
    }
    let stream = users.get(st.userId);
    if (!stream) users.set(st.userId, (stream = { sockets: new Set(), reading: false, again: false }));
    stream.sockets.add(socket);
    addSession(st.sessionId, socket);
    metrics.connected.inc();
    void socket.join(`user:${st.userId}`);
    if (st.live) void deliver(st.userId);
    else {
      st.graceTimer = setTimeout(() => goLive(socket), opts.resumeGraceMs);
      st.graceTimer.unref();
    }

    // The engine flushed its buffer: a socket that was held back can take more.
    socket.conn.on('drain', () => {
      if (st.behindSince !== null && !congested(backlog(socket))) void deliver(st.userId);
    });

    socket.on('resume', async (...args: unknown[]) => {
      const ack = ackOf(args);
      const parsed = resumeSchema.safeParse(args[0]);
      if (!parsed.success) {
        ack?.({ ok: false, code: 'validation_failed', errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
        return;
      }
      try {
        const since = parsed.data.sinceSeq;
        const { rows } = await db.raw(
          `SELECT (SELECT last_seq FROM user_event_seq WHERE user_id = ?) AS last,
                  (SELECT min(seq) FROM events WHERE user_id = ? AND seq > ?) AS first`,
          [st.userId, st.userId, since],
        );
        const last = rows[0].last === null ? 0 : Number(rows[0].last);
        const first = rows[0].first === null ? null : Number(rows[0].first);
        st.cursor = Math.min(since, last);
        // Events after sinceSeq that are no longer kept: the client should reload its state over HTTP.
        const gap = last > st.cursor && (first === null || first > st.cursor + 1);
        ack?.({ ok: true, lastSeq: last, gap });
        goLive(socket);
      } catch (err) {
        logger.error({ err }, 'realtime resume failed');
        ack?.({ ok: false, code: 'unavailable' });
      }
    });

    // A fresh access token extends the socket past its current token's expiry.
    socket.on('auth', async (...args: unknown[]) => {
      const ack = ackOf(args);
      const parsed = authSchema.safeParse(args[0]);
      if (!parsed.success) return ack?.({ ok: false, code: 'validation_failed' });
      try {
        const user = await verify(parsed.data.token);
        if (user.id !== st.userId) throw new Error('token of another user');
        if (!socket.connected) return;
        removeSession(st.sessionId, socket);
        st.sessionId = user.sessionId;
        st.token = parsed.data.token;
        st.expiresAt = tokenExpiry(parsed.data.token);
        addSession(st.sessionId, socket);
        ack?.({ ok: true });
      } catch {
        ack?.({ ok: false, code: 'unauthorized' });
      }
    });

    socket.on('disconnect', () => {
      if (st.graceTimer) clearTimeout(st.graceTimer);
      metrics.connected.dec();
      removeSession(st.sessionId, socket);
      const s = users.get(st.userId);
      s?.sockets.delete(socket);
      if (s && !s.sockets.size && !s.reading) users.delete(st.userId);
    });
  });

  // Token expiry is checked against the app clock; a token without `exp` is re-verified instead.
  // Slow consumers are measured in real time (the app clock may be moved by tests).
  const authTimer = setInterval(() => {
    const now = clock.now().getTime();
    const realNow = Date.now();
    for (const stream of users.values()) {
      for (const socket of [...stream.sockets]) {
        const st = state(socket);
        if (st.behindSince !== null && realNow - st.behindSince >= opts.slowConsumerTimeoutMs) {
          logger.warn({ userId: st.userId, socketId: socket.id, ...backlog(socket) }, 'dropping slow realtime client');
          end(socket, 'slow_consumer');
          continue;
        }
        if (st.expiresAt !== null) {
          if (now >= st.expiresAt) end(socket, 'token_expired');
        } else {
          verify(st.token).catch(() => end(socket, 'token_expired'));
        }
      }
    }
  }, opts.checkIntervalMs);
  authTimer.unref();

  let pruning = false;
  const pruneTimer = setInterval(() => {
    if (pruning) return;
    pruning = true;
    pruneEvents({ db, clock, retentionMs: opts.retentionMs, batchSize: opts.pruneBatchSize })
      .then((n) => n && logger.info({ deleted: n }, 'pruned old events'))
      .catch((err) => logger.error({ err }, 'event prune failed'))
      .finally(() => (pruning = false));
  }, opts.pruneIntervalMs);
  pruneTimer.unref();

  // Revocations on this instance are also signalled in-process (after commit) through the hook.
  const hook = (sessionIds: string[]) => revokeSessions(sessionIds);
  hooks.sessionsRevoked.push(hook);
  // An erased user's sessions go with the row (cascade): announce it in the erasing transaction,
  // so every instance drops that user's sockets at commit.
  const erased = async (trx: Knex.Transaction, userId: string) => {
    await trx.raw('SELECT pg_notify(?, ?)', [SESSIONS_REVOKED_CHANNEL, JSON.stringify({ userId })]);
  };
  hooks.userErased.push(erased);

  let listener: Listener;
  const stopTimers = () => {
    clearInterval(authTimer);
    clearInterval(pruneTimer);
    const i = hooks.sessionsRevoked.indexOf(hook);
    if (i >= 0) hooks.sessionsRevoked.splice(i, 1);
    const j = hooks.userErased.indexOf(erased);
    if (j >= 0) hooks.userErased.splice(j, 1);
  };
  try {
    listener = createListener({
      connectionString: components.databaseUrl,
      channels: [EVENTS_CHANNEL, SESSIONS_REVOKED_CHANNEL],
      logger,
      retryMs: opts.retryMs,
      onNotification: (channel, payload) => {
        if (channel === EVENTS_CHANNEL) onEventsNotification(payload);
        else if (channel === SESSIONS_REVOKED_CHANNEL) onRevokedNotification(payload);
      },
      // After a reconnect, notifications sent meanwhile are lost: re-read for every local user.
      onListening: () => {
        for (const userId of users.keys()) void deliver(userId);
      },
    });
    await listener.ready;
  } catch (err) {
    stopTimers();
    io.engine.close();
    throw err;
  }

  return {
    io,
    socketCount: () => io.of('/').sockets.size,
    async close() {
      if (closing) return;
      closing = true;
      stopTimers();
      // Transport close, not a Socket.IO disconnect: clients then reconnect (to another instance
      // or after the restart) and resume. Not io.close(): the HTTP server belongs to the runtime.
      metrics.disconnects.inc({ reason: 'shutdown' }, io.of('/').sockets.size);
      io.engine.close();
      await listener.close();
    },
  };
}
