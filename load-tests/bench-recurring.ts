/**
 * Recurring catch-up after downtime: 10,000 daily rules over 1,000 users, each 30 days behind
 * (300,000 occurrences due), swept by a server process through the job queue, while a few API
 * users keep working. Reports the catch-up duration, rows created, that a second sweep creates 0,
 * and API p95 before vs during the sweep.
 *   npx tsx load-tests/bench-recurring.ts [users=1000] [rulesPerUser=10] [days=30] [apiUsers=10]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 * BENCH_SERVER_NODE_ARGS (space-separated) go to the server's node, e.g. `--cpu-prof --cpu-prof-dir=.tmp/prof`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { createBenchDatabase, startServer, summarize } from './lib.ts';

const users = Number(process.argv[2] ?? 1000);
const rulesPerUser = Number(process.argv[3] ?? 10);
const days = Number(process.argv[4] ?? 30);
const apiUsers = Number(process.argv[5] ?? 10);
const run = randomBytes(3).toString('hex');

const db = await createBenchDatabase();
const server = await startServer(db.url, {}, (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean));
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const boss = new PgBoss({ connectionString: db.url, schema: 'pgboss', max: 2, supervise: false, schedule: false });
await boss.start();

async function api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const t0 = performance.now();
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = res.status === 204 ? {} : ((await res.json().catch(() => ({}))) as Record<string, unknown>);
  return { status: res.status, body: json, ms: performance.now() - t0 };
}

/** API users (registered through the API) doing the everyday mix: list accounts, post an expense, list transactions. */
const vus: { token: string; accountId: string }[] = [];
for (let i = 0; i < apiUsers; i++) {
  const email = `bench-rec-${run}-${i}@example.com`;
  const password = `Correct-horse-${run}-${i}`;
  if ((await api('POST', '/auth/register', { email, password })).status !== 201) throw new Error('register failed');
  const token = String((await api('POST', '/auth/login', { email, password })).body.accessToken);
  const accountId = String((await api('POST', '/accounts', { name: 'Main', type: 'bank', currency: 'USD' }, token)).body.id);
  vus.push({ token, accountId });
}
let errors = 0;
async function load(until: () => boolean): Promise<number[]> {
  const ms: number[] = [];
  await Promise.all(
    vus.map(async (vu, i) => {
      for (let k = i; !until(); k++) {
        const r =
          k % 3 === 0
            ? await api('GET', '/accounts', undefined, vu.token)
            : k % 3 === 1
              ? await api('POST', '/transactions', { accountId: vu.accountId, type: 'expense', amount: '1.00', date: new Date().toISOString().slice(0, 10) }, vu.token)
              : await api('GET', `/transactions?accountId=${vu.accountId}&limit=20`, undefined, vu.token);
        if (r.status >= 400) errors++;
        ms.push(r.ms);
        await new Promise((res) => setTimeout(res, 100));
      }
    }),
  );
  return ms.sort((a, b) => a - b);
}

// Baseline: the API alone.
const baselineUntil = Date.now() + 20_000;
const baseline = await load(() => Date.now() > baselineUntil);

// Seed: users, one account each, `rulesPerUser` daily rules starting `days - 1` days ago (so
// `days` occurrences each are due today, none created: the instances were off meanwhile).
const seedStarted = Date.now();
await sql.query(
  `INSERT INTO users (id, email, currency, time_zone) SELECT gen_random_uuid(), 'seed-' || $1 || '-' || g || '@example.com', 'USD', 'UTC' FROM generate_series(1, $2) g`,
  [run, users],
);
await sql.query(`INSERT INTO accounts (user_id, name, type, currency) SELECT id, 'Checking', 'bank', 'USD' FROM users WHERE email LIKE 'seed-%'`);
await sql.query(
  `INSERT INTO recurring_rules (user_id, type, account_id, currency, amount, frequency, "interval", start_date, anchor_date, next_date)
   SELECT a.user_id, 'expense', a.id, 'USD', 1.25, 'daily', 1, (now() AT TIME ZONE 'UTC')::date - ($2::int - 1), (now() AT TIME ZONE 'UTC')::date - ($2::int - 1), (now() AT TIME ZONE 'UTC')::date - ($2::int - 1)
     FROM accounts a JOIN users u ON u.id = a.user_id, generate_series(1, $1) r
    WHERE u.email LIKE 'seed-%'`,
  [rulesPerUser, days],
);
console.log(`seeded ${users} users, ${users * rulesPerUser} rules in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

async function sweepThroughQueue(): Promise<{ ms: number; output: { rules: number; created: number } }> {
  const t0 = Date.now();
  // A one-off run on the scheduled queue, exactly as the start-up catch-up queues it.
  const id = await boss.send('recurring.sweep', {}, { singletonKey: `bench-${Date.now()}` });
  if (!id) throw new Error('sweep not queued');
  for (;;) {
    const job = await boss.getJobById<Record<string, unknown>>('recurring.sweep', id, { includeArchive: true });
    if (job?.state === 'completed') return { ms: Date.now() - t0, output: job.output as { rules: number; created: number } };
    if (job?.state === 'failed') throw new Error(`sweep failed: ${JSON.stringify(job.output)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let sweeping = true;
const during = load(() => !sweeping);
let first: Awaited<ReturnType<typeof sweepThroughQueue>>;
try {
  first = await sweepThroughQueue();
} finally {
  sweeping = false;
}
const duringMs = await during;
const second = await sweepThroughQueue();
const rows = await sql.query(
  `SELECT (SELECT count(*) FROM recurring_occurrences) AS occurrences,
          (SELECT count(*) FROM transactions WHERE recurring_id IS NOT NULL) AS transactions,
          (SELECT count(*) FROM (SELECT rule_id, occurrence_date FROM recurring_occurrences GROUP BY 1, 2 HAVING count(*) > 1) d) AS duplicates,
          (SELECT count(*) FROM audit_logs WHERE action = 'transaction.create' AND actor_id IS NULL) AS audit_entries`,
);
const b = summarize(baseline);
const d = summarize(duringMs);
console.log(
  JSON.stringify(
    {
      users,
      rules: users * rulesPerUser,
      daysBehind: days,
      catchUpSeconds: +(first.ms / 1000).toFixed(1),
      firstSweep: first.output,
      secondSweep: { ...second.output, seconds: +(second.ms / 1000).toFixed(1) },
      rows: rows.rows[0],
      api: { baselineP95: +b.p95.toFixed(1), duringP95: +d.p95.toFixed(1), baselineN: b.n, duringN: d.n, baselineP50: +b.p50.toFixed(1), duringP50: +d.p50.toFixed(1), errors },
      serverRssMb: Math.round(server.rssMb()),
    },
    null,
    2,
  ),
);
await boss.stop({ graceful: false, close: true });
await sql.end();
await server.stop();
await db.drop();
