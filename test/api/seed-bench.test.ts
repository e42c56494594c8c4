import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPasswordHasher } from '../../server/auth/index.js';
import { checkBudgetTotals } from '../../server/budgets/index.js';
import { createDb, migrateLatest } from '../../server/shared/db.js';
import { checkLedger } from '../../server/transactions/index.js';
import { BENCH_PASSWORD, benchEmail, seedBench, type BenchSeedOptions } from '../../seeds/bench.js';
import { startTestApp, testDatabaseUrl } from '../helpers/app.js';

/**
 * The bulk generator behind `npm run seed:bench`, at a small size, each run in a database of its
 * own (its emails are fixed): what it writes passes the ledger's own checks, a seeded user can log
 * in and sees consistent balances, and the same seed gives the same rows.
 */
const created: string[] = [];
let passwordHash: string;

async function seededDatabase(opts: Omit<BenchSeedOptions, 'passwordHash'>): Promise<string> {
  const name = `numina_seedbench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 2);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await seedBench(client, { ...opts, passwordHash });
  } finally {
    await client.end();
  }
  return url.toString();
}

/** Everything the generator writes, in a stable order, as text. */
async function snapshot(url: string): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const q = async (sql: string) => (await client.query(sql)).rows;
    return {
      users: await q('SELECT id, email, name, created_at FROM users ORDER BY id'),
      accounts: await q('SELECT id, user_id, name, type, currency, opening_balance, balance FROM accounts ORDER BY id'),
      categories: await q('SELECT id, user_id, name, kind FROM categories ORDER BY id'),
      transactions: await q('SELECT * FROM transactions ORDER BY id'),
      entries: await q('SELECT id, transaction_id, account_id, amount FROM entries ORDER BY id'),
      versions: await q('SELECT id, transaction_id, version, action, at, after FROM transaction_versions ORDER BY id'),
      budgets: await q('SELECT id, category_id, amount FROM budgets ORDER BY id'),
      budgetTotals: await q('SELECT * FROM budget_totals ORDER BY budget_id, period_start, currency'),
      goals: await q('SELECT g.id, g.name, ga.account_id FROM goals g JOIN goal_accounts ga ON ga.goal_id = g.id ORDER BY g.id'),
    };
  } finally {
    await client.end();
  }
}

const small = { users: 3, transactions: 450, seed: 42, until: '2026-11-25' };

beforeAll(async () => {
  passwordHash = await createPasswordHasher().hash(BENCH_PASSWORD);
});

afterAll(async () => {
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe('seed:bench generator', () => {
  it('writes a ledger that ledger:verify accepts, and the same seed writes the same rows', async () => {
    const [a, b, other] = await Promise.all([seededDatabase(small), seededDatabase(small), seededDatabase({ ...small, seed: 43 })]);
    const db = createDb(a, 2);
    try {
      const ledger = await checkLedger(db);
      expect(ledger).toMatchObject({ ok: true, accountsChecked: 18, transactionsChecked: 450, balanceMismatches: [], entryMismatches: [] });
      const budgets = await db.transaction((trx) => checkBudgetTotals(trx));
      expect(budgets).toMatchObject({ ok: true, budgetsChecked: 15, mismatches: [] });
      // Every transaction has its version 1 ("create") whose body is the transaction as the API shows it.
      const versions = await db.raw<{ rows: { n: string }[] }>(
        `SELECT count(*) AS n FROM transactions t JOIN transaction_versions v ON v.transaction_id = t.id AND v.version = 1 AND v.action = 'create' AND (v.after->>'amount')::numeric = t.amount`,
      );
      expect(Number(versions.rows[0].n)).toBe(450);
    } finally {
      await db.destroy();
    }
    const [sa, sb, so] = await Promise.all([snapshot(a), snapshot(b), snapshot(other)]);
    expect(sa.transactions).toHaveLength(450);
    expect(sb).toEqual(sa);
    expect(so.transactions).not.toEqual(sa.transactions);
  });

  it('gives each user a login with the documented password, three currencies and balances that add up', async () => {
    const url = await seededDatabase({ users: 2, transactions: 400, seed: 7, until: '2026-11-25' });
    const app = await startTestApp({ DATABASE_URL: url });
    try {
      const login = await app.api('/auth/login', { method: 'POST', json: { email: benchEmail(2), password: BENCH_PASSWORD } });
      expect(login.status).toBe(200);
      const token = String(((await login.json()) as { accessToken: string }).accessToken);
      const accounts = (await (await app.api('/accounts', { token })).json()) as { data: { id: string; name: string; currency: string; balance: string }[] };
      expect(accounts.data.map((x) => x.currency).sort()).toEqual(['EUR', 'GBP', 'USD', 'USD', 'USD', 'USD']);
      const checking = accounts.data.find((x) => x.name === 'Checking')!;
      // Its balance as the API shows it is the opening balance plus what its transactions moved.
      let net = 0;
      let cursor: string | null = null;
      do {
        const page = (await (
          await app.api(`/transactions?limit=100&accountId=${checking.id}${cursor ? `&cursor=${cursor}` : ''}`, { token })
        ).json()) as { data: { type: string; amount: string; accountId: string }[]; nextCursor: string | null };
        for (const t of page.data) net += Math.round(Number(t.amount) * 100) * (t.type === 'income' ? 1 : -1) * (t.accountId === checking.id ? 1 : -1);
        cursor = page.nextCursor;
      } while (cursor);
      expect(checking.balance).toBe(((250000 + net) / 100).toFixed(2));
      const budgets = (await (await app.api('/budgets', { token })).json()) as { data: unknown[] };
      const goals = (await (await app.api('/goals', { token })).json()) as { data: unknown[] };
      expect([budgets.data.length, goals.data.length]).toEqual([5, 2]);
    } finally {
      await app.stop();
    }
  });
});
