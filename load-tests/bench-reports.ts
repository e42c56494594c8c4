/**
 * Reports bench: one user with N transactions (default 100 000) over 5 years in 6 accounts and 3
 * currencies (USD, EUR, GBP; daily ECB-like EUR→USD and EUR→GBP rates, so GBP→USD goes through
 * EUR), seeded with bulk SQL the way the ledger writes them (header, entries, version, balances,
 * daily totals — then checked with the ledger's own verification). Each report runs N times through HTTP
 * (server process, real auth) and its statement N times as raw SQL; prints p50/p95 and the ratio.
 * Then 10 users download a whole-range CSV at once while the server's RSS is sampled.
 *   npx tsx load-tests/bench-reports.ts [transactions=100000] [runs=200] [--explain]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
// The server code imported below expects pino-http's Request augmentation (req.log) in the program.
import type {} from 'pino-http';
import { createAuditService } from '../server/audit/index.ts';
import { createRatesService } from '../server/rates/index.ts';
import { createReportsService } from '../server/reports/index.ts';
import { systemClock } from '../server/shared/clock.ts';
import { createDb } from '../server/shared/db.ts';
import { checkLedger } from '../server/transactions/index.ts';
import { createBenchDatabase, seedDailyTotals, startServer, summarize } from './lib.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 100_000);
const RUNS = Number(args[1] ?? 200);
const EXPLAIN = process.argv.includes('--explain');
const CSV_USERS = 10;

const bench = await createBenchDatabase();
// 10 users × 2 CSVs at once: raise the instance-wide download slots (default 4) for the memory stage.
// BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server process.
const server = await startServer(bench.url, { DOWNLOADS_MAX: '32' }, process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []);
const knex = createDb(bench.url, 4);
const client = new pg.Client({ connectionString: bench.url });
await client.connect();

const api = async (path: string, init: { method?: string; json?: unknown; token?: string } = {}) => {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return fetch(server.url + path, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
};

async function newUser(tag: string): Promise<{ id: string; token: string }> {
  const email = `bench-reports-${tag}-${Date.now()}@example.com`;
  const password = `Bench-reports-${Math.random().toString(36).slice(2)}-pw`;
  const reg = await api('/auth/register', { method: 'POST', json: { email, password, currency: 'USD', timeZone: 'America/New_York' } });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const login = (await (await api('/auth/login', { method: 'POST', json: { email, password } })).json()) as { accessToken: string; user: { id: string } };
  return { id: login.user.id, token: login.accessToken };
}

const ACCOUNTS = [
  { name: 'Checking', type: 'bank', currency: 'USD', openingBalance: '5000.00' },
  { name: 'Savings', type: 'bank', currency: 'USD', openingBalance: '20000.00' },
  { name: 'Card', type: 'credit', currency: 'USD', openingBalance: '0.00' },
  { name: 'Euro', type: 'bank', currency: 'EUR', openingBalance: '3000.00' },
  { name: 'Euro cash', type: 'cash', currency: 'EUR', openingBalance: '200.00' },
  { name: 'Pounds', type: 'investment', currency: 'GBP', openingBalance: '10000.00' },
];

/**
 * Seeds `n` transactions for a user over the 5 years up to today: 60 % expenses (1 in 6
 * uncategorised) in 5 accounts, 20 % incomes, 20 % transfers (3 of 6 kinds across currencies, the
 * received amount 0.9 × sent). Writes what the ledger's write path writes, in one transaction.
 */
