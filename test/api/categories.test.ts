import { randomUUID } from 'node:crypto';
import { up as backfill } from '../../migrations/20261125002500_backfill_default_categories.js';
import { useTestApp, useUsers } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { categoryNamed, createAccount, createTransaction, expectProblem, postTransaction } from '../helpers/ledger.js';

const t = useTestApp();
const [alice, bob] = useUsers(t, 2);

type Cat = { id: string; name: string; kind: string };

describe('default categories', () => {
  it('gives every new user the default set with income and expense kinds', async () => {
    const res = await t.api('/categories?limit=500', { token: alice.accessToken });
    expect(res.status).toBe(200);
    const { data, nextCursor } = (await res.json()) as { data: Cat[]; nextCursor: null };
    expect(nextCursor).toBeNull();
    const kinds = Object.fromEntries(data.map((c) => [c.name, c.kind]));
    expect(kinds).toMatchObject({
      Salary: 'income',
      Food: 'expense',
      Rent: 'expense',
      Transport: 'expense',
      Utilities: 'expense',
      Entertainment: 'expense',
      Health: 'expense',
      Shopping: 'expense',
      Other: 'expense',
    });
  });

  it('back-fills the defaults for users who existed before categories (data migration), leaving their own alone', async () => {
    const [old] = await t.db('users').insert({ email: `old-${randomUUID()}@example.com` }).returning('id');
    await t.db('categories').insert({ user_id: old.id, name: 'food', kind: 'expense' });
    await backfill(t.db);
    const rows: { name: string; kind: string }[] = await t.db('categories').where({ user_id: old.id }).select('name', 'kind');
    const names = rows.map((r) => r.name.toLowerCase()).sort();
    expect(names).toEqual(['entertainment', 'food', 'health', 'other', 'other income', 'rent', 'salary', 'shopping', 'transport', 'utilities']);
    expect(rows.find((r) => r.name === 'food')).toBeDefined();
  });
});

describe('POST/PATCH/DELETE /categories', () => {
  it('creates a category (201) and lists it, filtered by kind', async () => {
    const res = await t.api('/categories', { method: 'POST', token: alice.accessToken, json: { name: 'Freelance', kind: 'income' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: expect.any(String), name: 'Freelance', kind: 'income', createdAt: expect.any(String), updatedAt: expect.any(String) });
    const incomes = (await (await t.api('/categories?kind=income', { token: alice.accessToken })).json()) as { data: Cat[] };
    expect(incomes.data.map((c) => c.name)).toContain('Freelance');
    expect(incomes.data.every((c) => c.kind === 'income')).toBe(true);
  });

  it('rejects a name the user already has, whatever its case (409)', async () => {
    await expectProblem(await t.api('/categories', { method: 'POST', token: alice.accessToken, json: { name: 'fOOD', kind: 'expense' } }), 409, 'category_exists');
    const other = (await (await t.api('/categories', { method: 'POST', token: alice.accessToken, json: { name: 'Pets', kind: 'expense' } })).json()) as Cat;
    await expectProblem(await t.api(`/categories/${other.id}`, { method: 'PATCH', token: alice.accessToken, json: { name: 'food' } }), 409, 'category_exists');
  });

  it('lets another user have the same name', async () => {
    expect((await t.api('/categories', { method: 'POST', token: bob.accessToken, json: { name: 'Freelance', kind: 'income' } })).status).toBe(201);
  });

  it.each([
    ['an unknown kind', { name: 'X', kind: 'transfer' }],
    ['an empty name', { name: '', kind: 'expense' }],
    ['a name over 60 characters', { name: 'x'.repeat(61), kind: 'expense' }],
    ['an unknown field', { name: 'X', kind: 'expense', userId: randomUUID() }],
  ])('rejects %s with 400', async (_l, json) => {
    await expectProblem(await t.api('/categories', { method: 'POST', token: alice.accessToken, json }), 400, 'validation_failed');
  });

  it('renames a category and changes the kind of an unused one', async () => {
    const c = (await (await t.api('/categories', { method: 'POST', token: alice.accessToken, json: { name: 'Gifts', kind: 'expense' } })).json()) as Cat;
    const res = await t.api(`/categories/${c.id}`, { method: 'PATCH', token: alice.accessToken, json: { name: 'Gifts received', kind: 'income' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: c.id, name: 'Gifts received', kind: 'income' });
  });

  it('refuses to change the kind of a category transactions use (409)', async () => {
    const a = await createAccount(t, alice);
    const food = await categoryNamed(t, alice, 'Food');
    await createTransaction(t, alice, { accountId: a.id, type: 'expense', amount: '4.00', categoryId: food.id });
    await expectProblem(await t.api(`/categories/${food.id}`, { method: 'PATCH', token: alice.accessToken, json: { kind: 'income' } }), 409, 'category_in_use');
  });

  it('deletes a category and leaves its transactions uncategorised, with a version and an audit entry', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u);
    const c = (await (await t.api('/categories', { method: 'POST', token: u.accessToken, json: { name: 'Hobby', kind: 'expense' } })).json()) as Cat;
    const tx = await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '9.99', categoryId: c.id });
    expect((await t.api(`/categories/${c.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    expect(await (await t.api(`/transactions/${tx.id}`, { token: u.accessToken })).json()).toMatchObject({ id: tx.id, categoryId: null, amount: '9.99' });
    const history = (await (await t.api(`/transactions/${tx.id}/history`, { token: u.accessToken })).json()) as { data: { action: string; before: { categoryId: string }; after: { categoryId: string | null } }[] };
    expect(history.data.map((v) => v.action)).toEqual(['create', 'update']);
    expect(history.data[1].before.categoryId).toBe(c.id);
    expect(history.data[1].after.categoryId).toBeNull();
    const audit = await t.db('audit_logs').where({ action: 'category.delete', entity_id: c.id }).first();
    expect(audit.after).toEqual({ uncategorisedTransactionIds: [tx.id] });
    await expectProblem(await t.api(`/categories/${c.id}`, { token: u.accessToken }), 404);
  });

  it('refuses a transaction whose category kind does not match its type (400)', async () => {
    const a = await createAccount(t, alice);
    const salary = await categoryNamed(t, alice, 'Salary');
    const res = await postTransaction(t, alice, { accountId: a.id, type: 'expense', amount: '1.00', date: '2026-11-01', categoryId: salary.id });
    const problem = await expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.[0].path).toBe('body.categoryId');
  });

  it('answers 404 to another user on every verb (BOLA)', async () => {
    const food = await categoryNamed(t, alice, 'Food');
    await expectProblem(await t.api(`/categories/${food.id}`, { token: bob.accessToken }), 404);
    await expectProblem(await t.api(`/categories/${food.id}`, { method: 'PATCH', token: bob.accessToken, json: { name: 'Mine' } }), 404);
    await expectProblem(await t.api(`/categories/${food.id}`, { method: 'DELETE', token: bob.accessToken }), 404);
    const bobAccount = await createAccount(t, bob);
    await expectProblem(await postTransaction(t, bob, { accountId: bobAccount.id, type: 'expense', amount: '1.00', date: '2026-11-01', categoryId: food.id }), 404);
    expect((await categoryNamed(t, alice, 'Food')).id).toBe(food.id);
  });

  it('requires a bearer token', async () => {
    await expectProblem(await t.api('/categories'), 401);
  });
});
