/**
 * Realtime bench: 1,000 Socket.IO clients across 100 users on one server process (loopback), a
 * steady stream of committed writes through the outbox, and the commit-to-receive latency.
 *   npx tsx load-tests/bench-realtime.ts [seconds=30] [writesPerSecond=200] [users=100] [socketsPerUser=10]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 *
 * Latency is measured in this process: from the publishing transaction's COMMIT returning to the
 * event arriving on a socket (both on performance.now()). Each write reaches every socket of its
 * user, so one write gives socketsPerUser samples. Goal: p95 < 50 ms, server RSS < 300 MB.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { io as ioClient, type Socket } from 'socket.io-client';
import { systemClock } from '../server/shared/clock.ts';
import { createDb } from '../server/shared/db.ts';
import { createLogger } from '../server/shared/logger.ts';
import { createOutbox } from '../server/shared/outbox.ts';
import { createSignals } from '../server/shared/realtime-signals.ts';
import { createBenchDatabase, startServer, summarize } from './lib.ts';

const seconds = Number(process.argv[2] ?? 30);
const writesPerSecond = Number(process.argv[3] ?? 200);
const userCount = Number(process.argv[4] ?? 100);
const socketsPerUser = Number(process.argv[5] ?? 10);

const bench = await createBenchDatabase();
// Same secrets for both server processes: tokens issued by the first are valid on the second.
const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('hex') };
// Users are registered on a first process: Argon2id hashing leaves native memory behind that is
// not realtime's, so the realtime phase runs on a fresh process (its RSS is what the goal is about).
let server = await startServer(bench.url, secrets);
const db = createDb(bench.url, 10);
// Signals after commit, as the app sends them (NOTIFY on a pooled connection of this process).
const outbox = createOutbox({ clock: systemClock, signals: createSignals({ db, logger: createLogger('warn') }) });
const sockets: Socket[] = [];

/** RSS of the server process (0 between the two server processes). */
function serverRssMb(): number {
  try {
    return server.rssMb();
  } catch {
    return 0;
  }
}
let peakRss = serverRssMb();
const sampler = setInterval(() => (peakRss = Math.max(peakRss, serverRssMb())), 250);

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

try {
  // Users through the API (register + login), as real clients get their tokens.
  const t0 = Date.now();
  const users = await pool(Array.from({ length: userCount }, (_, i) => i), 8, async (i) => {
    const email = `rt-${i}-${Date.now()}@bench.example.com`;
    const password = `Bench-realtime-${i}-correct-horse`;
    await post('/auth/register', { email, password, name: `Bench ${i}` });
    const login = await post('/auth/login', { email, password });
    return { id: (login.user as { id: string }).id, token: String(login.accessToken) };
  });
  const rssAfterRegistration = serverRssMb();
  console.log(`registered ${users.length} users in ${((Date.now() - t0) / 1000).toFixed(1)}s; server rss ${rssAfterRegistration.toFixed(0)} MB`);
  await server.stop();
  server = await startServer(bench.url, secrets);
  peakRss = serverRssMb();

  // Commit times by `${userId}:${seq}`; receipts as [key, receivedAt].
  const committedAt = new Map<string, number>();
  const receipts: [string, number][] = [];
  let received = 0;

  const rssIdle = serverRssMb();
  const t1 = Date.now();
  await pool(
    users.flatMap((u) => Array.from({ length: socketsPerUser }, () => u)),
    50,
    (u) =>
      new Promise<void>((resolve, reject) => {
        const s = ioClient(server.url, { auth: { token: u.token }, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.on('balance.updated', (e: { seq: number }) => {
          received++;
          receipts.push([`${u.id}:${e.seq}`, performance.now()]);
        });
        s.once('connect', () => {
          s.emitWithAck('resume', { sinceSeq: 0 }).then(() => resolve(), reject);
        });
        s.once('connect_error', reject);
      }),
  );
  console.log(`connected ${sockets.length} sockets in ${((Date.now() - t1) / 1000).toFixed(1)}s; server rss ${serverRssMb().toFixed(0)} MB`);
  const rssConnected = serverRssMb();

  // The steady stream: writesPerSecond commits, spread over 10 ms ticks, each a one-event transaction.
  let published = 0;
  let failed = 0;
  let inFlight = 0;
  const perTick = writesPerSecond / 100;
  let carry = 0;
  const started = performance.now();
  const until = Date.now() + seconds * 1000;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      if (Date.now() >= until) {
        clearInterval(tick);
        resolve();
        return;
      }
      carry += perTick;
      for (; carry >= 1; carry--) {
        if (inFlight >= 50) continue; // the database cannot keep up: skip rather than queue without bound
        const u = users[Math.floor(Math.random() * users.length)];
        inFlight++;
        db.transaction((trx) => outbox.publish(trx, u.id, 'balance.updated', { accountId: u.id, balance: `${published}.00`, currency: 'USD' }))
          .then((e) => {
            committedAt.set(`${u.id}:${e.seq}`, performance.now());
            published++;
          })
          .catch(() => failed++)
          .finally(() => inFlight--);
      }
    }, 10);
  });
  const writeSeconds = (performance.now() - started) / 1000;
  // Let the tail arrive (bounded).
  const expected = () => published * socketsPerUser;
  for (let i = 0; i < 100 && received < expected(); i++) await new Promise((r) => setTimeout(r, 50));
  const elapsed = (performance.now() - started) / 1000;

  const latencies = receipts.map(([k, at]) => Math.max(0, at - (committedAt.get(k) ?? at)));
  const s = summarize(latencies);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const serverLagCount = /^realtime_delivery_lag_seconds_count (\d+)/m.exec(metrics)?.[1];
  const gauge = (name: string) => Math.round(Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20);
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, ${os.platform()} ${os.release()}`,
    command: `npx tsx load-tests/bench-realtime.ts ${seconds} ${writesPerSecond} ${userCount} ${socketsPerUser}`,
    sockets: sockets.length,
    users: userCount,
    writesCommitted: published,
    writesFailed: failed,
    writesPerSecond: +(published / writeSeconds).toFixed(1),
    eventsReceived: received,
    eventsMissing: expected() - received,
    eventsDeliveredPerSecond: +(received / elapsed).toFixed(1),
    latencyMs: { p50: +s.p50.toFixed(1), p95: +s.p95.toFixed(1), p99: +s.p99.toFixed(1), max: +s.max.toFixed(1) },
    serverRssMb: { registrationProcess: Math.round(rssAfterRegistration), freshProcessBeforeSockets: Math.round(rssIdle), connected: Math.round(rssConnected), peak: Math.round(peakRss) },
    serverMemoryAtEndMb: {
      rss: gauge('process_resident_memory_bytes'),
      heapUsed: gauge('nodejs_heap_size_used_bytes'),
      heapTotal: gauge('nodejs_heap_size_total_bytes'),
      external: gauge('nodejs_external_memory_bytes'),
    },
    serverDeliveredCount: serverLagCount ? Number(serverLagCount) : null,
    goal: { p95Under50ms: s.p95 < 50, rssUnder300Mb: peakRss < 300 },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  clearInterval(sampler);
  for (const s of sockets) s.close();
  await db.destroy();
  await server.stop();
  await bench.drop();
}
