/**
 * GDPR erase bench: one user with N transactions (default 100 000; each with its entry and a version
 * row), seeded in SQL, and 200 audited writes of their own; then `DELETE /users/me` against a server
 * process. Prints how long the one erasing transaction took (the time the user's rows are locked)
 * and checks that nothing of the user is left.
 *   npx tsx load-tests/bench-erase.ts [transactions=100000]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import os from 'node:os';
import pg from 'pg';
import { createBenchDatabase, seedLedgerRows, startServer } from './lib.ts';

const N = Number(process.argv[2] ?? 100_000);
const db = await createBenchDatabase();
const server = await startServer(db.url);
try {
  const call = (method: string, p: string, json: unknown, token?: string) =>
    fetch(server.url + p, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(json) });
  const email = `bench-erase-${Date.now()}@example.com`;
  const password = `Bench-erase-${Math.random().toString(36).slice(2)}-pw`;
  await call('POST', '/auth/register', { email, password });
  const login = (await (await call('POST', '/auth/login', { email, password })).json()) as { accessToken: string; user: { id: string } };
  const account = (await (await call('POST', '/accounts', { name: 'Bench', type: 'bank', currency: 'USD', openingBalance: '1000.00' }, login.accessToken)).json()) as { id: string };
  await seedLedgerRows(db.url, login.user.id, account.id, N);
  for (let i = 0; i < 200; i++) await call('PATCH', '/users/me', { name: `Bench ${i}` }, login.accessToken);

  const t0 = performance.now();
  const res = await call('DELETE', '/users/me', { password }, login.accessToken);
  const ms = performance.now() - t0;
  if (res.status !== 204) throw new Error(`erase: ${res.status} ${await res.text()}`);

  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const left = await c.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM transactions WHERE user_id = $1) + (SELECT count(*) FROM entries WHERE user_id = $1)
          + (SELECT count(*) FROM transaction_versions WHERE user_id = $1) + (SELECT count(*) FROM accounts WHERE user_id = $1) AS n`,
    [login.user.id],
  );
  const redacted = await c.query<{ n: string }>(`SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND redacted_at IS NOT NULL`, [login.user.id]);
  await c.end();
  console.log(
    JSON.stringify({ transactions: N, rowsErased: 3 * N + 1, seconds: +(ms / 1000).toFixed(2), rowsLeft: Number(left.rows[0].n), auditRedacted: Number(redacted.rows[0].n), load: os.loadavg().map((l) => +l.toFixed(1)) }),
  );
} finally {
  await server.stop();
  await db.drop();
}
