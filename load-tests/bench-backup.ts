/**
 * Backup/restore bench (the README's RTO): one user with N transactions (default 100 000) in two
 * accounts, seeded with bulk SQL the way the ledger writes them (header, entries, version,
 * balances), then `createBackup` and `restoreBackup` (temporary database, per-table verification,
 * swap) timed end to end, and the ledger checked on the restored copy.
 *   npx tsx load-tests/bench-backup.ts [transactions=100000]
 * Uses fresh databases on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createBackup, restoreBackup } from '../server/backup/index.ts';
import { createDb } from '../server/shared/db.ts';
import { checkLedger } from '../server/transactions/index.ts';
import { createBenchDatabase, seedDailyTotals, startServer } from './lib.ts';

const N = Number(process.argv[2] ?? 100_000);
const source = await createBenchDatabase();
const target = await createBenchDatabase();
const dir = await mkdtemp(path.join(os.tmpdir(), 'numina-bench-backup-'));
const server = await startServer(source.url);
try {
  const api = (p: string, json: unknown, token?: string) =>
    fetch(server.url + p, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(json) });
  const email = `bench-backup-${Date.now()}@example.com`;
  const password = `Bench-backup-${Math.random().toString(36).slice(2)}-pw`;
  await api('/auth/register', { email, password });
  const login = (await (await api('/auth/login', { email, password })).json()) as { accessToken: string; user: { id: string } };
  const acc: string[] = [];
  for (const name of ['Checking', 'Savings']) {
    acc.push(((await (await api('/accounts', { name, type: 'bank', currency: 'USD', openingBalance: '1000.00' }, login.accessToken)).json()) as { id: string }).id);
  }
  await server.stop();
  const c = new pg.Client({ connectionString: source.url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO transactions (user_id, type, account_id, currency, amount, to_account_id, to_currency, to_amount, date, notes, created_at, updated_at)
     SELECT $1, CASE WHEN g % 5 = 0 THEN 'transfer' WHEN g % 3 = 0 THEN 'income' ELSE 'expense' END, $2, 'USD', ((g * 7919) % 20000 + 100) / 100.0,
            CASE WHEN g % 5 = 0 THEN $3::uuid END, CASE WHEN g % 5 = 0 THEN 'USD' END, CASE WHEN g % 5 = 0 THEN ((g * 7919) % 20000 + 100) / 100.0 END,
            current_date - (g % 1826), 'bench note ' || g, now(), now()
       FROM generate_series(1, $4::int) g`,
    [login.user.id, acc[0], acc[1], N],
  );
  await c.query(
    `INSERT INTO entries (transaction_id, user_id, account_id, currency, amount)
     SELECT id, user_id, account_id, currency, CASE WHEN type = 'income' THEN amount ELSE -amount END FROM transactions WHERE user_id = $1
     UNION ALL SELECT id, user_id, to_account_id, to_currency, to_amount FROM transactions WHERE user_id = $1 AND type = 'transfer'`,
    [login.user.id],
  );
  await c.query(
    `INSERT INTO transaction_versions (transaction_id, user_id, version, action, actor_id, at, before, after)
     SELECT id, user_id, 1, 'create', user_id, created_at, NULL, jsonb_build_object('id', id, 'amount', amount::text) FROM transactions WHERE user_id = $1`,
    [login.user.id],
  );
  await c.query(`UPDATE accounts a SET balance = a.opening_balance + coalesce((SELECT sum(amount) FROM entries e WHERE e.account_id = a.id), 0) WHERE a.user_id = $1`, [login.user.id]);
  await seedDailyTotals(c, login.user.id);
  await c.query('COMMIT');
  const size = await c.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s');
  await c.end();

  const file = path.join(dir, 'bench.backup');
  let t0 = performance.now();
  const { manifest } = await createBackup(source.url, file);
  const backupMs = performance.now() - t0;
  const rows = Object.values(manifest.tables).reduce((n, t) => n + t.rows, 0);
  t0 = performance.now();
  const restored = await restoreBackup({ inFile: file, targetUrl: target.url, force: true });
  const restoreMs = performance.now() - t0;
  const db = createDb(target.url, 2);
  const ledger = await checkLedger(db, {});
  await db.destroy();
  console.log(
    JSON.stringify(
      { transactions: N, rows, databaseSize: size.rows[0].s, archiveBytes: (await stat(file)).size, backupSeconds: +(backupMs / 1000).toFixed(1), restoreSeconds: +(restoreMs / 1000).toFixed(1), restoredOk: restored.ok, ledgerOk: ledger.ok },
      null,
      2,
    ),
  );
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
  await source.drop();
  await target.drop();
}
