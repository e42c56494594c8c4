/**
 * Live updates over Socket.IO (path `/socket.io`, same HTTP(S) server as the API).
 *
 * Protocol (docs/api.md, Realtime; additions marked +):
 * - connect with `auth: { token: accessToken }` (+ optionally `sinceSeq`, which is the same as an
 *   immediate `resume`); no, bad, expired or revoked token → `connect_error` "unauthorized"
 *   (`err.data.code` "unauthorized").
 * - events: Socket.IO event name = type (`balance.updated`, `transaction.created|updated|deleted`,
 *   `budget.alert`, `goal.progress`), payload `{seq, type, at, data}`, seq increasing per user.
 * - `resume {sinceSeq}` (ack `{ok, lastSeq, gap}`): every event after sinceSeq in order, then live
 *   ones. A new socket receives nothing until its `resume` (or 1 s without one), so the switch from
 *   missed to live has no gap and no duplicate. `gap: true` means events after sinceSeq were pruned
 *   (kept 7 days): reload state over HTTP.
 * - + `auth {token}` (ack `{ok}`): a fresh access token (same user) extends the socket; otherwise
 *   the server emits `session.ended {reason: "token_expired"}` and disconnects at the token's
 *   `exp`. Revoked logins get `session.ended {reason: "session_revoked"}` and are disconnected.
 *   After `io server disconnect` the client refreshes its token and calls `socket.connect()`.
 * - + a client that stops reading is held back (the events wait in the database) and is
 *   disconnected if its buffer stays full for 30 s; it reconnects and resumes.
 * - limits: 20 sockets per login, 50 per user (`connect_error` "too_many_connections"); 60
 *   handshakes per minute per client address across instances (`connect_error` "rate_limited");
 *   `resume`/`auth` 5 per 10 s per socket, one `resume` in flight (`session.ended {reason:
 *   "rate_limited"}`, then disconnect).
 * - delivery is signalled after commit (NOTIFY outside the write, or Redis pub/sub) and caught up
 *   once a second per connected user by seq, so a lost signal delays but never loses an event.
 */
export { createRealtime, type Realtime, type RealtimeComponents, type RealtimeOptions } from './server.js';
export type { RealtimeServer, RealtimeSocket } from './types.js';
export { pruneEvents, DEFAULT_RETENTION_MS, type PruneOptions } from './prune.js';
