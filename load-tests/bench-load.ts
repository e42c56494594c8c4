/**
 * `npm run bench:load`: the seeded mix (scenario.ts, the same the k6 scripts run) against the
 * production build, from Node (undici), with one Socket.IO connection per user timing its own writes.
 *   npm run bench:load -- [--mode users|saturation|writes] [--seconds 60] [--users 100]
 *                         [--transactions 1000000] [--database <url>] [--floor] [--smoke] [--warmup 5] [--pool 20]
 * users       100 users, 1 s between requests (their starts spread over that second, as k6's ramp
 *             spreads its VUs), plus 100 sockets (commit-to-receive of each user's writes)
 * --warmup    seconds run before the measured window, not counted (default 5; 0 with --smoke)
 * saturation  100 connections, no pause: the ceiling (req/s) and server CPU per request
 * writes      100 concurrent writers running only the mix's writes: write throughput
 * --floor     then the same workload against load-tests/floor.ts on the same database, and the ratio
 * --smoke     CI: 20 users, 15 s, 2,000 transactions; exits 1 on any error or missing socket event
 * Without --database a fresh database is made on BENCH_ADMIN_DATABASE_URL's server, seeded with
 * seeds/bench.ts (--transactions over --users users) and dropped at the end. The server runs as
 * `node dist/server/main.js` with NODE_ENV=production (`npm run build` first when dist/ is missing).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { createPasswordHasher } from '../server/auth/index.ts';
import { createDb, migrateLatest } from '../server/shared/db.ts';
import { BENCH_PASSWORD, seedBench } from '../seeds/bench.ts';
import { BUILT_ENTRY, createBenchDatabase, freePort, startServer, summarize, type ServerProcess } from './lib.ts';
import {
  SEEDED_SETUP_REQUESTS,
  afterResponse,
  applyRefresh,
  needsRefresh,
  pickSeeded,
  refreshRequest,
  seededLoginRequest,
  seededRequest,
  seededVu,
  type RequestSpec,
  type SeededVu,
} from './scenario.ts';
import { SocketIoClient, socketIoUrl } from './socketio.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const smoke = args.includes('--smoke');
const mode = opt('mode', 'users') as 'users' | 'saturation' | 'writes';
if (!['users', 'saturation', 'writes'].includes(mode)) throw new Error(`--mode must be users, saturation or writes, not ${mode}`);
const seconds = Number(opt('seconds', smoke ? '15' : '60'));
const users = Number(opt('users', smoke ? '20' : '100'));
const transactions = Number(opt('transactions', smoke ? '2000' : '1000000'));
const withFloor = args.includes('--floor');
const thinkMs = mode === 'users' ? 1000 : 0;
/** Connections per server (DATABASE_POOL_MAX of the app and the floor alike); default 20 for both. */
const pool = args.includes('--pool') ? String(Number(opt('pool', ''))) : undefined;
if (pool !== undefined && !(Number(pool) >= 1)) throw new Error('--pool takes a number of connections');
/** Not measured: the first seconds of every run (server and floor alike). */
const WARMUP_MS = Number(opt('warmup', '5')) * 1000;
const socketsWanted = mode === 'users';

interface Result {
  target: string;
  elapsed: number;
  requests: number;
  errors: number;
  statuses: Map<string, number>;
  latencies: Map<string, number[]>;
  socket: number[];
  socketMissing: number;
  cpuMs: number;
  peakRssMb: number;
}

