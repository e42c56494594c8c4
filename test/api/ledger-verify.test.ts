import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testDatabaseUrl, useTestApp, useUsers } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { checkBudgetTotals } from '../../server/budgets/index.js';
import { checkLedger } from '../../server/transactions/index.js';
import { createAccount, createTransaction, type Json } from '../helpers/ledger.js';

const run = promisify(execFile);

const t = useTestApp();
const [u] = useUsers(t, 1);
let a: Json;
let b: Json;
beforeAll(async () => {
  a = await createAccount(t, u, { openingBalance: '10.00' });
  b = await createAccount(t, u, { name: 'EUR', currency: 'EUR' });
  await createTransaction(t, u, { accountId: a.id, type: 'income', amount: '5.00' });
  await createTransaction(t, u, { accountId: a.id, type: 'transfer', amount: '2.00', toAccountId: b.id, toAmount: '1.84' });
});

/** Runs `npm run ledger:verify -- --user <id>` against this run's database; returns its exit code and output. */
async function verifyCli(userId: string): Promise<{ code: number; out: { ok: boolean } }> {
  try {
    const { stdout } = await run('npx', ['tsx', 'server/cli/ledger-verify.ts', '--user', userId], { env: { ...process.env, DATABASE_URL: testDatabaseUrl() } });
    return { code: 0, out: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: JSON.parse(e.stdout) };
  }
}

