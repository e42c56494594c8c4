/**
 * Built vs tsx: time to ready, the latency of each first request after start (register, login,
 * first account, first transaction, then a second transaction for comparison) and idle RSS.
 *   npm run build && npx tsx load-tests/bench-startup.ts        (RUNS=5 by default, per mode)
 * Needs the machine's PostgreSQL (BENCH_ADMIN_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BUILT_ENTRY, createBenchDatabase, startServer, summarize, TSX_ENTRY } from './lib.ts';

if (!existsSync('dist/server/main.js')) throw new Error('run `npm run build` first');
const RUNS = Number(process.env.RUNS ?? 5);
const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);

async function timed(fn: () => Promise<Response>, expected: number): Promise<[number, Response]> {
  const t0 = performance.now();
  const res = await fn();
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== expected) throw new Error(`expected ${expected}, got ${res.status}: ${body}`);
  return [ms, new Response(body)];
}

const db = await createBenchDatabase();
const results: Record<string, Record<string, number[]>> = {};
try {
  // Migrate once, so every measured start finds the schema in place (as a restart does).
  const warm = await startServer(db.url, {}, [], BUILT_ENTRY);
  await warm.stop();
  for (let run = 0; run < RUNS; run++) {
    for (const [mode, entry] of [
      ['tsx', TSX_ENTRY],
      ['built', BUILT_ENTRY],
    ] as const) {
      const r = (results[mode] ??= {});
      const push = (k: string, v: number) => (r[k] ??= []).push(v);
      const t0 = performance.now();
      const s = await startServer(db.url, {}, [], entry);
      push('ready ms', performance.now() - t0);
      const json = (path: string, body: unknown, token?: string) =>
        fetch(s.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      const email = `startup-${randomBytes(4).toString('hex')}@example.com`;
      const password = 'Violet-otter-kettle-drum-58';
      const [reg] = await timed(() => json('/auth/register', { email, password, name: 'B' }), 201);
      push('first register ms', reg);
      const [login, loginRes] = await timed(() => json('/auth/login', { email, password }), 200);
      push('first login ms', login);
      const { accessToken } = (await loginRes.json()) as { accessToken: string };
      const [acc, accRes] = await timed(() => json('/accounts', { name: 'Cash', type: 'cash', currency: 'USD' }, accessToken), 201);
      push('first account ms', acc);
      const { id } = (await accRes.json()) as { id: string };
      const tx = { accountId: id, type: 'income', amount: '1.00', date: '2026-01-02' };
      const [t1] = await timed(() => json('/transactions', tx, accessToken), 201);
      push('first transaction ms', t1);
      const [t2] = await timed(() => json('/transactions', tx, accessToken), 201);
      push('second transaction ms', t2);
      await new Promise((res) => setTimeout(res, IDLE_MS));
      push('idle RSS MB', s.rssMb());
      await s.stop();
    }
  }
} finally {
  await db.drop();
}
for (const [mode, r] of Object.entries(results)) {
  console.log(mode);
  for (const [k, v] of Object.entries(r)) {
    const { p50, max } = summarize(v);
    console.log(`  ${k.padEnd(24)} median ${p50.toFixed(0).padStart(5)}   max ${max.toFixed(0).padStart(5)}   (n=${v.length})`);
  }
}
