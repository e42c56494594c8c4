import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { checkLedger } from '../../server/transactions/index.js';
import { createAccount, expectProblem } from '../helpers/ledger.js';

/**
 * Exports stream from a database cursor and hold a pooled connection while the client reads.
 * Here the pool has 2 connections, so one export may run at a time on the instance.
 */
let t: TestApp;
let u: TestUser;
const ROWS = 30_000;
beforeAll(async () => {
  t = await startTestApp({ DATABASE_POOL_MAX: '2' });
  u = await registerAndLogin(t);
  const a = await createAccount(t, u, { openingBalance: '0' });
  await t.db.transaction(async (trx) => {
    await trx.raw(
      `WITH ins AS (
         INSERT INTO transactions (user_id, type, account_id, currency, amount, date, notes)
         SELECT ?, 'income', ?, 'USD', 1.25, date '2025-01-01' + (g % 365), 'row ' || g FROM generate_series(1, ?::int) g
         RETURNING id, amount
       )
       INSERT INTO entries (transaction_id, user_id, account_id, currency, amount) SELECT id, ?, ?, 'USD', amount FROM ins`,
      [u.id, a.id, ROWS, u.id, a.id],
    );
    await trx('accounts').where({ id: a.id }).update({ balance: trx.raw('opening_balance + ?::numeric', [(ROWS * 1.25).toFixed(2)]) });
  });
  expect((await checkLedger(t.db, { userId: u.id })).ok).toBe(true);
});
afterAll(async () => {
  await t.stop();
});

describe('streamed export under load', () => {
  it('streams every row of a large export with its header', async () => {
    const res = await t.api('/transactions/export?format=csv', { token: u.accessToken });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.trimEnd().split('\n')).toHaveLength(ROWS + 1);
  });

  it('answers 429 while the instance\u2019s export slots are busy, and frees the slot and connection when the client goes away', async () => {
    const first = await t.api('/transactions/export?format=json', { token: u.accessToken });
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // started, and not reading further: the server is held by back-pressure
    const second = await t.api('/transactions/export?format=csv', { token: u.accessToken });
    await expectProblem(second, 429, 'rate_limited');
    expect(second.headers.get('retry-after')).toBe('5');
    // Ordinary requests still get a connection meanwhile.
    expect((await t.api('/accounts', { token: u.accessToken })).status).toBe(200);
    await reader.cancel();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const again = await t.api('/transactions/export?format=csv&from=2025-01-01&to=2025-01-01', { token: u.accessToken });
      status = again.status;
      await again.arrayBuffer();
    }
    expect(status).toBe(200);
    expect((await t.api('/transactions?limit=1', { token: u.accessToken })).status).toBe(200);
  });
});
