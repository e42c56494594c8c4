/**
 * GDPR export bench: one user with N transactions (default 100 000; each with its entry and a
 * version row, so ~3N exported rows), seeded in SQL; then `GET /users/me/export` (JSON, then zip)
 * from a server process, reading the body as it arrives, while the server's RSS is sampled from
 * /proc every 10 ms. Prints time, bytes, RSS before and peak, and the growth.
 *   npx tsx load-tests/bench-user-export.ts [transactions=100000]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import { createBenchDatabase, seedLedgerRows, startServer } from './lib.ts';

const N = Number(process.argv[2] ?? 100_000);
const db = await createBenchDatabase();
const server = await startServer(db.url);
try {
  const post = (p: string, json: unknown, token?: string) =>
    fetch(server.url + p, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(json) });
  const email = `bench-gdpr-${Date.now()}@example.com`;
  const password = `Bench-gdpr-${Math.random().toString(36).slice(2)}-pw`;
  await post('/auth/register', { email, password });
  const login = (await (await post('/auth/login', { email, password })).json()) as { accessToken: string; user: { id: string } };
  const account = (await (await post('/accounts', { name: 'Bench', type: 'bank', currency: 'USD', openingBalance: '1000.00' }, login.accessToken)).json()) as { id: string };
  await seedLedgerRows(db.url, login.user.id, account.id, N);

  for (const format of ['json', 'zip']) {
    const before = server.rssMb();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, server.rssMb());
    }, 10);
    const t0 = performance.now();
    const res = await fetch(`${server.url}/users/me/export?format=${format}`, { headers: { authorization: `Bearer ${login.accessToken}` } });
    if (res.status !== 200) throw new Error(`export ${format}: ${res.status} ${await res.text()}`);
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    const ms = performance.now() - t0;
    clearInterval(sampler);
    console.log(JSON.stringify({ format, transactions: N, seconds: +(ms / 1000).toFixed(1), megabytes: +(bytes / 1e6).toFixed(1), rssBeforeMb: +before.toFixed(0), rssPeakMb: +peak.toFixed(0), rssGrowthMb: +(peak - before).toFixed(1) }));
  }
} finally {
  await server.stop();
  await db.drop();
}
