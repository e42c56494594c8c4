import { randomUUID } from 'node:crypto';
import { useTestApp, useUsers } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { createAccount, createTransaction, expectProblem, postTransaction } from '../helpers/ledger.js';

const t = useTestApp();
const [alice, bob] = useUsers(t, 2);

describe('POST /accounts', () => {
  it('creates an account whose balance starts at the opening balance, with the currency precision', async () => {
    const res = await t.api('/accounts', { method: 'POST', token: alice.accessToken, json: { name: 'Savings', type: 'bank', currency: 'EUR', openingBalance: '100.5' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      id: expect.any(String),
      name: 'Savings',
      type: 'bank',
      currency: 'EUR',
      balance: '100.50',
      openingBalance: '100.50',
      archived: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('defaults the opening balance to zero and accepts a negative one for a credit card', async () => {
    expect((await createAccount(t, alice, { type: 'cash', currency: 'JPY' })).balance).toBe('0');
    expect((await createAccount(t, alice, { type: 'credit', openingBalance: '-250.00' })).balance).toBe('-250.00');
  });

  it.each([
    ['an unknown type', { name: 'X', type: 'crypto', currency: 'USD' }],
    ['an unknown currency', { name: 'X', type: 'bank', currency: 'XYZ' }],
    ['a lowercase currency', { name: 'X', type: 'bank', currency: 'usd' }],
    ['an empty name', { name: '  ', type: 'bank', currency: 'USD' }],
    ['a missing name', { type: 'bank', currency: 'USD' }],
    ['an opening balance as a JSON number', { name: 'X', type: 'bank', currency: 'USD', openingBalance: 10 }],
    ['an opening balance finer than the currency allows', { name: 'X', type: 'bank', currency: 'USD', openingBalance: '1.001' }],
    ['fractional yen', { name: 'X', type: 'bank', currency: 'JPY', openingBalance: '1.5' }],
    ['an exponent', { name: 'X', type: 'bank', currency: 'USD', openingBalance: '1e3' }],
    ['an unknown field', { name: 'X', type: 'bank', currency: 'USD', balance: '1000000.00' }],
  ])('rejects %s with 400', async (_label, json) => {
    const res = await t.api('/accounts', { method: 'POST', token: alice.accessToken, json });
    const problem = await expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.length).toBeGreaterThan(0);
  });

  it('requires a bearer token', async () => {
    await expectProblem(await t.api('/accounts', { method: 'POST', json: { name: 'X', type: 'bank', currency: 'USD' } }), 401);
  });

  it('writes an audit entry for the creation', async () => {
    const a = await createAccount(t, alice, { name: 'Audited' });
    const row = await t.db('audit_logs').where({ entity_id: a.id, action: 'account.create' }).first();
    expect(row).toMatchObject({ user_id: alice.id, actor_id: alice.id, entity_type: 'account' });
  });
});

describe('GET /accounts', () => {
  it('lists only the caller\u2019s accounts, with balances, in pages', async () => {
    const u = await registerAndLogin(t);
    for (const name of ['A', 'B', 'C']) await createAccount(t, u, { name, openingBalance: '1.00' });
    const first = await t.api('/accounts?limit=2', { token: u.accessToken });
    expect(first.status).toBe(200);
    const p1 = (await first.json()) as { data: { name: string; balance: string }[]; nextCursor: string };
    expect(p1.data.map((a) => a.name)).toEqual(['A', 'B']);
    expect(p1.data[0].balance).toBe('1.00');
    const p2 = (await (await t.api(`/accounts?limit=2&cursor=${p1.nextCursor}`, { token: u.accessToken })).json()) as { data: { name: string }[]; nextCursor: null };
    expect(p2).toEqual({ data: [expect.objectContaining({ name: 'C' })], nextCursor: null });
  });

  it('rejects a limit above 500 and a forged cursor with 400', async () => {
    await expectProblem(await t.api('/accounts?limit=501', { token: alice.accessToken }), 400);
    await expectProblem(await t.api('/accounts?cursor=not-a-cursor', { token: alice.accessToken }), 400);
  });
});

describe('GET/PATCH/DELETE /accounts/:id', () => {
  it('gets, renames and archives an account', async () => {
    const a = await createAccount(t, alice);
    expect((await (await t.api(`/accounts/${a.id}`, { token: alice.accessToken })).json()).name).toBe('Checking');
    const res = await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: alice.accessToken, json: { name: 'Main', archived: true } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: a.id, name: 'Main', archived: true });
  });

  it('never changes the currency or balance through PATCH (400)', async () => {
    const a = await createAccount(t, alice);
    await expectProblem(await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: alice.accessToken, json: { currency: 'EUR' } }), 400);
    await expectProblem(await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: alice.accessToken, json: { balance: '5.00' } }), 400);
  });

  it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
    await expectProblem(await t.api('/accounts/123', { token: alice.accessToken }), 400);
    await expectProblem(await t.api(`/accounts/${randomUUID()}`, { token: alice.accessToken }), 404, 'not_found');
  });

  it('refuses new transactions on an archived account (409) and takes them again once unarchived', async () => {
    const a = await createAccount(t, alice);
    await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: alice.accessToken, json: { archived: true } });
    const res = await postTransaction(t, alice, { accountId: a.id, type: 'income', amount: '1.00', date: '2026-11-01' });
    await expectProblem(res, 409, 'account_archived');
    await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: alice.accessToken, json: { archived: false } });
    expect((await postTransaction(t, alice, { accountId: a.id, type: 'income', amount: '1.00', date: '2026-11-01' })).status).toBe(201);
  });

  it('deletes an account without transactions (204), then it is gone', async () => {
    const a = await createAccount(t, alice);
    expect((await t.api(`/accounts/${a.id}`, { method: 'DELETE', token: alice.accessToken })).status).toBe(204);
    await expectProblem(await t.api(`/accounts/${a.id}`, { token: alice.accessToken }), 404);
  });

  it('refuses to delete an account that still has transactions (409), and allows it once they are deleted', async () => {
    const a = await createAccount(t, alice);
    const tx = await createTransaction(t, alice, { accountId: a.id, type: 'expense', amount: '3.00' });
    await expectProblem(await t.api(`/accounts/${a.id}`, { method: 'DELETE', token: alice.accessToken }), 409, 'account_has_transactions');
    expect((await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: alice.accessToken })).status).toBe(204);
    expect((await t.api(`/accounts/${a.id}`, { method: 'DELETE', token: alice.accessToken })).status).toBe(204);
  });

  it('answers 404 to another user on every verb and leaves the account untouched (BOLA)', async () => {
    const a = await createAccount(t, alice, { name: 'Private', openingBalance: '10.00' });
    await expectProblem(await t.api(`/accounts/${a.id}`, { token: bob.accessToken }), 404);
    await expectProblem(await t.api(`/accounts/${a.id}`, { method: 'PATCH', token: bob.accessToken, json: { name: 'Mine now' } }), 404);
    await expectProblem(await t.api(`/accounts/${a.id}`, { method: 'DELETE', token: bob.accessToken }), 404);
    const list = (await (await t.api('/accounts?limit=500', { token: bob.accessToken })).json()) as { data: { id: string }[] };
    expect(list.data.map((x) => x.id)).not.toContain(a.id);
    expect(await (await t.api(`/accounts/${a.id}`, { token: alice.accessToken })).json()).toMatchObject({ name: 'Private', balance: '10.00' });
  });
});
