import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { UserHooks } from '../server/context.js';
import type { Clock } from '../server/shared/clock.js';
import type { Db } from '../server/shared/db.js';
import type { ResumeAck } from '../server/shared/outbox.js';
import { createFailureCounter } from '../server/shared/rate-limit.js';
import { EVENTS_CHANNEL, parseEventsSignal, parseRevokedSignal, type Signals } from '../server/shared/realtime-signals.js';
import type { HttpServer } from '../server/shared/server.js';
import { createDelivery } from './delivery.js';
import { checkExpiry, handshakeMiddleware, reauthenticate } from './handshake.js';
import { DEFAULT_EVENT_LIMITS, overLimit, type SocketEventLimits } from './limits.js';
import { createRealtimeMetrics } from './metrics.js';
import { DEFAULT_RETENTION_MS, pruneEvents } from './prune.js';
import { createSessions } from './sessions.js';
import { subscribeSignals, type SignalSubscriber } from './signal-subscriber.js';
import type { VerifyAccessToken } from './tokens.js';
import { ackOf, type RealtimeServer, type RealtimeSocket } from './types.js';

export interface RealtimeOptions {
  /** Events younger than this are kept for `resume` (at least 7 days, docs/api.md). */
  retentionMs?: number;
  /** How often this instance deletes events older than the retention. */
  pruneIntervalMs?: number;
  pruneBatchSize?: number;
  /** How often sockets are checked for token expiry (app clock) and for being slow consumers. */
  checkIntervalMs?: number;
  /** How often each connected user's newest seq is compared with what was delivered (lost signals). */
  catchUpIntervalMs?: number;
  /** How often each login held here is re-verified (a lost revocation signal). */
  sessionCheckIntervalMs?: number;
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
  /** docs/api.md: 20 sockets per login, 50 per user (per instance). */
  maxSocketsPerLogin?: number;
  maxSocketsPerUser?: number;
  /** docs/api.md: `resume`/`auth` 5 per 10 s per socket. */
  eventLimits?: SocketEventLimits;
}

/** The narrow pieces of the app realtime needs, handed over by the composition root. */
export interface RealtimeComponents {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The database realtime LISTENs on (the embedded one when DATABASE_URL is unset). */
  databaseUrl: string;
  /** Set: signals travel over Redis pub/sub, and the handshake limit is counted there. */
  redis?: Redis;
  /** The writers' signals (realtime sends the erased users' revocations through them). */
  signals: Signals;
  corsOrigins: string[];
  /** realtime adds `sessionsRevoked` and `userErased` hooks to disconnect sockets. */
  hooks: UserHooks;
  verifyAccessToken: VerifyAccessToken;
  metricsRegistry: Registry;
  /** The client address of a handshake, as the HTTP API sees it (trust proxy applied). */
  clientAddress(req: IncomingMessage): string;
  /** docs/api.md: 60 per minute per client address, shared by all instances. */
  handshakesPerMinute: number;
}

export interface Realtime {
  io: RealtimeServer;
  /** Sockets connected to this instance. */
  socketCount(): number;
  close(): Promise<void>;
}

/**
 * Socket.IO on the API's HTTP(S) server, composed of three parts:
 * - handshake.ts: admission (address limit, access token, socket limits), `auth`, token expiry;
 * - delivery.ts: events from the `events` table per socket by seq: resume, back-pressure, catch-up;
 * - sessions.ts: the sockets by user and login, and ending them (revocation, erasure, limits).
 *
 * A socket is admitted only with a valid access token and is only ever written its own user's
 * events. Events are read from the database after a signal that writers send once they have
 * committed (so a rolled-back change is never sent), and on a short catch-up timer per connected
 * user (so a lost signal delays an event but never loses it).
 */
