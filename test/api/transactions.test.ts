import { randomUUID } from 'node:crypto';
import { useTestApp, useUsers } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { checkLedger } from '../../server/transactions/index.js';
import { balanceOf, categoryNamed, createAccount, createTransaction, eventsOf, expectProblem, postTransaction, type Json } from '../helpers/ledger.js';

const t = useTestApp({}, {
  // Whatever the tests did, the stored balances still equal opening + Σ entries.
  beforeStop: async (app) => expect(await checkLedger(app.db)).toMatchObject({ ok: true, balanceMismatches: [], entryMismatches: [] }),
});
const [alice, bob] = useUsers(t, 2);

describe('POST /transactions', () => {
  it('records an income and raises the balance by exactly the amount', async () => {
    const a = await createAccount(t, alice, { openingBalance: '100.00' });
    const salary = await categoryNamed(t, alice, 'Salary');
    const res = await postTransaction(t, alice, { accountId: a.id, type: 'income', amount: '2500.5', date: '2026-11-01', categoryId: salary.id, notes: 'November' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      id: expect.any(String),
      accountId: a.id,
      type: 'income',
      amount: '2500.50',
      currency: 'USD',
      date: '2026-11-01',
      categoryId: salary.id,
      notes: 'November',
      toAccountId: null,
      toAmount: null,
      toCurrency: null,
      recurringId: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await balanceOf(t, alice, a.id)).toBe('2600.50');
  });

  it('adds exactly: 0.10 + 0.20 is 0.30, and an expense lowers the balance', async () => {
    const a = await createAccount(t, alice);
    await createTransaction(t, alice, { accountId: a.id, type: 'income', amount: '0.10' });
    await createTransaction(t, alice, { accountId: a.id, type: 'income', amount: '0.20' });
    expect(await balanceOf(t, alice, a.id)).toBe('0.30');
    await createTransaction(t, alice, { accountId: a.id, type: 'expense', amount: '0.45' });
    expect(await balanceOf(t, alice, a.id)).toBe('-0.15');
  });

  it('moves a transfer between two accounts of the same currency (toAmount = amount)', async () => {
    const from = await createAccount(t, alice, { openingBalance: '50.00' });
    const to = await createAccount(t, alice, { name: 'Savings' });
    const tx = await createTransaction(t, alice, { accountId: from.id, type: 'transfer', amount: '20.00', toAccountId: to.id });
    expect(tx).toMatchObject({ type: 'transfer', amount: '20.00', toAccountId: to.id, toAmount: '20.00', toCurrency: 'USD', categoryId: null });
    expect(await balanceOf(t, alice, from.id)).toBe('30.00');
    expect(await balanceOf(t, alice, to.id)).toBe('20.00');
  });

  it('carries both amounts in a cross-currency transfer, each in its account\u2019s precision', async () => {
    const usd = await createAccount(t, alice, { openingBalance: '100.00' });
    const jpy = await createAccount(t, alice, { name: 'Yen', currency: 'JPY' });
    const missing = await postTransaction(t, alice, { accountId: usd.id, type: 'transfer', amount: '10.00', toAccountId: jpy.id, date: '2026-11-02' });
    expect((await expectProblem(missing, 400)).errors?.[0].path).toBe('body.toAmount');
    const tx = await createTransaction(t, alice, { accountId: usd.id, type: 'transfer', amount: '10.00', toAccountId: jpy.id, toAmount: '1500' });
    expect(tx).toMatchObject({ amount: '10.00', currency: 'USD', toAmount: '1500', toCurrency: 'JPY' });
    expect(await balanceOf(t, alice, usd.id)).toBe('90.00');
    expect(await balanceOf(t, alice, jpy.id)).toBe('1500');
  });

  it('publishes transaction.created and one balance.updated per account in the outbox, and audits it', async () => {
    const u = await registerAndLogin(t);
    const from = await createAccount(t, u, { openingBalance: '10.00' });
    const to = await createAccount(t, u, { name: 'Other' });
    const tx = await createTransaction(t, u, { accountId: from.id, type: 'transfer', amount: '4.00', toAccountId: to.id });
    const events = await eventsOf(t, u.id);
    expect(events.map((e) => e.type)).toEqual(['transaction.created', 'balance.updated', 'balance.updated']);
    expect(events[0].data).toEqual({ transaction: tx });
    expect(events.slice(1).map((e) => e.data)).toEqual(
      expect.arrayContaining([
        { accountId: from.id, balance: '6.00', currency: 'USD' },
        { accountId: to.id, balance: '4.00', currency: 'USD' },
      ]),
    );
    const audit = await t.db('audit_logs').where({ entity_id: tx.id }).first();
    expect(audit).toMatchObject({ action: 'transaction.create', user_id: u.id, actor_id: u.id, entity_type: 'transaction' });
    expect(audit.after).toEqual(tx);
  });

  describe('rejects invalid input with 400 and changes nothing', () => {
    let usd: Json;
    let usd2: Json;
    let jpy: Json;
    let food: Json;
    beforeAll(async () => {
      usd = await createAccount(t, alice, { openingBalance: '5.00' });
      usd2 = await createAccount(t, alice, { name: 'Second' });
      jpy = await createAccount(t, alice, { name: 'Yen', currency: 'JPY' });
      food = await categoryNamed(t, alice, 'Food');
    });
    const base = () => ({ accountId: usd.id, type: 'expense', amount: '1.00', date: '2026-11-01' });
    it.each<[string, () => Record<string, unknown>, string]>([
      ['an amount as a JSON number', () => ({ ...base(), amount: 1 }), 'body.amount'],
      ['more fraction digits than USD allows ("1.001")', () => ({ ...base(), amount: '1.001' }), 'body.amount'],
      ['fractional yen ("1.5" JPY)', () => ({ ...base(), accountId: jpy.id, amount: '1.5' }), 'body.amount'],
      ['a zero amount', () => ({ ...base(), amount: '0.00' }), 'body.amount'],
      ['a negative amount', () => ({ ...base(), amount: '-1.00' }), 'body.amount'],
      ['an exponent', () => ({ ...base(), amount: '1e2' }), 'body.amount'],
      ['a date that is not a calendar date', () => ({ ...base(), date: '2026-02-30' }), 'body.date'],
      ['a date in another format', () => ({ ...base(), date: '01/11/2026' }), 'body.date'],
      ['an unknown type', () => ({ ...base(), type: 'refund' }), 'body.type'],
      ['a missing account', () => ({ type: 'expense', amount: '1.00', date: '2026-11-01' }), 'body.accountId'],
      ['a transfer without toAccountId', () => ({ ...base(), type: 'transfer' }), 'body.toAccountId'],
      ['a transfer to the same account', () => ({ ...base(), type: 'transfer', toAccountId: usd.id }), 'body.toAccountId'],
      ['a transfer with a category', () => ({ ...base(), type: 'transfer', toAccountId: usd2.id, categoryId: food.id }), 'body.categoryId'],
      ['toAccountId on an expense', () => ({ ...base(), toAccountId: usd2.id }), 'body.toAccountId'],
      ['toAmount on an expense', () => ({ ...base(), toAmount: '1.00' }), 'body.toAmount'],
      ['a toAmount different from amount between same-currency accounts', () => ({ ...base(), type: 'transfer', toAccountId: usd2.id, toAmount: '2.00' }), 'body.toAmount'],
      ['a toAmount finer than the receiving currency allows', () => ({ ...base(), type: 'transfer', toAccountId: jpy.id, toAmount: '150.5' }), 'body.toAmount'],
      ['notes over 1000 characters', () => ({ ...base(), notes: 'x'.repeat(1001) }), 'body.notes'],
      ['an unknown field', () => ({ ...base(), userId: bob.id }), 'body'],
    ])('%s', async (_label, body, path) => {
      const res = await postTransaction(t, alice, body());
      const problem = await expectProblem(res, 400, 'validation_failed');
      expect(problem.errors?.map((e) => e.path)).toContainEqual(path);
      expect(await balanceOf(t, alice, usd.id)).toBe('5.00');
    });

    it('a body that is not JSON', async () => {
      const res = await t.api('/transactions', { method: 'POST', token: alice.accessToken, headers: { 'content-type': 'application/json' }, body: '{"amount":' });
      await expectProblem(res, 400);
    });
  });

  it('answers 404 for an account or a receiving account that is not the caller\u2019s, and for an unknown one', async () => {
    const mine = await createAccount(t, alice);
    const theirs = await createAccount(t, bob, { openingBalance: '7.00' });
    await expectProblem(await postTransaction(t, alice, { accountId: theirs.id, type: 'expense', amount: '1.00', date: '2026-11-01' }), 404);
    await expectProblem(await postTransaction(t, alice, { accountId: mine.id, type: 'transfer', amount: '1.00', toAccountId: theirs.id, date: '2026-11-01' }), 404);
    await expectProblem(await postTransaction(t, alice, { accountId: randomUUID(), type: 'income', amount: '1.00', date: '2026-11-01' }), 404);
    expect(await balanceOf(t, bob, theirs.id)).toBe('7.00');
  });

  it('requires a bearer token', async () => {
    await expectProblem(await t.api('/transactions', { method: 'POST', json: {} }), 401);
  });
});

describe('GET /transactions', () => {
  let u: TestUser;
  let a: Json;
  let b: Json;
  const made: Json[] = [];
  beforeAll(async () => {
    u = await registerAndLogin(t);
    a = await createAccount(t, u, { name: 'A' });
    b = await createAccount(t, u, { name: 'B' });
    const food = await categoryNamed(t, u, 'Food');
    const days = ['2026-10-01', '2026-10-05', '2026-10-05', '2026-10-05', '2026-10-09', '2026-10-12', '2026-10-20'];
    for (const [i, date] of days.entries()) {
      const body =
        i % 3 === 0
          ? { accountId: a.id, type: 'income', amount: `${i + 1}.00`, notes: `pay 100% ${i}` }
          : i % 3 === 1
            ? { accountId: a.id, type: 'expense', amount: `${i + 1}.00`, categoryId: food.id, notes: `lunch_${i}` }
            : { accountId: a.id, type: 'transfer', amount: `${i + 1}.00`, toAccountId: b.id };
      made.push(await createTransaction(t, u, { ...body, date }));
    }
  });

  it('pages through every transaction newest date first, without gaps or repeats', async () => {
    const seen: Json[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api(`/transactions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: u.accessToken });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: Json[]; nextCursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data);
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen.map((x) => x.id).sort()).toEqual(made.map((x) => x.id).sort());
    const keys = seen.map((x) => `${x.date}|${x.id}`);
    expect(keys).toEqual([...keys].sort().reverse());
  });

  it('filters by account (either leg), category, type, date range and notes', async () => {
    const ids = async (qs: string) => ((await (await t.api(`/transactions?limit=500&${qs}`, { token: u.accessToken })).json()) as { data: Json[] }).data.map((x) => x.id).sort();
    const byType = (type: string) => made.filter((m) => m.type === type).map((m) => m.id).sort();
    expect(await ids(`accountId=${b.id}`)).toEqual(byType('transfer'));
    expect(await ids(`accountId=${a.id}`)).toEqual(made.map((m) => m.id).sort());
    expect(await ids(`categoryId=${made[1].categoryId}`)).toEqual(byType('expense'));
    expect(await ids('type=income')).toEqual(byType('income'));
    expect(await ids('from=2026-10-05&to=2026-10-09')).toEqual(made.filter((m) => (m.date as string) >= '2026-10-05' && (m.date as string) <= '2026-10-09').map((m) => m.id).sort());
    expect(await ids('q=100%25')).toEqual(byType('income'));
    expect(await ids('q=LUNCH_')).toEqual(byType('expense'));
  });

  it('shows another user nothing of it, even when filtering by this user\u2019s account', async () => {
    const res = await t.api(`/transactions?accountId=${a.id}`, { token: bob.accessToken });
    expect(await res.json()).toEqual({ data: [], nextCursor: null });
  });

  it.each([
    ['limit=501'],
    ['limit=0'],
    ['cursor=garbage'],
    [`cursor=${Buffer.from('["2026-01-01","not-a-uuid"]').toString('base64url')}`],
    ['type=loan'],
    ['from=2026-02-31'],
    ['accountId=123'],
    ['unknown=1'],
  ])('rejects ?%s with 400', async (qs) => {
    await expectProblem(await t.api(`/transactions?${qs}`, { token: u.accessToken }), 400);
  });
});

describe('PUT /transactions/:id', () => {
  it('replaces a transaction and moves the balances from the old postings to the new ones', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { openingBalance: '100.00' });
    const b = await createAccount(t, u, { name: 'B' });
    const eur = await createAccount(t, u, { name: 'Euro', currency: 'EUR' });
    const tx = await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '10.00' });
    expect(await balanceOf(t, u, a.id)).toBe('90.00');

    let res = await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: a.id, type: 'income', amount: '15.00', date: '2026-11-03', notes: 'refund' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: tx.id, type: 'income', amount: '15.00', date: '2026-11-03', notes: 'refund', createdAt: tx.createdAt });
    expect(await balanceOf(t, u, a.id)).toBe('115.00');

    res = await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: b.id, type: 'transfer', amount: '5.00', toAccountId: eur.id, toAmount: '4.60', date: '2026-11-03' } });
    expect(res.status).toBe(200);
    expect([await balanceOf(t, u, a.id), await balanceOf(t, u, b.id), await balanceOf(t, u, eur.id)]).toEqual(['100.00', '-5.00', '4.60']);

    const events = (await eventsOf(t, u.id)).slice(-4);
    expect(events[0]).toMatchObject({ type: 'transaction.updated' });
    expect(events.slice(1).map((e) => (e.data as { accountId: string }).accountId).sort()).toEqual([a.id, b.id, eur.id].sort());
    expect(await t.db('audit_logs').where({ entity_id: tx.id, action: 'transaction.update' }).count<{ count: string }[]>('* as count')).toEqual([{ count: '2' }]);
  });

  it('rejects invalid bodies (400) and unknown ids (404) without changing anything', async () => {
    const a = await createAccount(t, alice, { openingBalance: '1.00' });
    const tx = await createTransaction(t, alice, { accountId: a.id, type: 'income', amount: '1.00' });
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: alice.accessToken, json: { accountId: a.id, type: 'income', amount: '1.001', date: '2026-11-01' } }), 400);
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: alice.accessToken, json: { amount: '2.00' } }), 400);
    await expectProblem(await t.api(`/transactions/${randomUUID()}`, { method: 'PUT', token: alice.accessToken, json: { accountId: a.id, type: 'income', amount: '1.00', date: '2026-11-01' } }), 404);
    expect(await balanceOf(t, alice, a.id)).toBe('2.00');
  });

  it('refuses to change a transaction of an archived account (409)', async () => {
    const a = await createAccount(t, alice);
    const tx = await createTransaction(t, alice, { accountId: a.id, type: 'income', amount: '1.00' });
    await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: alice.accessToken, json: { archived: true } });
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: alice.accessToken, json: { accountId: a.id, type: 'income', amount: '2.00', date: '2026-11-01' } }), 409, 'account_archived');
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: alice.accessToken }), 409, 'account_archived');
  });
});

describe('DELETE /transactions/:id and history', () => {
  it('deletes, restores the balance, publishes the events, and keeps the full history readable', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { openingBalance: '20.00' });
    const tx = await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '5.00' });
    await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: a.id, type: 'expense', amount: '6.00', date: '2026-11-01' } });
    const del = await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: u.accessToken });
    expect(del.status).toBe(204);
    expect(await balanceOf(t, u, a.id)).toBe('20.00');
    await expectProblem(await t.api(`/transactions/${tx.id}`, { token: u.accessToken }), 404);
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: u.accessToken }), 404);

    const events = await eventsOf(t, u.id);
    expect(events.slice(-2)).toEqual([
      expect.objectContaining({ type: 'transaction.deleted', data: { transaction: expect.objectContaining({ id: tx.id, amount: '6.00' }) } }),
      expect.objectContaining({ type: 'balance.updated', data: { accountId: a.id, balance: '20.00', currency: 'USD' } }),
    ]);

    const res = await t.api(`/transactions/${tx.id}/history`, { token: u.accessToken });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { version: number; action: string; actorId: string; at: string; before: Json | null; after: Json | null }[] };
    expect(data.map((v) => [v.version, v.action])).toEqual([
      [1, 'create'],
      [2, 'update'],
      [3, 'delete'],
    ]);
    expect(data.every((v) => v.actorId === u.id && typeof v.at === 'string')).toBe(true);
    expect(data[0]).toMatchObject({ before: null, after: tx });
    expect(data[1]).toMatchObject({ before: { amount: '5.00' }, after: { amount: '6.00' } });
    expect(data[2]).toMatchObject({ before: { amount: '6.00' }, after: null });
  });
});

describe('another user\u2019s transaction (BOLA)', () => {
  it('is 404 on GET, PUT, DELETE and history, and stays as it was', async () => {
    const a = await createAccount(t, alice, { openingBalance: '3.00' });
    const tx = await createTransaction(t, alice, { accountId: a.id, type: 'income', amount: '1.00' });
    const bobAccount = await createAccount(t, bob);
    await expectProblem(await t.api(`/transactions/${tx.id}`, { token: bob.accessToken }), 404);
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: bob.accessToken, json: { accountId: bobAccount.id, type: 'income', amount: '1.00', date: '2026-11-01' } }), 404);
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: bob.accessToken }), 404);
    await expectProblem(await t.api(`/transactions/${tx.id}/history`, { token: bob.accessToken }), 404);
    // Alice cannot move her transaction into Bob's account either.
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: alice.accessToken, json: { accountId: bobAccount.id, type: 'income', amount: '1.00', date: '2026-11-01' } }), 404);
    expect(await (await t.api(`/transactions/${tx.id}`, { token: alice.accessToken })).json()).toEqual(tx);
    expect(await balanceOf(t, alice, a.id)).toBe('4.00');
    expect(await balanceOf(t, bob, bobAccount.id)).toBe('0.00');
  });
});

describe('GET /transactions/export', () => {
  let u: TestUser;
  beforeAll(async () => {
    u = await registerAndLogin(t);
    const a = await createAccount(t, u, { name: '=HYPERLINK("x")' });
    await createTransaction(t, u, { accountId: a.id, type: 'income', amount: '12.50', date: '2026-09-01', notes: '=1+1' });
    await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '3.00', date: '2026-09-02', notes: 'plain, with "quotes"' });
    await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '1.00', date: '2026-10-02', notes: '@SUM(A1)' });
  });

  it('downloads CSV with a header row, every transaction, and formula cells neutralised', async () => {
    const res = await t.api('/transactions/export?format=csv', { token: u.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="numina-transactions-.*\.csv"/);
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('id,date,type,accountId,accountName,amount,currency,toAccountId,toAccountName,toAmount,toCurrency,categoryId,categoryName,notes,recurringId,createdAt,updatedAt');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(",'@SUM(A1),");
    expect(lines[3]).toContain(`,"'=HYPERLINK(""x"")",12.50,USD,`);
    expect(lines[3]).toContain(",'=1+1,");
    expect(lines[2]).toContain(',"plain, with ""quotes""",');
  });

  it('downloads JSON in the API shape, filtered by date range, and never another user\u2019s rows', async () => {
    const res = await t.api('/transactions/export?format=json&from=2026-09-01&to=2026-09-30', { token: u.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const rows = (await res.json()) as Json[];
    expect(rows.map((r) => [r.date, r.amount, r.notes])).toEqual([
      ['2026-09-02', '3.00', 'plain, with "quotes"'],
      ['2026-09-01', '12.50', '=1+1'],
    ]);
    const other = await t.api('/transactions/export?format=json', { token: bob.accessToken });
    const bobRows = (await other.json()) as Json[];
    expect(bobRows.some((r) => r.notes === '=1+1')).toBe(false);
  });

  it('writes an audit entry for each export, with its format and range', async () => {
    const res = await t.api('/transactions/export?format=json&from=2026-09-01', { token: u.accessToken });
    expect(res.status).toBe(200);
    await res.text();
    const logs = (await (await t.api('/audit/logs?action=transaction.export', { token: u.accessToken })).json()) as { data: { action: string; after: unknown }[] };
    expect(logs.data[0]).toMatchObject({ action: 'transaction.export', after: { format: 'json', from: '2026-09-01', to: null } });
  });

  it('exports an empty list as a header-only CSV and an empty JSON array', async () => {
    const fresh = await registerAndLogin(t);
    expect((await (await t.api('/transactions/export', { token: fresh.accessToken })).text()).trim().split('\n')).toHaveLength(1);
    expect(await (await t.api('/transactions/export?format=json', { token: fresh.accessToken })).json()).toEqual([]);
  });

  it('rejects an unknown format or a bad date with 400, and no token with 401', async () => {
    await expectProblem(await t.api('/transactions/export?format=xlsx', { token: u.accessToken }), 400);
    await expectProblem(await t.api('/transactions/export?from=yesterday', { token: u.accessToken }), 400);
    await expectProblem(await t.api('/transactions/export'), 401);
  });
});