/** CPU time (user + system) of a process so far, from /proc (ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
}

async function drive(target: string, base: string, pid: number, rssMb: () => number): Promise<Result> {
  // The floor has no realtime server: its workload is the HTTP mix alone.
  const withSockets = socketsWanted && target === 'server';
  const http = new Pool(base, { connections: users, pipelining: 1 });
  const r: Result = { target, elapsed: 0, requests: 0, errors: 0, statuses: new Map(), latencies: new Map(), socket: [], socketMissing: 0, cpuMs: 0, peakRssMb: rssMb() };
  let measuring = false;
  async function send(spec: RequestSpec, token?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const t0 = performance.now();
    const res = await http.request({ path: spec.path, method: spec.method, headers, body: spec.body === undefined ? undefined : JSON.stringify(spec.body) });
    const text = await res.body.text();
    const ms = performance.now() - t0;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.statusCode !== spec.expect) {
      r.errors++;
      const key = `${spec.name} ${res.statusCode}`;
      r.statuses.set(key, (r.statuses.get(key) ?? 0) + 1);
    }
    if (measuring) {
      r.requests++;
      if (!r.latencies.has(spec.name)) r.latencies.set(spec.name, []);
      r.latencies.get(spec.name)!.push(ms);
    }
    return { status: res.statusCode, body };
  }

  // Setup: log in (5 at a time: Argon2id is measured separately, not here) and read the ids.
  const states: SeededVu[] = new Array<SeededVu>(users);
  let next = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (next < users) {
        const i = next++;
        const login = await send(seededLoginRequest(i + 1));
        const token = (login.body as { accessToken: string }).accessToken;
        const setup = [];
        for (const spec of SEEDED_SETUP_REQUESTS) setup.push((await send(spec, token)).body);
        states[i] = seededVu(i + 1, login.body as { accessToken: string }, setup, Date.now());
      }
    }),
  );

  // Sockets: one per user; each user's own writes are timed from the HTTP answer to the event.
  const written = new Map<string, number>();
  const sockets: WebSocket[] = [];
  if (withSockets) {
    await Promise.all(
      states.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            const client = new SocketIoClient({ token: s.token });
            const ws = new WebSocket(socketIoUrl(base));
            sockets.push(ws);
            ws.on('message', (data: Buffer) => {
              const { input, reply } = client.receive(data.toString());
              if (reply) ws.send(reply);
              if (input.kind === 'connected') setTimeout(resolve, 1100); // live after the server's resume grace (1 s)
              else if (input.kind === 'refused') reject(new Error(`socket refused: ${input.message}`));
              else if (input.kind === 'event' && input.name === 'transaction.created') {
                const id = (input.data[0] as { data: { transaction: { id: string } } }).data.transaction.id;
                const at = written.get(id);
                if (at !== undefined) {
                  if (measuring) r.socket.push(performance.now() - at);
                  written.delete(id);
                }
              }
            });
            ws.on('error', reject);
          }),
      ),
    );
  }

  // Like k6's ramp (the load script ramps VUs up over a minute), users start spread over one think
  // time, not all in the same millisecond: otherwise all 100 stay in phase and arrive as one burst
  // every second, which no ramped k6 run produces. Then a warm-up (JIT, pools, caches; not
  // measured, for the server and the floor alike) before the measured window.
  const warmupMs = smoke ? 0 : WARMUP_MS;
  const cpuStart = { ms: cpuMs(pid) };
  let started = performance.now();
  const until = Date.now() + warmupMs + seconds * 1000;
  const warm = setTimeout(() => {
    measuring = true;
    started = performance.now();
    cpuStart.ms = cpuMs(pid);
  }, warmupMs);
  if (warmupMs === 0) measuring = true;
  const sampler = setInterval(() => (r.peakRssMb = Math.max(r.peakRssMb, rssMb())), 250);
  await Promise.all(
    states.map(async (s, i) => {
      if (thinkMs) await new Promise((w) => setTimeout(w, (i * thinkMs) / states.length));
      while (Date.now() < until) {
        if (needsRefresh(s, Date.now())) {
          const res = await send(refreshRequest(s.refreshToken));
          applyRefresh(s, res.body as { accessToken: string }, Date.now());
        }
        s.iteration++;
        const spec = seededRequest(pickSeeded(Math.random(), mode === 'writes'), s, Date.now());
        const res = await send(spec, s.token);
        afterResponse(s, spec, res.status, res.body);
        const id = (res.body as { id?: string } | undefined)?.id;
        if (withSockets && spec.method === 'POST' && res.status === 201 && id) written.set(id, performance.now());
        if (thinkMs) await new Promise((w) => setTimeout(w, thinkMs));
      }
    }),
  );
  clearTimeout(warm);
  r.elapsed = (performance.now() - started) / 1000;
  r.cpuMs = cpuMs(pid) - cpuStart.ms;
  measuring = false;
  clearInterval(sampler);
  // The last writes' events: a bounded wait (10 s: generous on a loaded CI machine), then whatever has not arrived is missing.
  for (let i = 0; i < 200 && written.size; i++) await new Promise((w) => setTimeout(w, 50));
  r.socketMissing = written.size;
  for (const ws of sockets) ws.close();
  await http.close();
  return r;
}

function print(r: Result): void {
  const s = summarize(r.socket);
  console.log(`\n## ${r.target}: ${mode}, ${users} ${mode === 'users' ? 'users (1 s think time)' : 'connections (no pause)'}, ${r.elapsed.toFixed(1)} s`);
  console.log(`${r.requests} requests, ${(r.requests / r.elapsed).toFixed(0)} req/s, errors ${r.errors}${r.statuses.size ? ` ${JSON.stringify(Object.fromEntries(r.statuses))}` : ''}`);
  console.log(`server CPU ${(r.cpuMs / 1000).toFixed(1)} s = ${(r.cpuMs / Math.max(1, r.requests)).toFixed(2)} ms per request (${((r.cpuMs / 1000 / r.elapsed) * 100).toFixed(0)} % of a core); peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  if (socketsWanted && r.target === 'server') console.log(`sockets: ${r.socket.length} events timed, ${r.socketMissing} missing; commit-to-receive p50 ${s.p50.toFixed(1)} / p95 ${s.p95.toFixed(1)} / p99 ${s.p99.toFixed(1)} ms`);
  const writes = ['create_expense', 'edit_transaction', 'delete_transaction', 'create_transfer'].reduce((n, k) => n + (r.latencies.get(k)?.length ?? 0), 0);
  console.log(`writes: ${writes}, ${(writes / r.elapsed).toFixed(0)} per second`);
  console.log('| request | n | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|');
  for (const [name, values] of [...r.latencies].sort()) {
    const x = summarize(values);
    console.log(`| ${name} | ${x.n} | ${x.p50.toFixed(1)} | ${x.p95.toFixed(1)} | ${x.p99.toFixed(1)} |`);
  }
}

// ---------------------------------------------------------------- main
const fresh = args.includes('--database') ? undefined : await createBenchDatabase();
const databaseUrl = opt('database', fresh?.url ?? '');
let server: ServerProcess | undefined;
let floor: ChildProcess | undefined;
let failed: boolean;
try {
  if (fresh) {
    const t0 = Date.now();
    const db = createDb(databaseUrl, 2);
    try {
      await migrateLatest(db);
    } finally {
      await db.destroy();
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await seedBench(client, { users, transactions, seed: 1, until: new Date().toISOString().slice(0, 10), passwordHash: await createPasswordHasher().hash(BENCH_PASSWORD) });
    } finally {
      await client.end();
    }
    console.log(`seeded ${users} users and ${transactions} transactions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (!existsSync('dist/server/main.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  console.log(`bench:load ${args.join(' ')} — ${new Date().toISOString()}, ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  server = await startServer(databaseUrl, { RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE: '100000', LOG_LEVEL: 'warn', ...(pool ? { DATABASE_POOL_MAX: pool } : {}) }, (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), BUILT_ENTRY);
  const app = await drive('server', server.url, server.child.pid!, server.rssMb);
  await server.stop();
  server = undefined;
  print(app);
  failed = app.errors > 0 || app.socketMissing > 0;
  if (withFloor) {
    const port = await freePort();
    floor = spawn(process.execPath, ['--import', 'tsx', 'load-tests/floor.ts', databaseUrl, String(port)], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_ENV: 'production', DATABASE_POOL_MAX: pool ?? '20' } });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {
        if (i > 300) throw new Error('floor did not start');
        await new Promise((w) => setTimeout(w, 100));
      }
    }
    const child = floor;
    const rss = () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    };
    const f = await drive('floor', base, child.pid!, rss);
    print(f);
    failed ||= f.errors > 0;
    const rate = (x: Result) => x.requests / x.elapsed;
    console.log(`\nserver / floor throughput: ${((rate(app) / rate(f)) * 100).toFixed(0)} % (${rate(app).toFixed(0)} vs ${rate(f).toFixed(0)} req/s); CPU per request ${(app.cpuMs / app.requests).toFixed(2)} vs ${(f.cpuMs / f.requests).toFixed(2)} ms`);
  }
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} catch (err) {
  console.error(`bench:load failed: ${(err as Error).message}`);
  failed = true;
} finally {
  await server?.stop();
  floor?.kill('SIGTERM');
  await fresh?.drop();
}
if (smoke && failed) {
  console.error('bench:load --smoke: errors (above): failing');
  process.exit(1);
}
process.exit(0);
