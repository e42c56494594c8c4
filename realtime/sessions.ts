import type { Logger } from 'pino';
import type { SessionEndReason } from '../server/shared/outbox.js';
import type { RevokedSignal } from '../server/shared/realtime-signals.js';
import { UnauthorizedError } from '../server/shared/errors.js';
import type { RealtimeMetrics } from './metrics.js';
import type { VerifyAccessToken } from './tokens.js';
import type { RealtimeSocket } from './types.js';

export interface SessionLimits {
  /** Sockets one login (session) may hold on this instance (docs/api.md: 20). */
  maxSocketsPerLogin: number;
  /** Sockets one user may hold on this instance (docs/api.md: 50). */
  maxSocketsPerUser: number;
}

export type Sessions = ReturnType<typeof createSessions>;

/** How long a revoked session id is remembered: covers a handshake verified just before the revocation. */
const REVOKED_MEMORY_MS = 60_000;

/**
 * The sockets of this instance by user and by login, their limits, and ending them: on
 * revocation (signal or in-process hook), erasure, expiry, slow consumption or rate limiting.
 */
export function createSessions({ metrics, logger, limits }: { metrics: RealtimeMetrics; logger: Logger; limits: SessionLimits }) {
  const byUser = new Map<string, Set<RealtimeSocket>>();
  const bySession = new Map<string, Set<RealtimeSocket>>();
  // Handshakes admitted but not yet connected (Socket.IO connects them on the next tick).
  const pendingByUser = new Map<string, number>();
  const pendingBySession = new Map<string, number>();
  const recentlyRevoked = new Map<string, number>();

  const addTo = <K>(map: Map<K, Set<RealtimeSocket>>, key: K, socket: RealtimeSocket) => {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(socket);
  };
  const removeFrom = <K>(map: Map<K, Set<RealtimeSocket>>, key: K, socket: RealtimeSocket) => {
    const set = map.get(key);
    if (!set) return;
    set.delete(socket);
    if (!set.size) map.delete(key);
  };
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n > 0) map.set(key, n);
    else map.delete(key);
  };
  const held = (sockets: Map<string, Set<RealtimeSocket>>, pending: Map<string, number>, key: string) =>
    (sockets.get(key)?.size ?? 0) + (pending.get(key) ?? 0);

  const end = (socket: RealtimeSocket, reason: SessionEndReason) => {
    if (!socket.connected) return;
    metrics.disconnects.inc({ reason });
    // Queued before the disconnect packet, so the client learns why (except a slow one, which is behind anyway).
    if (reason !== 'slow_consumer') socket.emit('session.ended', { reason });
    socket.disconnect(true);
    // A client that does not read would hold the close behind its unsent buffer: discard it.
    if (reason === 'slow_consumer') socket.conn.close(true);
  };

  const revokeSessionIds = (sessionIds: string[]) => {
    const now = Date.now();
    for (const [sid, until] of recentlyRevoked) if (until < now) recentlyRevoked.delete(sid);
    for (const sid of sessionIds) {
      recentlyRevoked.set(sid, now + REVOKED_MEMORY_MS);
      for (const socket of [...(bySession.get(sid) ?? [])]) end(socket, 'session_revoked');
    }
  };

  return {
    end,

    /**
     * Holds a place for a handshake under the per-login and per-user limits, or returns null when
     * either is full. The place is released by `release` (on connect, or if the handshake dies).
     */
    reserve(userId: string, sessionId: string): (() => void) | null {
      if (held(bySession, pendingBySession, sessionId) >= limits.maxSocketsPerLogin) return null;
      if (held(byUser, pendingByUser, userId) >= limits.maxSocketsPerUser) return null;
      bump(pendingByUser, userId, 1);
      bump(pendingBySession, sessionId, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        bump(pendingByUser, userId, -1);
        bump(pendingBySession, sessionId, -1);
      };
    },

    add(socket: RealtimeSocket) {
      addTo(byUser, socket.data.userId, socket);
      addTo(bySession, socket.data.sessionId, socket);
      metrics.connected.inc();
    },
    remove(socket: RealtimeSocket) {
      removeFrom(byUser, socket.data.userId, socket);
      removeFrom(bySession, socket.data.sessionId, socket);
      metrics.connected.dec();
    },
    /** After `auth` with a token of another login of the same user. */
    moveSession(socket: RealtimeSocket, sessionId: string) {
      removeFrom(bySession, socket.data.sessionId, socket);
      socket.data.sessionId = sessionId;
      addTo(bySession, sessionId, socket);
    },

    userSockets: (userId: string): ReadonlySet<RealtimeSocket> => byUser.get(userId) ?? new Set(),
    userIds: () => byUser.keys(),
    *all(): Generator<RealtimeSocket> {
      for (const set of byUser.values()) yield* [...set];
    },
    isRevoked: (sessionId: string) => (recentlyRevoked.get(sessionId) ?? 0) >= Date.now(),

    /** A revocation signal: those logins' sockets (or, without session ids, all the user's) are ended. */
    revoke(signal: RevokedSignal) {
      if (signal.sessionIds) revokeSessionIds(signal.sessionIds);
      else if (signal.userId) for (const socket of [...(byUser.get(signal.userId) ?? [])]) end(socket, 'session_revoked');
    },

    /**
     * A revocation signal can be lost (it is sent after commit): re-verifies one token per login
     * held here, and ends the login's sockets when the token no longer verifies. A database error
     * ends nothing.
     */
    async recheck(verify: VerifyAccessToken, now: number): Promise<void> {
      for (const [sid, set] of [...bySession]) {
        // A socket whose token expired is the expiry check's (it ends with `token_expired`).
        const socket = [...set].find((s) => s.connected && (s.data.expiresAt === null || s.data.expiresAt > now));
        if (!socket) continue;
        try {
          await verify(socket.data.token);
        } catch (err) {
          if (err instanceof UnauthorizedError) revokeSessionIds([sid]);
          else logger.warn({ err }, 'realtime session check failed');
        }
      }
    },
  };
}
