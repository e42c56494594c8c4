/**
 * What the k6 scripts smoke.k6.ts, load.k6.ts and stress.k6.ts share: the per-VU HTTP loop over the
 * seeded mix (scenario.ts, also driven by `npm run bench:load`) and the Socket.IO scenario.
 *
 * Data: `npm run seed:bench -- --users 100 --transactions 1000000` (VU n signs in as
 * bench-<n>@bench.numina.local; USERS tells how many were seeded, default 100).
 *
 * Server limits these scripts need (one load generator = one client address):
 *   RATE_LIMIT_IP_PER_MINUTE=1000000            every VU comes from the same address
 *   RATE_LIMIT_USER_PER_MINUTE=1200 (default)   a user gets ~60 mix + ~30 socket writes a minute per VU;
 *                                               stress puts 5 VUs on a user (~450/min)
 *   RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE=10000  every socket connects within the ramp
 * Start it so, e.g. from the production build:
 *   npm run build && NODE_ENV=production DATABASE_URL=… JWT_SECRET=… ENCRYPTION_KEY=… \
 *     RATE_LIMIT_IP_PER_MINUTE=1000000 RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE=10000 node dist/server/main.js
 */
import { check, sleep } from 'k6';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import {
  SEEDED_REQUEST_NAMES,
  SEEDED_SETUP_REQUESTS,
  afterResponse,
  applyRefresh,
  expenseRequest,
  needsRefresh,
  pickSeeded,
  refreshRequest,
  seededLoginRequest,
  seededRequest,
  seededUserFor,
  seededVu,
  type RequestSpec,
  type SeededVu,
} from './scenario.ts';
import { SocketIoClient, socketIoUrl } from './socketio.ts';

export const BASE = __ENV.BASE_URL || 'http://localhost:3000';
const USERS = Number(__ENV.USERS || 100);
const THINK_S = __ENV.THINK_MS ? Number(__ENV.THINK_MS) / 1000 : 1;
/** The socket VU's own write every SOCKET_WRITE_MS while it is connected. */
const SOCKET_WRITE_MS = Number(__ENV.SOCKET_WRITE_MS || 2000);

// k6 allows metrics only in the init context: every one is made here, at module load.
const perRequest: Record<string, Trend> = Object.fromEntries(SEEDED_REQUEST_NAMES.map((n) => [n, new Trend(`req_${n}`, true)]));
/** From the HTTP answer of the VU's own write (its commit is before that) to its `transaction.created` on the socket. */
export const socketLatency = new Trend('socket_commit_to_receive', true);
const socketEvents = new Counter('socket_events');
const socketFailures = new Counter('socket_failures');

function send(spec: RequestSpec, token?: string): RefinedResponse<ResponseType | undefined> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = http.request(spec.method, BASE + spec.path, spec.body === undefined ? null : JSON.stringify(spec.body), { headers, tags: { name: spec.name } });
  check(res, { [`${spec.name} ${spec.expect}`]: (r) => r.status === spec.expect });
  perRequest[spec.name]?.add(res.timings.duration);
  return res;
}

function body(res: RefinedResponse<ResponseType | undefined>): unknown {
  try {
    return typeof res.body === 'string' && res.body ? (JSON.parse(res.body) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** Logs in to the VU's seeded user and reads its ids (once per VU). */
function signIn(vu: number): SeededVu | undefined {
  const user = seededUserFor(vu, USERS);
  const login = send(seededLoginRequest(user));
  if (login.status !== 200) return undefined;
  const tokens = body(login) as { accessToken: string; refreshToken: string; expiresIn: number };
  const setup = SEEDED_SETUP_REQUESTS.map((spec) => body(send(spec, tokens.accessToken)));
  return seededVu(user, tokens, setup, Date.now());
}

function refreshIfDue(s: SeededVu): void {
  if (!needsRefresh(s, Date.now())) return;
  const res = send(refreshRequest(s.refreshToken));
  if (res.status === 200) applyRefresh(s, body(res) as { accessToken: string; refreshToken: string; expiresIn: number }, Date.now());
}

let state: SeededVu | undefined;

/** The `users` scenario: one request of the mix per iteration, then the think time. */
export function userLoop(): void {
  state ??= signIn(__VU);
  if (!state) {
    sleep(THINK_S);
    return;
  }
  refreshIfDue(state);
  state.iteration++;
  const spec = seededRequest(pickSeeded(Math.random()), state, Date.now());
  const res = send(spec, state.token);
  afterResponse(state, spec, res.status, body(res));
  if (THINK_S > 0) sleep(THINK_S);
}

/**
 * The `sockets` scenario: one Socket.IO connection per VU for `seconds`, signed in as the same
 * seeded user as the HTTP VU of the same number. While connected it writes an expense every
 * SOCKET_WRITE_MS and times the `transaction.created` of each; before the token expires it
 * refreshes over HTTP and re-authenticates the socket with the `auth` event.
 */
export function socketSession(seconds: number): void {
  const s = signIn(__VU);
  if (!s) return;
  const client = new SocketIoClient({ token: s.token });
  const written = new Map<string, number>();
  const ws = new WebSocket(socketIoUrl(BASE));
  let writer: number | undefined;
  ws.onmessage = (e?: { data: unknown }) => {
    const r = client.receive(String(e?.data));
    if (r.reply) ws.send(r.reply);
    const input = r.input;
    if (input.kind === 'connected') {
      writer = setInterval(() => {
        if (!client.connected) return;
        if (needsRefresh(s, Date.now())) {
          refreshIfDue(s);
          ws.send(client.emit('auth', { token: s.token }).frame);
        }
        s.iteration++;
        const spec = expenseRequest(s, Date.now());
        const res = send(spec, s.token);
        const id = (body(res) as { id?: string } | undefined)?.id;
        if (res.status === 201 && id) written.set(id, Date.now());
      }, SOCKET_WRITE_MS);
    } else if (input.kind === 'refused') {
      socketFailures.add(1);
      ws.close();
    } else if (input.kind === 'event') {
      socketEvents.add(1);
      const id = (input.data[0] as { data?: { transaction?: { id?: string } } } | undefined)?.data?.transaction?.id;
      const at = id && input.name === 'transaction.created' ? written.get(id) : undefined;
      if (id && at !== undefined) {
        socketLatency.add(Math.max(0, Date.now() - at));
        written.delete(id);
      }
    } else if (input.kind === 'disconnected' || input.kind === 'close') {
      if (writer !== undefined) clearInterval(writer);
    }
  };
  ws.onerror = () => socketFailures.add(1);
  // Writing stops 3 s before the end, so the last write's event has time to arrive.
  setTimeout(() => {
    if (writer !== undefined) clearInterval(writer);
    writer = undefined;
  }, Math.max(0, seconds - 3) * 1000);
  setTimeout(() => {
    check(written, { 'every socket write arrived': (w) => w.size === 0 });
    if (ws.readyState === 1) for (const f of client.disconnectFrames()) ws.send(f);
    ws.close();
  }, seconds * 1000);
}

/** Thresholds of the `goal` profile (issue #16's targets), chosen with PROFILE=goal. */
export const GOAL_THRESHOLDS = {
  'http_req_duration{scenario:users}': ['p(95)<25', 'p(99)<50'],
  http_req_failed: ['rate<0.01'],
  socket_commit_to_receive: ['p(95)<50'],
  checks: ['rate>0.99'],
};
