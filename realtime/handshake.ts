import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { AuthAck } from '../server/shared/outbox.js';
import type { FailureCounter } from '../server/shared/rate-limit.js';
import type { Delivery } from './delivery.js';
import type { Sessions } from './sessions.js';
import { handshakeToken, tokenExpiry, type VerifyAccessToken } from './tokens.js';
import type { RealtimeSocket } from './types.js';

/** A refused handshake: the client's `connect_error` has this message and `data.code`. */
const refusal = (code: 'unauthorized' | 'unavailable' | 'rate_limited' | 'too_many_connections') => Object.assign(new Error(code), { data: { code } });

const authSchema = z.object({ token: z.string().min(1).max(4096) });

export interface HandshakeDeps {
  verify: VerifyAccessToken;
  sessions: Sessions;
  delivery: Delivery;
  /** Handshakes per client address and minute, counted across instances. */
  handshakes: Pick<FailureCounter, 'increment'>;
  handshakesPerMinute: number;
  clientAddress(req: IncomingMessage): string;
  logger: Logger;
  isClosing(): boolean;
}

/**
 * Connect-time admission, in order: the per-address handshake limit (before any token work),
 * the access token, the per-login and per-user socket limits, then the starting cursor, read
 * before the socket can receive anything. On success the socket holds a place under the limits
 * until it connects (`onConnect` keeps it) or its transport closes first.
 */
export function handshakeMiddleware(deps: HandshakeDeps) {
  const { verify, sessions, delivery, logger } = deps;
  return async (socket: RealtimeSocket, next: (err?: Error) => void) => {
    if (deps.isClosing()) return next(refusal('unavailable'));
    try {
      if ((await deps.handshakes.increment(deps.clientAddress(socket.request))).hits > deps.handshakesPerMinute) return next(refusal('rate_limited'));
    } catch (err) {
      logger.error({ err }, 'realtime handshake limit unavailable');
      return next(refusal('unavailable'));
    }
    const token = handshakeToken(socket.handshake.auth, socket.handshake.headers.authorization);
    if (!token) return next(refusal('unauthorized'));
    let user;
    try {
      user = await verify(token);
    } catch {
      return next(refusal('unauthorized'));
    }
    const release = sessions.reserve(user.id, user.sessionId);
    if (!release) return next(refusal('too_many_connections'));
    socket.conn.once('close', release);
    try {
      const since = (socket.handshake.auth as { sinceSeq?: unknown } | undefined)?.sinceSeq;
      const resumed = typeof since === 'number' && Number.isSafeInteger(since) && since >= 0;
      socket.data = {
        userId: user.id,
        sessionId: user.sessionId,
        token,
        expiresAt: tokenExpiry(token),
        // `auth.sinceSeq` is an immediate `resume`; without it the socket starts at the newest event.
        cursor: resumed ? (await delivery.startAfter(user.id, since)).cursor : await delivery.lastSeq(user.id),
        live: resumed,
        behindSince: null,
        controlHits: [],
        packetHits: [],
        resumeInFlight: false,
        releasePlace: release,
      };
      next();
    } catch (err) {
      release();
      logger.error({ err }, 'realtime handshake failed');
      next(refusal('unavailable'));
    }
  };
}

/** `auth {token}`: a fresh access token of the same user extends the socket past its current token's expiry. */
export async function reauthenticate(socket: RealtimeSocket, body: unknown, deps: Pick<HandshakeDeps, 'verify' | 'sessions'>): Promise<AuthAck | null> {
  const parsed = authSchema.safeParse(body);
  if (!parsed.success) return { ok: false, code: 'validation_failed' };
  try {
    const user = await deps.verify(parsed.data.token);
    if (user.id !== socket.data.userId) return { ok: false, code: 'unauthorized' };
    if (!socket.connected) return null;
    deps.sessions.moveSession(socket, user.sessionId);
    socket.data.token = parsed.data.token;
    socket.data.expiresAt = tokenExpiry(parsed.data.token);
    return { ok: true };
  } catch {
    return { ok: false, code: 'unauthorized' };
  }
}

/**
 * Token expiry against the app clock: a socket whose token expired is ended (`token_expired`);
 * a token without `exp` is re-verified instead.
 */
export function checkExpiry(socket: RealtimeSocket, now: number, deps: Pick<HandshakeDeps, 'verify' | 'sessions'>): void {
  const st = socket.data;
  if (st.expiresAt !== null) {
    if (now >= st.expiresAt) deps.sessions.end(socket, 'token_expired');
  } else {
    deps.verify(st.token).catch(() => deps.sessions.end(socket, 'token_expired'));
  }
}