async function seed(user: { id: string; token: string }, n: number): Promise<number> {
  const ids: string[] = [];
  for (const a of ACCOUNTS) {
    const res = await api('/accounts', { method: 'POST', token: user.token, json: a });
    ids.push(((await res.json()) as { id: string }).id);
  }
  const t0 = performance.now();
  await client.query('BEGIN');
  await client.query(
    `WITH acc(i, id, currency) AS (SELECT * FROM unnest($2::int[], $3::uuid[], $4::text[])),
     cat AS (
       SELECT array_agg(id ORDER BY name) FILTER (WHERE kind = 'expense') AS exp,
              array_agg(id ORDER BY name) FILTER (WHERE kind = 'income') AS inc
         FROM categories WHERE user_id = $1
     ),
     p AS (
       SELECT g, g % 10 AS k, current_date - 1825 + (g % 1826) AS date, ((g::bigint * 7919) % 20000 + 100) / 100.0 AS amount
         FROM generate_series(1, $5::int) AS g
     ),
     q AS (
       SELECT p.*,
              CASE WHEN k < 6 THEN 'expense' WHEN k < 8 THEN 'income' ELSE 'transfer' END AS type,
              CASE WHEN k < 6 THEN (ARRAY[1, 3, 4, 5, 6])[1 + g % 5] WHEN k < 8 THEN (ARRAY[1, 2, 4, 6])[1 + g % 4] ELSE (ARRAY[1, 1, 1, 4, 2, 6])[1 + g % 6] END AS src,
              CASE WHEN k >= 8 THEN (ARRAY[2, 3, 4, 6, 1, 1])[1 + g % 6] END AS dst
         FROM p
     )
     INSERT INTO transactions (user_id, type, account_id, currency, amount, to_account_id, to_currency, to_amount, date, category_id, created_at, updated_at)
     SELECT $1, q.type, s.id, s.currency, q.amount, d.id, d.currency,
            CASE WHEN d.id IS NULL THEN NULL WHEN d.currency = s.currency THEN q.amount ELSE round(q.amount * 0.9, 2) END,
            q.date,
            CASE WHEN q.type = 'expense' AND q.g % 6 <> 0 THEN cat.exp[1 + q.g % array_length(cat.exp, 1)]
                 WHEN q.type = 'income' THEN cat.inc[1 + q.g % array_length(cat.inc, 1)] END,
            now(), now()
       FROM q JOIN acc s ON s.i = q.src LEFT JOIN acc d ON d.i = q.dst CROSS JOIN cat`,
    [user.id, ACCOUNTS.map((_, i) => i + 1), ids, ACCOUNTS.map((a) => a.currency), n],
  );
  await client.query(
    `INSERT INTO entries (transaction_id, user_id, account_id, currency, amount)
     SELECT id, user_id, account_id, currency, CASE WHEN type = 'income' THEN amount ELSE -amount END FROM transactions WHERE user_id = $1
     UNION ALL
     SELECT id, user_id, to_account_id, to_currency, to_amount FROM transactions WHERE user_id = $1 AND type = 'transfer'`,
    [user.id],
  );
  await client.query(
    `INSERT INTO transaction_versions (transaction_id, user_id, version, action, actor_id, at, before, after)
     SELECT id, user_id, 1, 'create', user_id, created_at, NULL,
            jsonb_build_object('id', id, 'accountId', account_id, 'type', type, 'amount', round(amount, 2)::text, 'currency', currency,
              'date', date, 'categoryId', category_id, 'notes', notes, 'toAccountId', to_account_id, 'toAmount', round(to_amount, 2)::text,
              'toCurrency', to_currency, 'recurringId', recurring_id, 'createdAt', created_at, 'updatedAt', updated_at)
       FROM transactions WHERE user_id = $1`,
    [user.id],
  );
  await client.query(
    `UPDATE accounts a SET balance = a.opening_balance + coalesce((SELECT sum(amount) FROM entries e WHERE e.account_id = a.id), 0) WHERE a.user_id = $1`,
    [user.id],
  );
  await seedDailyTotals(client, user.id);
  await client.query('COMMIT');
  return performance.now() - t0;
}

