import { useTestApp, useUsers } from '../helpers/app.js';
import { balanceOf, createAccount, createTransaction } from '../helpers/ledger.js';
import type { TestUser } from '../helpers/users.js';

/**
 * The request path runs its fixed statements as named prepared statements, kept per pooled
 * connection. A rolling deploy migrates the schema under running instances: another instance adds
 * a column to a table those statements read. PostgreSQL then refuses a prepared `SELECT *` on that
 * connection for good ("cached plan must not change result type"), so every statement names its
 * columns. With a pool of 2, the same two connections serve every request here, before and after.
 */
const t = useTestApp({ DATABASE_POOL_MAX: '2' });
const [u] = useUsers(t, 1);
const TABLES = ['accounts', 'transactions', 'entries', 'audit_chain_anchors', 'user_event_seq', 'ledger_daily_accounts', 'ledger_daily_categories', 'transaction_versions'];

/** Every ledger write and the hot reads, as a user makes them: create, edit, delete, list, get. */
async function everyday(user: TestUser, accountId: string): Promise<void> {
  const made = await createTransaction(t, user, { accountId, type: 'expense', amount: '10.00' });
  const put = await t.api(`/transactions/${String(made.id)}`, { method: 'PUT', token: user.accessToken, json: { accountId, type: 'expense', amount: '12.50', date: '2026-11-01' } });
  expect(put.status).toBe(200);
  const kept = await createTransaction(t, user, { accountId, type: 'income', amount: '100.00' });
  expect((await t.api(`/transactions/${String(made.id)}`, { method: 'DELETE', token: user.accessToken })).status).toBe(204);
  expect((await t.api(`/transactions/${String(kept.id)}`, { token: user.accessToken })).status).toBe(200);
  expect((await t.api(`/transactions?accountId=${accountId}`, { token: user.accessToken })).status).toBe(200);
  expect((await t.api('/accounts', { token: user.accessToken })).status).toBe(200);
}

it('keeps answering while another instance adds (and later drops) a column in the tables the request path reads', async () => {
  const acc = await createAccount(t, u, { openingBalance: '0' });
  // Prepares the statements on both pooled connections (two rounds, concurrent).
  await Promise.all([everyday(u, String(acc.id)), everyday(u, String(acc.id))]);
  expect(await balanceOf(t, u, String(acc.id))).toBe('200.00');
  try {
    for (const table of TABLES) await t.db.raw(`ALTER TABLE ${table} ADD COLUMN deploy_probe int`);
    await Promise.all([everyday(u, String(acc.id)), everyday(u, String(acc.id))]);
    expect(await balanceOf(t, u, String(acc.id))).toBe('400.00');
  } finally {
    for (const table of TABLES) await t.db.raw(`ALTER TABLE ${table} DROP COLUMN IF EXISTS deploy_probe`);
  }
  await everyday(u, String(acc.id));
  expect(await balanceOf(t, u, String(acc.id))).toBe('500.00');
});
