import { io, type Socket } from 'socket.io-client';
import type { Session } from './api.js';

/** The realtime protocol (docs/api.md, Realtime): every event is `{seq, type, at, data}`, seq per user. */
export interface LiveEvent<D = Record<string, unknown>> {
  seq: number;
  type: string;
  at: string;
  data: D;
}

export const EVENT_TYPES = ['balance.updated', 'transaction.created', 'transaction.updated', 'transaction.deleted', 'budget.alert', 'goal.progress'] as const;

type ResumeAck = { ok: true; lastSeq: number; gap: boolean } | { ok: false; code: string };
type AuthAck = { ok: true } | { ok: false; code: string };

export type ConnectionState = 'live' | 'reconnecting' | 'offline';

export interface LiveHandlers {
  /** Each event once, in seq order (a replay after resume included). */
  onEvent(event: LiveEvent): void;
  /** The events since the last one seen are gone (pruned, or no resume point): reload over HTTP. */
  onReload(): void;
  onState(state: ConnectionState): void;
  /** The login was revoked (logout elsewhere, password change): sign out here. */
  onRevoked(): void;
  /** The open socket accepted a refreshed token (`auth` acknowledged): it outlives the old one. */
  onRenewed(): void;
}

export interface Live {
  close(): void;
}

const seqKey = (userId: string) => `numina.lastSeq.${userId}`;

/** Forgets the resume point (at logout: the next sign-in loads everything over HTTP). */
export function forgetResumePoint(userId: string): void {
  localStorage.removeItem(seqKey(userId));
}

/**
 * One Socket.IO connection for the signed-in user. The token is read on every (re)connect; a
 * refreshed token re-authenticates the open socket (`auth {token}`) so it outlives the old one's
 * expiry. After every connect it emits `resume {sinceSeq}` with the last seq kept in localStorage
 * (without one, the socket starts at the newest event and the panels reload over HTTP). Events at
 * or below the last seen seq are dropped, so a replay never applies twice.
 */
export function connectLive(session: Session, userId: string, handlers: LiveHandlers): Live {
  const stored = localStorage.getItem(seqKey(userId));
  let lastSeq: number | undefined = stored !== null && /^\d+$/.test(stored) ? Number(stored) : undefined;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let attempts = 0;

  const socket: Socket = io({
    auth: (cb) => cb({ token: session.accessToken() }),
    // Reconnection after a network loss is Socket.IO's own (with backoff); a server-side end is ours below.
    reconnectionDelayMax: 10_000,
  });

  const setState = (s: ConnectionState) => handlers.onState(s);

  const accept = (event: LiveEvent) => {
    if (typeof event?.seq !== 'number') return;
    if (lastSeq !== undefined && event.seq <= lastSeq) return;
    lastSeq = event.seq;
    localStorage.setItem(seqKey(userId), String(event.seq));
    handlers.onEvent(event);
  };
  for (const type of EVENT_TYPES) socket.on(type, accept);

  /**
   * Reconnects by hand (after the server ended the socket, or refused the handshake), with backoff;
   * with a fresh token first when the old one was the reason (expired, or refused as unauthorized).
   */
  const reconnect = (refreshFirst: boolean) => {
    if (closed || retryTimer) return;
    setState('reconnecting');
    const delay = attempts === 0 ? 0 : Math.min(10_000, 500 * 2 ** Math.min(attempts, 5));
    attempts++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      (refreshFirst ? session.refresh() : Promise.resolve(''))
        .then(() => !closed && socket.connect())
        .catch(() => {
          // A refused refresh ends the session (the page signs out); a network error retries.
          if (session.accessToken()) reconnect(refreshFirst);
        });
    }, delay);
  };

  socket.on('connect', () => {
    attempts = 0;
    if (lastSeq === undefined) {
      // No resume point (a first visit): the socket starts at the newest event, so the panels reload
      // over HTTP once it is up — what changed before the handshake is in that load, after it, live.
      handlers.onReload();
      setState('live');
      return;
    }
    socket.emit('resume', { sinceSeq: lastSeq }, (ack: ResumeAck) => {
      if (!ack.ok) return;
      if (ack.gap) handlers.onReload();
      setState('live');
    });
  });

  let endedFor: string | undefined;
  socket.on('session.ended', ({ reason }: { reason: string }) => {
    endedFor = reason;
    if (reason === 'session_revoked') {
      closed = true;
      handlers.onRevoked();
    }
  });

  socket.on('disconnect', (reason) => {
    if (closed) return setState('offline');
    // Ended by the server: a slow consumer or a rate limit keeps its token; an expiry needs a new one.
    if (reason === 'io server disconnect') reconnect(endedFor === undefined || endedFor === 'token_expired');
    else setState('reconnecting');
    endedFor = undefined;
  });

  socket.on('connect_error', (err: Error) => {
    if (closed) return;
    // A refused handshake (expired token, limits) is not retried by Socket.IO itself.
    if (!socket.active || err.message === 'unauthorized') reconnect(err.message === 'unauthorized');
    else setState('reconnecting');
  });

  socket.io.on('reconnect_failed', () => setState('offline'));

  // A new access token: re-authenticate the open socket (or use it for the next connect).
  const unsubscribe = session.onToken((token) => {
    if (socket.connected) socket.emit('auth', { token }, (ack: AuthAck) => ack.ok && handlers.onRenewed());
  });

  const offline = () => setState('offline');
  window.addEventListener('offline', offline);

  return {
    close() {
      closed = true;
      unsubscribe();
      if (retryTimer) clearTimeout(retryTimer);
      window.removeEventListener('offline', offline);
      socket.disconnect();
      setState('offline');
    },
  };
}