describe('ledger verification (npm run ledger:verify and checkLedger)', () => {
  it('passes on a consistent ledger, from the command line too (exit 0)', async () => {
    expect(await checkLedger(t.db, { userId: u.id })).toMatchObject({ ok: true, accountsChecked: 2, transactionsChecked: 2 });
    const cli = await verifyCli(u.id);
    expect(cli).toEqual({ code: 0, out: expect.objectContaining({ ok: true }) });
  }, 30_000);

  it('names an account whose stored balance drifted from its entries, and the command exits non-zero', async () => {
    await t.db('accounts').where({ id: a.id }).update({ balance: t.db.raw('balance + 0.01') });
    try {
      const check = await checkLedger(t.db, { userId: u.id });
      expect(check.ok).toBe(false);
      expect(check.balanceMismatches).toEqual([expect.objectContaining({ accountId: a.id, stored: '13.0100', expected: '13.0000' })]);
      expect((await verifyCli(u.id)).code).toBe(1);
    } finally {
      await t.db('accounts').where({ id: a.id }).update({ balance: t.db.raw('balance - 0.01') });
    }
  }, 30_000);

  it("names a budget whose running total drifted from the period's expenses, and the command exits non-zero", async () => {
    const food = ((await (await t.api('/categories?limit=500', { token: u.accessToken })).json()) as { data: Json[] }).data.find((c) => c.name === 'Food')!;
    const res = await t.api('/budgets', { method: 'POST', token: u.accessToken, json: { categoryId: food.id, amount: '50.00', period: 'weekly' } });
    expect(res.status).toBe(201);
    const budget = (await res.json()) as Json;
    await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '1.25', date: '2026-11-04', categoryId: food.id });
    expect(await checkBudgetTotals(t.db, { userId: u.id })).toEqual({ ok: true, budgetsChecked: 1, mismatches: [] });
    await t.db('budget_totals').where({ budget_id: budget.id }).update({ total: t.db.raw('total + 0.01') });
    try {
      expect(await checkBudgetTotals(t.db, { userId: u.id })).toEqual({
        ok: false,
        budgetsChecked: 1,
        mismatches: [{ budgetId: budget.id, periodStart: '2026-11-02', currency: 'USD', stored: '1.2600', expected: '1.2500' }],
      });
      const cli = await verifyCli(u.id);
      expect(cli.code).toBe(1);
      expect(cli.out).toMatchObject({ ok: false, budgetTotalMismatches: [expect.objectContaining({ budgetId: budget.id })] });
    } finally {
      await t.db('budget_totals').where({ budget_id: budget.id }).update({ total: t.db.raw('total - 0.01') });
      await t.api(`/transactions/${(await t.db('transactions').where({ user_id: u.id, type: 'expense' }).first()).id}`, { method: 'DELETE', token: u.accessToken });
      await t.api(`/budgets/${budget.id}`, { method: 'DELETE', token: u.accessToken });
    }
    expect((await verifyCli(u.id)).code).toBe(0);
  }, 60_000);

  it('names a transfer whose leg disagrees with its header', async () => {
    const entry = await t.db('entries').where({ account_id: b.id }).first();
    await t.db.transaction(async (trx) => {
      await trx('entries').where({ id: entry.id }).update({ amount: '1.85' });
      await trx('accounts').where({ id: b.id }).update({ balance: '1.85' });
    });
    try {
      const check = await checkLedger(t.db, { userId: u.id });
      expect(check.ok).toBe(false);
      expect(check.balanceMismatches).toEqual([]);
      expect(check.entryMismatches).toEqual([expect.objectContaining({ transactionId: entry.transaction_id, accountId: b.id, expected: '1.8400', actual: '1.8500' })]);
    } finally {
      await t.db.transaction(async (trx) => {
        await trx('entries').where({ id: entry.id }).update({ amount: '1.84' });
        await trx('accounts').where({ id: b.id }).update({ balance: '1.84' });
      });
    }
    expect((await checkLedger(t.db, { userId: u.id })).ok).toBe(true);
  });

  it('names daily totals (what the reports read) that drifted from the transactions, and the command exits non-zero', async () => {
    const income = await t.db('transactions').where({ user_id: u.id, type: 'income' }).first();
    const key = { user_id: u.id, account_id: a.id, date: income.date };
    const cat = { user_id: u.id, type: 'income', currency: 'USD', date: income.date };
    const [accountRow] = await t.db('ledger_daily_accounts').where(key);
    const [categoryRow] = await t.db('ledger_daily_categories').where(cat);
    // The account-day total is off by a cent; the category-day total is missing altogether.
    await t.db('ledger_daily_accounts').where(key).update({ amount: t.db.raw('amount + 0.01') });
    await t.db('ledger_daily_categories').where(cat).del();
    try {
      const check = await checkLedger(t.db, { userId: u.id });
      expect(check.ok).toBe(false);
      expect(check.balanceMismatches).toEqual([]);
      expect(check.entryMismatches).toEqual([]);
      expect(check.dailyTotalMismatches).toEqual([
        { table: 'ledger_daily_accounts', userId: u.id, key: `${a.id}|${income.date}`, expected: '3.0000/2', actual: '3.0100/2' },
        { table: 'ledger_daily_categories', userId: u.id, key: `income||USD|${income.date}`, expected: '5.0000/1', actual: null },
      ]);
      const cli = await verifyCli(u.id);
      expect(cli.code).toBe(1);
      expect(cli.out).toMatchObject({ ok: false, dailyTotalMismatches: [expect.objectContaining({ table: 'ledger_daily_accounts' }), expect.objectContaining({ table: 'ledger_daily_categories' })] });
    } finally {
      await t.db('ledger_daily_accounts').where(key).update({ amount: accountRow.amount });
      await t.db('ledger_daily_categories').insert(categoryRow);
    }
    expect((await checkLedger(t.db, { userId: u.id })).ok).toBe(true);
  }, 30_000);

  it('has the database refuse postings that break the invariants', async () => {
    const x = await t.db('transactions').where({ user_id: u.id, type: 'income' }).first();
    const other = await registerAndLogin(t);
    const foreign = await createAccount(t, other);
    // An entry into another user's account, a zero entry, a transfer into its own account.
    await expect(t.db('entries').insert({ transaction_id: x.id, user_id: u.id, account_id: foreign.id, currency: 'USD', amount: '1' })).rejects.toMatchObject({ code: '23503' });
    await expect(t.db('entries').insert({ transaction_id: x.id, user_id: u.id, account_id: b.id, currency: 'EUR', amount: '0' })).rejects.toMatchObject({ code: '23514' });
    await expect(t.db('entries').insert({ transaction_id: x.id, user_id: u.id, account_id: b.id, currency: 'USD', amount: '1' })).rejects.toMatchObject({ code: '23503' });
    await expect(t.db('transactions').where({ id: x.id }).update({ type: 'transfer', to_account_id: a.id, to_currency: 'USD', to_amount: x.amount })).rejects.toMatchObject({ code: '23514' });
    await expect(t.db('transactions').where({ id: x.id }).update({ amount: '-1' })).rejects.toMatchObject({ code: '23514' });
    await expect(t.db('accounts').where({ id: a.id }).update({ currency: 'EUR' })).rejects.toMatchObject({ code: '23514' });
  });

  it('erases a user’s whole ledger, through the userErased hooks and through deleting the user row', async () => {
    const counts = async (userId: string) => {
      const out: Record<string, number> = {};
      for (const table of ['accounts', 'categories', 'transactions', 'entries', 'transaction_versions', 'idempotency_keys', 'ledger_daily_accounts', 'ledger_daily_categories']) {
        out[table] = Number((await t.db(table).where({ user_id: userId }).count<{ count: string }[]>('* as count'))[0].count);
      }
      return out;
    };
    const empty = { accounts: 0, categories: 0, transactions: 0, entries: 0, transaction_versions: 0, idempotency_keys: 0, ledger_daily_accounts: 0, ledger_daily_categories: 0 };
    for (const via of ['hooks', 'row'] as const) {
      const v = await registerAndLogin(t);
      const x = await createAccount(t, v, { openingBalance: '5.00' });
      const y = await createAccount(t, v, { name: 'Y', currency: 'GBP' });
      const tx = await createTransaction(t, v, { accountId: x.id, type: 'transfer', amount: '1.00', toAccountId: y.id, toAmount: '0.80' });
      await t.api('/transactions', { method: 'POST', token: v.accessToken, headers: { 'Idempotency-Key': 'k1' }, json: { accountId: x.id, type: 'expense', amount: '1.00', date: '2026-11-01' } });
      await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: v.accessToken });
      expect(Object.values(await counts(v.id)).every((n) => n > 0)).toBe(true);
      if (via === 'hooks') {
        await t.db.transaction(async (trx) => {
          for (const hook of t.app.ctx.hooks.userErased) await hook(trx, v.id);
        });
      } else {
        await t.db('users').where({ id: v.id }).del();
      }
      expect(await counts(v.id)).toEqual(empty);
    }
  });
});
