import { useTestApp, useUsers } from '../helpers/app.js';
import { createAccount, expectProblem } from '../helpers/ledger.js';
import { eventually } from '../helpers/eventually.js';
import { registerAndLogin } from '../helpers/users.js';
import { closeAllSockets, connect } from '../helpers/sockets.js';
import { rebuildDailyTotals } from '../../server/transactions/index.js';

/**
 * OWASP API4:2023 Unrestricted Resource Consumption: bodies, strings, pages, request rates,
 * streamed downloads and sockets all have a bound, and crossing it is a clear 4xx (or a closed
 * socket), never a 5xx or a stalled server.
 */
const t = useTestApp({}, { beforeStop: closeAllSockets });
const [u] = useUsers(t, 1);

describe('API4 request size', () => {
  it('refuses a body over 1 MB with 413 before reading it all', async () => {
    const json = { name: 'x'.repeat(1_100_000), type: 'bank', currency: 'USD' };
    await expectProblem(await t.api('/accounts', { method: 'POST', token: u.accessToken, json }), 413, 'payload_too_large');
  });

  it('refuses 100,000 levels of nesting with 400', async () => {
    const body = `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await t.api('/accounts', { method: 'POST', token: u.accessToken, headers: { 'content-type': 'application/json' }, body });
    await expectProblem(res, 400);
  });

  it.each([
    ['an account name', '/accounts', (s: string) => ({ name: s, type: 'bank', currency: 'USD' })],
    ['a category name', '/categories', (s: string) => ({ name: s, kind: 'expense' })],
  ])('refuses %s of 100,000 characters with 400 naming the field', async (_what, path, make) => {
    const problem = await expectProblem(await t.api(path, { method: 'POST', token: u.accessToken, json: make('y'.repeat(100_000)) }), 400, 'validation_failed');
    expect(problem.errors?.map((e) => e.path)).toContain('body.name');
  });

  it('refuses notes of 100,000 characters on a transaction', async () => {
    const a = await createAccount(t, u);
    const problem = await expectProblem(
      await t.api('/transactions', { method: 'POST', token: u.accessToken, json: { accountId: a.id, type: 'income', amount: '1.00', date: '2026-11-01', notes: 'z'.repeat(100_000) } }),
      400,
    );
    expect(problem.errors?.map((e) => e.path)).toContain('body.notes');
  });
});

describe('API4 page size', () => {
  it.each(['/accounts', '/categories', '/transactions', '/audit/logs', '/auth/sessions'])('%s caps ?limit at 500', async (path) => {
    expect((await t.api(`${path}?limit=500`, { token: u.accessToken })).status).toBe(200);
    const problem = await expectProblem(await t.api(`${path}?limit=501`, { token: u.accessToken }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain('query.limit');
    await expectProblem(await t.api(`${path}?limit=1e9`, { token: u.accessToken }), 400);
  });
});

describe('API4 request rates', () => {
  const limited = useTestApp({ RATE_LIMIT_USER_PER_MINUTE: '15', RATE_LIMIT_IP_PER_MINUTE: '12' }, { beforeStop: (app) => app.db('rate_limits').delete() });
  beforeAll(async () => {
    // Earlier files counted requests from 127.0.0.1 under far higher limits: start from empty counters.
    await limited.db('rate_limits').delete();
  });

  it('limits each user per minute (429 with Retry-After), without slowing another user', async () => {
    const a = await registerAndLogin(limited);
    const b = await registerAndLogin(limited);
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) statuses.push((await limited.api('/accounts', { token: a.accessToken })).status);
    expect(statuses.slice(0, 15).every((s) => s === 200)).toBe(true);
    const over = await limited.api('/accounts', { token: a.accessToken });
    await expectProblem(over, 429, 'rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.api('/accounts', { token: b.accessToken })).status).toBe(200);
  });

  it('limits each client address on unauthenticated routes', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 15; i++) {
      last = await limited.api('/auth/refresh', { method: 'POST', json: { refreshToken: `not-a-token-${i}` } });
      if (last.status === 429) break;
      await last.arrayBuffer();
    }
    await expectProblem(last!, 429, 'rate_limited');
    // Liveness is for machines and never limited.
    expect((await limited.api('/healthz')).status).toBe(200);
  });
});

describe('API4 streamed downloads', () => {
  it('runs at most 2 exports per user at once (the third is 429), and the slots come back', async () => {
    const d = await registerAndLogin(t);
    const a = await createAccount(t, d, { openingBalance: '0' });
    // Enough rows that an export cannot finish while its client is not reading.
    await t.db.raw(
      `WITH ins AS (
         INSERT INTO transactions (user_id, type, account_id, currency, amount, date, notes)
         SELECT ?, 'income', ?, 'USD', 1, date '2025-01-01' + (g % 365), repeat('n', 200) FROM generate_series(1, 20000) g
         RETURNING id, amount)
       INSERT INTO entries (transaction_id, user_id, account_id, currency, amount) SELECT id, ?, ?, 'USD', amount FROM ins`,
      [d.id, a.id, d.id, a.id],
    );
    await t.db('accounts').where({ id: a.id }).update({ balance: '20000' });
    await rebuildDailyTotals(t.db, d.id);
    const held = await Promise.all([1, 2].map(() => t.api('/transactions/export?format=json', { token: d.accessToken })));
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    await expectProblem(await t.api('/transactions/export?format=csv', { token: d.accessToken }), 429, 'rate_limited');
    expect((await t.api('/accounts', { token: u.accessToken })).status).toBe(200);
    await Promise.all(held.map((r) => r.body!.cancel()));
    await eventually('a download slot to come free', async () => {
      const again = await t.api('/transactions/export?format=csv&from=2025-01-01&to=2025-01-01', { token: d.accessToken });
      await again.arrayBuffer();
      return again.status === 200;
    });
  });
});

describe('API4 sockets', () => {
  it('closes a socket that sends a message over 16 KB', async () => {
    const s = await connect(t, u.accessToken);
    s.socket.emit('resume', { sinceSeq: 0, padding: 'p'.repeat(20_000) });
    const { reason } = await s.disconnected;
    expect(reason).toMatch(/transport (close|error)/);
  });
});
