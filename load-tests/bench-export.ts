/**
 * Export bench: seeds N transactions (default 50 000) for one user directly in the database, then
 * streams `GET /transactions/export?format=csv` (and json) from a server process and reports the
 * time, the bytes, and the server's peak RSS while streaming (sampled from /proc every 10 ms).
 * Also times list pages on that user (first page, a deep keyset page, filters).
 *   npx tsx load-tests/bench-export.ts [rows=50000]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import pg from 'pg';
import { createBenchDatabase, startServer, summarize } from './lib.ts';


const rows = Number(process.argv[2] ?? process.env.BENCH_ROWS ?? 50_000);

const db = await createBenchDatabase();
const server = await startServer(db.url);
try {
  const api = async (path: string, init: { method?: string; json?: unknown; token?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    return fetch(server.url + path, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  };
  const email = `bench-export-${Date.now()}@example.com`;
  const password = `Bench-export-${Math.random().toString(36).slice(2)}-pw`;
  if ((await api('/auth/register', { method: 'POST', json: { email, password } })).status !== 201) throw new Error('register failed');
  const login = (await (await api('/auth/login', { method: 'POST', json: { email, password } })).json()) as { accessToken: string; user: { id: string } };
  const token = login.accessToken;
  const userId = login.user.id;
  const account = (await (await api('/accounts', { method: 'POST', token, json: { name: 'Bench', type: 'bank', currency: 'USD', openingBalance: '1000.00' } })).json()) as { id: string };

  // Seed through SQL: header + entry per row, then the stored balance as the ledger would have it.
  const seedStart = performance.now();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(
    `WITH ins AS (
       INSERT INTO transactions (user_id, type, account_id, currency, amount, date, notes, created_at, updated_at)
       SELECT $1, CASE WHEN g % 3 = 0 THEN 'income' ELSE 'expense' END, $2, 'USD', ((g % 10000) + 1) / 100.0,
              date '2020-01-01' + (g % 2190), 'bench row ' || g || CASE WHEN g % 50 = 0 THEN ' =HYPERLINK("x")' ELSE '' END, now(), now()
         FROM generate_series(1, $3::int) g
       RETURNING id, type, amount
     )
     INSERT INTO entries (transaction_id, user_id, account_id, currency, amount)
     SELECT id, $1, $2, 'USD', CASE WHEN type = 'income' THEN amount ELSE -amount END FROM ins`,
    [userId, account.id, rows],
  );
  await client.query(`UPDATE accounts SET balance = opening_balance + (SELECT coalesce(sum(amount), 0) FROM entries WHERE account_id = $1) WHERE id = $1`, [account.id]);
  await client.query('COMMIT');
  await client.query('ANALYZE transactions; ANALYZE entries');
  await client.end();
  const seedMs = performance.now() - seedStart;

  async function streamOnce(format: 'csv' | 'json') {
    const rssMb = () => server.rssMb();
    const baseline = rssMb();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb());
    }, 10);
    const t0 = performance.now();
    const res = await api(`/transactions/export?format=${format}`, { token });
    const ttfb = performance.now() - t0;
    if (res.status !== 200 || !res.body) throw new Error(`export ${format}: ${res.status}`);
    let bytes = 0;
    let newlines = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (const b of value) if (b === 10) newlines++;
    }
    const totalMs = performance.now() - t0;
    clearInterval(sampler);
    peak = Math.max(peak, rssMb());
    return { format, rows, ttfbMs: Math.round(ttfb), totalMs: Math.round(totalMs), mb: +(bytes / 1048576).toFixed(1), lines: newlines, rssBaselineMb: Math.round(baseline), rssPeakMb: Math.round(peak), rssGrowthMb: Math.round(peak - baseline) };
  }

  // One warm-up so JIT and pool are in their steady state, then the measured runs.
  await streamOnce('csv');
  const results = [await streamOnce('csv'), await streamOnce('csv'), await streamOnce('json')];

  async function timeList(label: string, path: string, n = 30) {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const res = await api(path, { token });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${label}: ${res.status}`);
      ms.push(performance.now() - t0);
    }
    const s = summarize(ms);
    return { label, p50: +s.p50.toFixed(1), p95: +s.p95.toFixed(1) };
  }
  // A cursor deep in the list: follow 40 pages of 500.
  let cursor = '';
  for (let i = 0; i < 40 && rows > 20_000; i++) {
    const page = (await (await api(`/transactions?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { token })).json()) as { nextCursor: string };
    cursor = page.nextCursor;
  }
  const lists = [
    await timeList('first page (limit 50)', '/transactions?limit=50'),
    await timeList('deep keyset page (after 20k rows, limit 50)', `/transactions?limit=50${cursor ? `&cursor=${cursor}` : ''}`),
    await timeList('accountId filter (limit 50)', `/transactions?limit=50&accountId=${account.id}`),
    await timeList('type + date range (limit 50)', '/transactions?limit=50&type=income&from=2022-01-01&to=2022-06-30'),
    await timeList('q on notes (limit 50)', '/transactions?limit=50&q=HYPERLINK'),
  ];
  const check = await (await api(`/accounts/${account.id}`, { token })).json();

  console.log(JSON.stringify({ rows, seedMs: Math.round(seedMs), export: results, list: lists, balance: (check as { balance: string }).balance }, null, 2));
  console.log('\n| format | rows | first byte | total | size | server RSS before → peak (growth) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.format} | ${r.rows} | ${r.ttfbMs} ms | ${r.totalMs} ms | ${r.mb} MB | ${r.rssBaselineMb} → ${r.rssPeakMb} MB (+${r.rssGrowthMb}) |`);
  console.log('\n| list request | p50 | p95 |');
  console.log('|---|---|---|');
  for (const l of lists) console.log(`| ${l.label} | ${l.p50} ms | ${l.p95} ms |`);
} finally {
  await server.stop();
  await db.drop();
}