export async function createRealtime(server: HttpServer, components: RealtimeComponents, options: RealtimeOptions = {}): Promise<Realtime> {
  const { db, clock, hooks, verifyAccessToken: verify, signals } = components;
  const logger = components.logger.child({ component: 'realtime' });
  const opts = {
    retentionMs: DEFAULT_RETENTION_MS,
    pruneIntervalMs: 60 * 60 * 1000,
    pruneBatchSize: 5000,
    checkIntervalMs: 1000,
    catchUpIntervalMs: 1000,
    sessionCheckIntervalMs: 30_000,
    resumeGraceMs: 1000,
    maxBufferedPackets: 1000,
    maxBufferedBytes: 4 * 1024 * 1024,
    slowConsumerTimeoutMs: 30_000,
    fetchBatchSize: 500,
    retryMs: 1000,
    maxSocketsPerLogin: 20,
    maxSocketsPerUser: 50,
    eventLimits: DEFAULT_EVENT_LIMITS,
    ...options,
  };
  const metrics = createRealtimeMetrics(components.metricsRegistry);
  let closing = false;
  const isClosing = () => closing;

  const io: RealtimeServer = new Server(server, {
    serveClient: false,
    // Clients only send `resume` and `auth`: nothing big may come in.
    maxHttpBufferSize: 16 * 1024,
    cors: { origin: components.corsOrigins.length ? components.corsOrigins : false },
  });

  const sessions = createSessions({ metrics, logger, limits: opts });
  const delivery = createDelivery({ db, clock, logger, metrics, sessions, options: opts, isClosing });
  const handshakes = createFailureCounter({ db, redis: components.redis }, { prefix: 'ws-handshake', windowMs: 60_000 });
  const handshake = handshakeMiddleware({
    verify,
    sessions,
    delivery,
    handshakes,
    handshakesPerMinute: components.handshakesPerMinute,
    clientAddress: (req) => components.clientAddress(req),
    logger,
    isClosing,
  });
  io.use((socket: RealtimeSocket, next: (err?: Error) => void) => {
    void (async () => {
      try {
        await handshake(socket, next);
      } catch (err) {
        logger.error({ err }, 'realtime handshake failed');
      }
    })();
  });

  io.on('connection', (socket: RealtimeSocket) => {
    const st = socket.data;
    st.releasePlace?.();
    st.releasePlace = undefined;
    if (sessions.isRevoked(st.sessionId) || closing) {
      socket.disconnect(true);
      return;
    }
    sessions.add(socket);
    socket.on('disconnect', () => {
      if (st.graceTimer) clearTimeout(st.graceTimer);
      sessions.remove(socket);
    });
    if (st.live) void delivery.deliver(st.userId);
    else {
      st.graceTimer = setTimeout(() => delivery.goLive(socket), opts.resumeGraceMs);
      st.graceTimer.unref();
    }

    // The engine flushed its buffer: a socket that was held back can take more.
    socket.conn.on('drain', () => {
      if (st.behindSince !== null && !delivery.congested(delivery.backlog(socket))) void delivery.deliver(st.userId);
    });

    // Every event a client sends is counted; beyond the limits the socket is ended (`rate_limited`),
    // so a flood costs a bounded amount of work and memory.
    const limits = opts.eventLimits;
    socket.use(([name], next) => {
      const now = Date.now();
      const control = name === 'resume' || name === 'auth';
      if (overLimit(st.packetHits, limits.anyEvents, limits.windowMs, now) || (control && overLimit(st.controlHits, limits.controlEvents, limits.windowMs, now))) {
        sessions.end(socket, 'rate_limited');
        return;
      }
      if (!control) return; // nothing else is served
      if (name === 'resume') {
        // Flagged here, not in the handler: several packets of one read pass this check before any handler runs.
        if (st.resumeInFlight) {
          sessions.end(socket, 'rate_limited');
          return;
        }
        st.resumeInFlight = true;
      }
      next();
    });

    socket.on('resume', async (...args: unknown[]) => {
      const ack = ackOf<ResumeAck>(args);
      try {
        const answer = await delivery.resume(socket, args[0]);
        ack?.(answer);
        if (answer.ok) delivery.goLive(socket);
      } catch (err) {
        logger.error({ err }, 'realtime resume failed');
        ack?.({ ok: false, code: 'unavailable' });
      } finally {
        st.resumeInFlight = false;
      }
    });

    socket.on('auth', async (...args: unknown[]) => {
      const answer = await reauthenticate(socket, args[0], { verify, sessions });
      if (answer) ackOf<typeof answer>(args)?.(answer);
    });
  });

  // Token expiry (app clock) and slow consumers (real time: tests move the app clock).
  const checkTimer = setInterval(() => {
    const now = clock.now().getTime();
    const realNow = Date.now();
    for (const socket of sessions.all()) {
      const st = socket.data;
      if (st.behindSince !== null && realNow - st.behindSince >= opts.slowConsumerTimeoutMs) {
        logger.warn({ userId: st.userId, socketId: socket.id, ...delivery.backlog(socket) }, 'dropping slow realtime client');
        sessions.end(socket, 'slow_consumer');
        continue;
      }
      checkExpiry(socket, now, { verify, sessions });
    }
  }, opts.checkIntervalMs);
  checkTimer.unref();

  /** Runs `task` every `ms`, never two at once, logging a failure. */
  const every = (ms: number, name: string, task: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running || closing) return;
      running = true;
      task()
        .catch((err) => logger.error({ err }, `${name} failed`))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    return timer;
  };
  const timers = [
    checkTimer,
    every(opts.catchUpIntervalMs, 'realtime catch-up', () => delivery.catchUp()),
    every(opts.sessionCheckIntervalMs, 'realtime session check', () => sessions.recheck(verify, clock.now().getTime())),
    every(opts.pruneIntervalMs, 'event prune', async () => {
      const n = await pruneEvents({ db, clock, retentionMs: opts.retentionMs, batchSize: opts.pruneBatchSize });
      if (n) logger.info({ deleted: n }, 'pruned old events');
    }),
  ];

  // Revocations on this instance: disconnect here at once, and tell the other instances (after commit).
  const revokedHere = (sessionIds: string[]) => {
    sessions.revoke({ sessionIds });
    signals.sessionsRevoked({ sessionIds });
  };
  hooks.sessionsRevoked.push(revokedHere);
  // An erased user's sessions go with the row (cascade): every instance drops that user's sockets once it commits.
  const erased = (trx: Knex.Transaction, userId: string): Promise<void> => {
    signals.sessionsRevokedAfterCommit(trx, { userId });
    return Promise.resolve();
  };
  hooks.userErased.push(erased);

  const stopTimers = () => {
    for (const t of timers) clearInterval(t);
    const i = hooks.sessionsRevoked.indexOf(revokedHere);
    if (i >= 0) hooks.sessionsRevoked.splice(i, 1);
    const j = hooks.userErased.indexOf(erased);
    if (j >= 0) hooks.userErased.splice(j, 1);
  };
  let subscriber: SignalSubscriber;
  try {
    subscriber = await subscribeSignals({
      databaseUrl: components.databaseUrl,
      redis: components.redis,
      logger,
      retryMs: opts.retryMs,
      onSignal: (channel, payload) => {
        if (channel === EVENTS_CHANNEL) {
          const signal = parseEventsSignal(payload);
          if (signal) delivery.onSignal(signal);
        } else {
          const signal = parseRevokedSignal(payload);
          if (signal) sessions.revoke(signal);
        }
      },
      onSubscribed: () => delivery.deliverAll(),
    });
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
      await subscriber.close();
    },
  };
}
