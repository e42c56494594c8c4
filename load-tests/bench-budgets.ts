/**
 * The cost budgets and goals add to a ledger write, measured side by side on one server:
 * user A's account carries 5 budgets (the expense's category has a monthly and a weekly one) and
 * 3 goals; user B has neither. Expenses dated today (the current period, where alerts are decided)
 * alternate A, B, A, B … one at a time, so both see the same server, cache and load.
 *   npx tsx load-tests/bench-budgets.ts [expensesPerUser=400]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createBenchDatabase, startServer, summarize } from './lib.ts';

const n = Number(process.argv[2] ?? 400);
const run = randomBytes(3).toString('hex');
const db = await createBenchDatabase();
const server = await startServer(db.url);

async function call(method: string, path: string, token?: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

async function user(name: string, withBudgetsAndGoals: boolean) {
  const email = `bench-${run}-${name}@example.com`;
  const password = `Bench-passphrase-${run}-${name}`;
  await call('POST', '/auth/register', undefined, { email, password, currency: 'USD' });
  const token = String((await call('POST', '/auth/login', undefined, { email, password })).accessToken);
  const account = String((await call('POST', '/accounts', token, { name: 'Checking', type: 'bank', currency: 'USD', openingBalance: '1000000.00' })).id);
  const categories = (await call('GET', '/categories?kind=expense&limit=500', token)).data as { id: string; name: string }[];
  const food = categories.find((c) => c.name === 'Food')!.id;
  if (withBudgetsAndGoals) {
    await call('POST', '/budgets', token, { categoryId: food, amount: '100000.00', period: 'monthly' });
    await call('POST', '/budgets', token, { categoryId: food, amount: '30000.00', period: 'weekly' });
    for (const other of ['Rent', 'Transport', 'Utilities']) {
      await call('POST', '/budgets', token, { categoryId: categories.find((c) => c.name === other)!.id, amount: '1000.00', period: 'monthly' });
    }
    for (let i = 0; i < 3; i++) await call('POST', '/goals', token, { name: `Goal ${i}`, targetAmount: '5000000.00', targetDate: '2030-12-31', accountIds: [account] });
  }
  return { token, account, food, times: [] as number[] };
}

try {
  const a = await user('a', true);
  const b = await user('b', false);
  const today = new Date().toISOString().slice(0, 10);
  // Warm-up (JIT, pool, plans), not measured.
  for (let i = 0; i < 30; i++) {
    for (const u of [a, b]) await call('POST', '/transactions', u.token, { accountId: u.account, type: 'expense', amount: '1.00', date: today, categoryId: u.food });
  }
  for (let i = 0; i < n; i++) {
    for (const u of i % 2 ? [a, b] : [b, a]) {
      const t0 = performance.now();
      await call('POST', '/transactions', u.token, { accountId: u.account, type: 'expense', amount: `${1 + (i % 9)}.25`, date: today, categoryId: u.food });
      u.times.push(performance.now() - t0);
    }
  }
  const sa = summarize(a.times);
  const sb = summarize(b.times);
  const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
  console.log(`bench-budgets: ${n} expenses per user, alternating, ${os.cpus().length} cores, node ${process.version}`);
  console.log('| expense write | n | mean ms | p50 ms | p95 ms | p99 ms |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| 5 budgets + 3 goals | ${sa.n} | ${mean(a.times).toFixed(2)} | ${sa.p50.toFixed(2)} | ${sa.p95.toFixed(2)} | ${sa.p99.toFixed(2)} |`);
  console.log(`| none | ${sb.n} | ${mean(b.times).toFixed(2)} | ${sb.p50.toFixed(2)} | ${sb.p95.toFixed(2)} | ${sb.p99.toFixed(2)} |`);
  console.log(`ratio (with / without): mean ${(mean(a.times) / mean(b.times)).toFixed(2)}×, p50 ${(sa.p50 / sb.p50).toFixed(2)}×, p95 ${(sa.p95 / sb.p95).toFixed(2)}×`);
} finally {
  await server.stop();
  await db.drop();
}