try {
  // ECB-like daily rates (weekdays) for 5+ years: EUR→USD around 1.10, EUR→GBP around 0.86.
  await client.query(`
    INSERT INTO exchange_rates (base, quote, date, rate, source)
    SELECT 'EUR', v.q, d::date, round((v.mid + v.amp * sin(extract(epoch FROM d) / 86400 / 30.0))::numeric, 4), 'ecb'
      FROM generate_series(current_date - 1900, current_date, interval '1 day') AS d,
           (VALUES ('USD', 1.10, 0.05), ('GBP', 0.86, 0.03)) AS v(q, mid, amp)
     WHERE extract(isodow FROM d) < 6`);

  const main = await newUser('main');
  const seedMs = await seed(main, N);
  const others = [];
  for (let i = 1; i < CSV_USERS; i++) {
    const u = await newUser(`csv${i}`);
    await seed(u, Math.round(N / 10));
    others.push(u);
  }
  // VACUUM sets the visibility map as autovacuum would after a bulk load, so index-only scans can skip the heap.
  await client.query('VACUUM ANALYZE');
  const ledger = await checkLedger(knex, { userId: main.id });
  if (!ledger.ok) throw new Error(`seeded ledger is inconsistent: ${JSON.stringify(ledger).slice(0, 500)}`);

  const today = (await client.query(`SELECT to_char(now() AT TIME ZONE 'America/New_York', 'YYYY-MM-DD') AS d`)).rows[0].d as string;
  const year = Number(today.slice(0, 4));
  const fiveYearsAgo = `${year - 5}${today.slice(4)}`;
  const threeYearsAgo = `${year - 3}-${today.slice(5, 7)}-${String(Number(today.slice(8)) + 1).padStart(2, '0')}`.replace(/-(29|30|31|32)$/, '-28');

  const reports = createReportsService({
    db: knex,
    clock: systemClock,
    rates: createRatesService({ db: knex, clock: systemClock, audit: createAuditService({ clock: systemClock }) }),
    profiles: { getProfile: async () => ({ currency: 'USD', timeZone: 'America/New_York' }) },
  });
  const cases = [
    { label: 'monthly, 5 years (61 months)', path: `/reports/monthly?from=${fiveYearsAgo.slice(0, 7)}&to=${today.slice(0, 7)}`, stmt: () => reports.statements.monthly(main.id, { from: fiveYearsAgo.slice(0, 7), to: today.slice(0, 7), format: 'json' }) },
    { label: 'categories, 5 years', path: `/reports/categories?from=${fiveYearsAgo}&to=${today}`, stmt: () => reports.statements.categories(main.id, { from: fiveYearsAgo, to: today, type: 'expense', format: 'json' }) },
    { label: 'net worth, 5 years by month', path: `/reports/net-worth?from=${fiveYearsAgo}&to=${today}&interval=month`, stmt: () => reports.statements.netWorth(main.id, { from: fiveYearsAgo, to: today, interval: 'month', format: 'json' }) },
    { label: 'net worth, 5 years by week', path: `/reports/net-worth?from=${fiveYearsAgo}&to=${today}&interval=week`, stmt: () => reports.statements.netWorth(main.id, { from: fiveYearsAgo, to: today, interval: 'week', format: 'json' }) },
    { label: 'net worth, 3 years by day', path: `/reports/net-worth?from=${threeYearsAgo}&to=${today}&interval=day`, stmt: () => reports.statements.netWorth(main.id, { from: threeYearsAgo, to: today, interval: 'day', format: 'json' }) },
  ];

  const results = [];
  const statementsOut: unknown[] = [];
  for (const c of cases) {
    const s = await c.stmt();
    const native = knex.raw(s.sql, s.bindings as never[]).toSQL().toNative();
    if (process.env.BENCH_KEEP_DB) statementsOut.push({ label: c.label, ...native });
    if (EXPLAIN) {
      const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${native.sql}`, native.bindings as unknown[]);
      console.log(`\n### ${c.label}\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}`);
    }
    // Warm-up (plans, caches, JIT), then the measured runs: raw statement, then HTTP.
    for (let i = 0; i < 5; i++) {
      await client.query(native.sql, native.bindings as unknown[]);
      const res = await api(c.path, { token: main.token });
      if (res.status !== 200) throw new Error(`${c.path}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    const sqlMs: number[] = [];
    const httpMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      await client.query(native.sql, native.bindings as unknown[]);
      sqlMs.push(performance.now() - t0);
      t0 = performance.now();
      const res = await api(c.path, { token: main.token });
      await res.arrayBuffer();
      httpMs.push(performance.now() - t0);
    }
    const sql = summarize(sqlMs);
    const http = summarize(httpMs);
    results.push({
      label: c.label,
      sqlP50: +sql.p50.toFixed(1),
      sqlP95: +sql.p95.toFixed(1),
      httpP50: +http.p50.toFixed(1),
      httpP95: +http.p95.toFixed(1),
      ratio: +(http.p95 / sql.p95).toFixed(2),
      meetsBudget: http.p95 < 50 && http.p95 <= 1.5 * sql.p95 + 5,
    });
    console.error(`${c.label}: SQL p50 ${sql.p50.toFixed(1)} p95 ${sql.p95.toFixed(1)} ms; API p50 ${http.p50.toFixed(1)} p95 ${http.p95.toFixed(1)} ms`);
  }

  // Memory: 10 users download a whole-range CSV (net worth by day over 3 years and monthly over
  // 5 years) at the same moment; the server's RSS is sampled every 10 ms.
  const downloaders = [main, ...others];
  const baseline = server.rssMb();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, server.rssMb());
  }, 10);
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    downloaders.flatMap((u) =>
      [`/reports/net-worth?from=${threeYearsAgo}&to=${today}&interval=day&format=csv`, `/reports/monthly?from=${fiveYearsAgo.slice(0, 7)}&to=${today.slice(0, 7)}&format=csv`].map(async (path) => {
        const res = await api(path, { token: u.token });
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        bytes += (await res.arrayBuffer()).byteLength;
      }),
    ),
  );
  const csvMs = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, server.rssMb());

  console.log(JSON.stringify({ transactions: N, runs: RUNS, seedMs: Math.round(seedMs), ledgerOk: ledger.ok, results }, null, 2));
  console.log('\n| report | raw SQL p50 | raw SQL p95 | API p50 | API p95 | API p95 / SQL p95 | p95 < 50 ms and ≤ 1.5 × SQL + 5 ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.label} | ${r.sqlP50} ms | ${r.sqlP95} ms | ${r.httpP50} ms | ${r.httpP95} ms | ${r.ratio} | ${r.meetsBudget ? 'yes' : 'NO'} |`);
  console.log(`\nCSV: ${downloaders.length} users × 2 whole-range CSVs at once: ${Math.round(csvMs)} ms, ${(bytes / 1024).toFixed(0)} KB; server RSS ${Math.round(baseline)} → ${Math.round(peak)} MB (+${Math.round(peak - baseline)} MB)`);
  if (process.env.BENCH_KEEP_DB) {
    writeFileSync('/tmp/numina-bench-reports-statements.json', JSON.stringify({ url: bench.url, statements: statementsOut }, null, 2));
    console.log(`kept ${bench.url}; statements in /tmp/numina-bench-reports-statements.json`);
  }
} finally {
  await client.end();
  await knex.destroy();
  await server.stop();
  if (!process.env.BENCH_KEEP_DB) await bench.drop();
}
