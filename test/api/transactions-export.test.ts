import { useTestApp, useUsers } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { checkLedger, rebuildDailyTotals } from '../../server/transactions/index.js';
import { createAccount, expectProblem } from '../helpers/ledger.js';
import { eventually } from '../helpers/eventually.js';

/**
 * Exports stream from a database cursor and hold a connection of the downloads pool while the
 * client reads. Here the API's pool has only 2 connections, to show that stalled downloads never
 * take them: each user may run 2 downloads, the instance 4, and a client that stops reading is cut.
 */
// The default 10 s acquire timeout: 20 requests authenticating at once queue briefly on 2 connections.
const t = useTestApp({ DATABASE_POOL_MAX: '2' });
const [u] = useUsers(t, 1);
const ROWS = 30_000;

/** `rows` incomes of 1.25 on a new account of `user`, written in bulk as the ledger writes them. */
async function seedIncomes(user: TestUser, rows: number): Promise<void> {
  const a = await createAccount(t, user, { openingBalance: '0' });
  await t.db.transaction(async (trx) => {
    await trx.raw(
      `WITH ins AS (
         INSERT INTO transactions (user_id, type, account_id, currency, amount, date, notes)
         SELECT ?, 'income', ?, 'USD', 1.25, date '2025-01-01' + (g % 365), 'row ' || g FROM generate_series(1, ?::int) g
         RETURNING id, amount
       )
       INSERT INTO entries (transaction_id, user_id, account_id, currency, amount) SELECT id, ?, ?, 'USD', amount FROM ins`,
      [user.id, a.id, rows, user.id, a.id],
    );
    await trx('accounts').where({ id: a.id }).update({ balance: trx.raw('opening_balance + ?::numeric', [(rows * 1.25).toFixed(2)]) });
    await rebuildDailyTotals(trx, user.id);
  });
  expect((await checkLedger(t.db, { userId: user.id })).ok).toBe(true);
}

beforeAll(() => seedIncomes(u, ROWS));

describe('streamed export under load', () => {
  it('streams every row of a large export with its header', async () => {
    const res = await t.api('/transactions/export?format=csv', { token: u.accessToken });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.trimEnd().split('\n')).toHaveLength(ROWS + 1);
  });

  it('gives one user at most 2 exports at once: 20 stalled exports from one user leave every other user served', async () => {
    const other = await registerAndLogin(t);
    // 20 exports fired together by one client that never reads: the slot is reserved before any
    // await, so exactly the user's cap (2) start; the rest are 429 at once.
    const stalled = await Promise.all(Array.from({ length: 20 }, () => t.api('/transactions/export?format=json', { token: u.accessToken })));
    const started = stalled.filter((r) => r.status === 200);
    const refused = stalled.filter((r) => r.status === 429);
    try {
      expect({ started: started.length, refused: refused.length }).toEqual({ started: 2, refused: 18 });
      await expectProblem(refused[0], 429, 'rate_limited');
      expect(refused[0].headers.get('retry-after')).toBe('5');
      // Another user's reads and writes get a connection (the API pool is untouched), and they
      // may export too: the instance's cap (4) is above one user's.
      expect((await t.api('/accounts', { token: other.accessToken })).status).toBe(200);
      expect((await createAccount(t, other, { name: 'Still served' })).name).toBe('Still served');
      const theirs = await t.api('/transactions/export?format=csv', { token: other.accessToken });
      expect(theirs.status).toBe(200);
      expect((await theirs.text()).split('\n')[0]).toMatch(/^id,date,type/);
    } finally {
      await Promise.all(started.map((r) => r.body!.cancel()));
      await Promise.all(refused.map((r) => r.arrayBuffer().catch(() => undefined)));
    }
    // Cancelled downloads give their slots back.
    await eventually('the cancelled downloads to give their slots back', async () => {
      const again = await t.api('/transactions/export?format=csv&from=2025-01-01&to=2025-01-01', { token: u.accessToken });
      await again.arrayBuffer();
      return again.status === 200;
    });
  });
});

describe('a client that stops reading', () => {
  const slow = useTestApp({ DATABASE_POOL_MAX: '2', DOWNLOAD_STALL_TIMEOUT_MS: '300' });
  // A document far larger than what the kernel buffers between a stalled client and the server
  // (here loopback TCP buffers may grow to 32 MB receiving + 4 MB sending; 300,000 rows are ~100 MB
  // of JSON): with a smaller one the whole export can
  // land in the buffers, the server never waits, and there is no stall to cut.
  const BIG_ROWS = 300_000;
  let user: TestUser;
  beforeAll(async () => {
    const big = await registerAndLogin(t);
    await seedIncomes(big, BIG_ROWS);
    const login = await slow.api('/auth/login', { method: 'POST', json: { email: big.email, password: big.password } });
    user = { ...big, accessToken: ((await login.json()) as { accessToken: string }).accessToken };
  }, 120_000);

  it('is cut off, and its slots and connections come free without it doing anything', async () => {
    const held = await Promise.all([1, 2].map(() => slow.api('/transactions/export?format=json', { token: user.accessToken })));
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    const third = await slow.api('/transactions/export?format=csv', { token: user.accessToken });
    await expectProblem(third, 429, 'rate_limited');
    expect(await slow.api('/metrics').then((r) => r.text())).toMatch(/^downloads_in_progress 2$/m);
    // Neither held download is read or cancelled: the server notices the stall and cuts them.
    await eventually('the stalled downloads to be cut', async () => {
      const again = await slow.api('/transactions/export?format=csv&from=2025-01-01&to=2025-01-01', { token: user.accessToken });
      await again.arrayBuffer();
      return again.status === 200;
    }, 20_000);
    // What the stalled client finally reads is cut short, never a complete document.
    const text = await held[0].text().catch(() => 'cut');
    expect(text === 'cut' || !text.trimEnd().endsWith(']')).toBe(true);
  });
});
