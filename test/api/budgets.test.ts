import { checkBudgetTotals } from '../../server/budgets/index.js';
import { useTestApp } from '../helpers/app.js';
import { categoryNamed, createAccount, createTransaction, expectProblem, postTransaction, type Json } from '../helpers/ledger.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';

// Friday 2026-11-20, noon UTC.
const t = useTestApp({}, { clock: new Date('2026-11-20T12:00:00Z') });

async function createBudget(u: TestUser, body: Record<string, unknown>): Promise<Json> {
  const res = await t.api('/budgets', { method: 'POST', token: u.accessToken, json: body });
  if (res.status !== 201) throw new Error(`create budget: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

async function getBudget(u: TestUser, id: string): Promise<Json> {
  const res = await t.api(`/budgets/${id}`, { token: u.accessToken });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function alerts(u: TestUser): Promise<Record<string, unknown>[]> {
  const res = await t.api('/notifications?limit=500', { token: u.accessToken });
  expect(res.status).toBe(200);
  const { data } = (await res.json()) as { data: { type: string; payload: Record<string, unknown> }[] };
  return data.filter((n) => n.type === 'budget.alert').map((n) => n.payload);
}

async function setup(overrides: { timeZone?: string } = {}) {
  const u = await registerAndLogin(t, overrides);
  const acc = await createAccount(t, u, { openingBalance: '1000.00' });
  const food = await categoryNamed(t, u, 'Food');
  return { u, acc, food };
}

describe('budgets', () => {
  it('creates a monthly budget showing the current period in the user currency', async () => {
    const { u, food } = await setup();
    const b = await createBudget(u, { categoryId: food.id, amount: '100.00', period: 'monthly' });
    expect(b).toEqual({
      id: expect.any(String),
      categoryId: food.id,
      amount: '100.00',
      currency: 'USD',
      period: 'monthly',
      thresholds: ['0.8', '1'],
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      spent: '0.00',
      remaining: '100.00',
      progress: '0.0000',
      missingRates: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await getBudget(u, b.id)).toEqual(b);
    const list = (await (await t.api('/budgets', { token: u.accessToken })).json()) as { data: Json[]; nextCursor: null };
    expect(list).toEqual({ data: [b], nextCursor: null });
  });

  it('counts the expenses already on the ledger when the budget is created, and only this period', async () => {
    const { u, acc, food } = await setup();
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '12.10', date: '2026-11-02', categoryId: food.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '0.20', date: '2026-11-30', categoryId: food.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '99.00', date: '2026-10-31', categoryId: food.id });
    const b = await createBudget(u, { categoryId: food.id, amount: '40.00', period: 'monthly', thresholds: ['1', '0.25'] });
    expect([b.spent, b.remaining, b.progress, b.thresholds]).toEqual(['12.30', '27.70', '0.3075', ['0.25', '1']]);
    // Created over the line: a creation raises no alert by itself.
    expect(await alerts(u)).toEqual([]);
  });

  it('alerts once per threshold when expenses cross it upward, with exact amounts', async () => {
    const { u, acc, food } = await setup();
    const b = await createBudget(u, { categoryId: food.id, amount: '100.00', period: 'monthly' });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '50.00', date: '2026-11-20', categoryId: food.id });
    expect(await alerts(u)).toEqual([]);
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '31.25', date: '2026-11-19', categoryId: food.id });
    expect(await getBudget(u, b.id)).toMatchObject({ spent: '81.25', remaining: '18.75', progress: '0.8125' });
    const base = { budgetId: b.id, categoryId: food.id, categoryName: 'Food', period: 'monthly', periodStart: '2026-11-01', amount: '100.00', currency: 'USD' };
    expect(await alerts(u)).toEqual([{ ...base, spent: '81.25', threshold: '0.8' }]);
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '18.75', date: '2026-11-20', categoryId: food.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '0.01', date: '2026-11-20', categoryId: food.id });
    expect(await getBudget(u, b.id)).toMatchObject({ spent: '100.01', remaining: '-0.01', progress: '1.0001' });
    expect(await alerts(u)).toEqual([
      { ...base, spent: '100.00', threshold: '1' },
      { ...base, spent: '81.25', threshold: '0.8' },
    ]);
  });

  it('alerts when an update raises spent, not when one lowers it, and never twice in a period', async () => {
    const { u, acc, food } = await setup();
    const b = await createBudget(u, { categoryId: food.id, amount: '50.00', period: 'monthly', thresholds: ['0.5'] });
    const tx = await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '10.00', date: '2026-11-20', categoryId: food.id });
    const put = (amount: string) =>
      t.api(`/transactions/${tx.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: acc.id, type: 'expense', amount, date: '2026-11-20', categoryId: food.id } });
    expect((await put('30.00')).status).toBe(200);
    expect((await alerts(u)).map((a) => [a.spent, a.threshold])).toEqual([['30.00', '0.5']]);
    expect((await put('5.00')).status).toBe(200);
    expect((await getBudget(u, b.id)).spent).toBe('5.00');
    expect((await put('45.00')).status).toBe(200);
    expect((await getBudget(u, b.id)).spent).toBe('45.00');
    expect(await alerts(u)).toHaveLength(1);
    const del = await t.api(`/transactions/${tx.id}`, { method: 'DELETE', token: u.accessToken });
    expect(del.status).toBe(204);
    expect((await getBudget(u, b.id)).spent).toBe('0.00');
  });

  it('counts neither incomes nor transfers nor other categories, nor a past period; a change to a past period raises nothing', async () => {
    const { u, acc, food } = await setup();
    const salary = await categoryNamed(t, u, 'Salary');
    const rent = await categoryNamed(t, u, 'Rent');
    const savings = await createAccount(t, u, { name: 'Savings' });
    const b = await createBudget(u, { categoryId: food.id, amount: '10.00', period: 'monthly' });
    await createTransaction(t, u, { accountId: acc.id, type: 'income', amount: '500.00', date: '2026-11-20', categoryId: salary.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'transfer', amount: '300.00', date: '2026-11-20', toAccountId: savings.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '300.00', date: '2026-11-20', categoryId: rent.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '300.00', date: '2026-11-20' });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '300.00', date: '2026-10-20', categoryId: food.id });
    expect(await getBudget(u, b.id)).toMatchObject({ spent: '0.00', progress: '0.0000' });
    expect(await alerts(u)).toEqual([]);
    const history = (await (await t.api(`/budgets/${b.id}/history?periods=3`, { token: u.accessToken })).json()) as { data: Json[] };
    expect(history).toEqual({
      budgetId: b.id,
      period: 'monthly',
      currency: 'USD',
      data: [
        { periodStart: '2026-09-01', periodEnd: '2026-09-30', amount: '10.00', spent: '0.00', remaining: '10.00', progress: '0.0000', missingRates: [] },
        { periodStart: '2026-10-01', periodEnd: '2026-10-31', amount: '10.00', spent: '300.00', remaining: '-290.00', progress: '30.0000', missingRates: [] },
        { periodStart: '2026-11-01', periodEnd: '2026-11-30', amount: '10.00', spent: '0.00', remaining: '10.00', progress: '0.0000', missingRates: [] },
      ],
    });
  });

  it('leaves a foreign-currency expense out of spent and lists the missing rate (never 1:1)', async () => {
    const { u, acc, food } = await setup();
    // Exchange rates are shared by all users: a currency no test gives a rate.
    const eur = await createAccount(t, u, { name: 'Koruna', currency: 'CZK', openingBalance: '100.00' });
    const b = await createBudget(u, { categoryId: food.id, amount: '10.00', period: 'monthly' });
    await createTransaction(t, u, { accountId: eur.id, type: 'expense', amount: '9.00', date: '2026-11-03', categoryId: food.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '1.50', date: '2026-11-03', categoryId: food.id });
    expect(await getBudget(u, b.id)).toMatchObject({ spent: '1.50', progress: '0.1500', missingRates: [{ from: 'CZK', to: 'USD', date: '2026-11-20' }] });
    expect(await alerts(u)).toEqual([]);
  });

  it('converts a foreign-currency expense with the stored rate on read, so a later rate moves spent but never raises an alert', async () => {
    const { u, acc, food } = await setup();
    await t.db('users').where({ id: u.id }).update({ role: 'admin' });
    const putRate = (rate: string) => t.api('/rates', { method: 'PUT', token: u.accessToken, json: { base: 'EUR', quote: 'USD', date: '2026-11-01', rate } });
    expect([200, 201]).toContain((await putRate('1.1')).status);
    const eur = await createAccount(t, u, { name: 'Euro', currency: 'EUR', openingBalance: '100.00' });
    const b = await createBudget(u, { categoryId: food.id, amount: '20.00', period: 'monthly' });
    await createTransaction(t, u, { accountId: eur.id, type: 'expense', amount: '9.00', date: '2026-11-03', categoryId: food.id });
    await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '1.50', date: '2026-11-03', categoryId: food.id });
    // 9.00 EUR × 1.1 = 9.90 USD, + 1.50 = 11.40.
    expect(await getBudget(u, b.id)).toMatchObject({ spent: '11.40', remaining: '8.60', progress: '0.5700', missingRates: [] });
    expect([200, 201]).toContain((await putRate('1.8')).status);
    // 9 × 1.8 = 16.20 + 1.50 = 17.70: past 0.8 × 20 on read, but alerts are decided at write time only.
    expect(await getBudget(u, b.id)).toMatchObject({ spent: '17.70', progress: '0.8850' });
    expect(await alerts(u)).toEqual([]);
  });

  it('20 concurrent expenses that together cross both thresholds raise exactly one alert per threshold', async () => {
    const { u, food } = await setup();
    const accounts = await Promise.all([0, 1, 2, 3].map((i) => createAccount(t, u, { name: `A${i}`, openingBalance: '100.00' })));
    const b = await createBudget(u, { categoryId: food.id, amount: '100.00', period: 'monthly' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postTransaction(t, u, { accountId: accounts[i % 4].id, type: 'expense', amount: '5.00', date: '2026-11-20', categoryId: food.id })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect((await getBudget(u, b.id)).spent).toBe('100.00');
    expect((await alerts(u)).map((a) => [a.threshold, a.spent]).sort()).toEqual([
      ['0.8', '80.00'],
      ['1', '100.00'],
    ]);
    expect(await checkBudgetTotals(t.db, { userId: u.id })).toEqual({ ok: true, budgetsChecked: 1, mismatches: [] });
  });

  it('cuts weekly periods at Monday midnight in the user time zone', async () => {
    // 2026-11-22 12:00 UTC is Sunday in UTC but already Monday 01:00 on 2026-11-23 in Auckland.
    t.clock.set(new Date('2026-11-22T12:00:00Z'));
    try {
      const nz = await setup({ timeZone: 'Pacific/Auckland' });
      const utc = await setup();
      for (const s of [nz, utc]) {
        await createTransaction(t, s.u, { accountId: s.acc.id, type: 'expense', amount: '7.00', date: '2026-11-22', categoryId: s.food.id });
        await createTransaction(t, s.u, { accountId: s.acc.id, type: 'expense', amount: '3.00', date: '2026-11-23', categoryId: s.food.id });
      }
      const bNz = await createBudget(nz.u, { categoryId: nz.food.id, amount: '20.00', period: 'weekly' });
      const bUtc = await createBudget(utc.u, { categoryId: utc.food.id, amount: '20.00', period: 'weekly' });
      expect([bNz.periodStart, bNz.periodEnd, bNz.spent]).toEqual(['2026-11-23', '2026-11-29', '3.00']);
      expect([bUtc.periodStart, bUtc.periodEnd, bUtc.spent]).toEqual(['2026-11-16', '2026-11-22', '7.00']);
      // An expense on the Auckland Monday crosses 0.8 for the NZ user (3 + 13 = 16 = 0.8 × 20) ...
      await createTransaction(t, nz.u, { accountId: nz.acc.id, type: 'expense', amount: '13.00', date: '2026-11-23', categoryId: nz.food.id });
      expect((await alerts(nz.u)).map((a) => [a.periodStart, a.spent, a.threshold])).toEqual([['2026-11-23', '16.00', '0.8']]);
      // ... while for the UTC user it lands in next week, not the current one: no alert.
      await createTransaction(t, utc.u, { accountId: utc.acc.id, type: 'expense', amount: '13.00', date: '2026-11-23', categoryId: utc.food.id });
      expect(await alerts(utc.u)).toEqual([]);
      expect((await getBudget(utc.u, bUtc.id)).spent).toBe('7.00');
    } finally {
      t.clock.set(new Date('2026-11-20T12:00:00Z'));
    }
  });

  it('keeps running totals equal to a full recomputation through creates, moves between categories and periods, and deletes', async () => {
    const { u, acc, food } = await setup();
    const rent = await categoryNamed(t, u, 'Rent');
    await createBudget(u, { categoryId: food.id, amount: '100.00', period: 'monthly' });
    await createBudget(u, { categoryId: food.id, amount: '30.00', period: 'weekly' });
    await createBudget(u, { categoryId: rent.id, amount: '900.00', period: 'monthly' });
    const dates = ['2026-10-31', '2026-11-01', '2026-11-16', '2026-11-20', '2026-09-07'];
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const tx = await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: `${i + 1}.${i}5`, date: dates[i % 5], categoryId: i % 3 ? food.id : rent.id });
      ids.push(tx.id);
    }
    for (const [i, id] of ids.entries()) {
      if (i % 4 === 0) await t.api(`/transactions/${id}`, { method: 'DELETE', token: u.accessToken });
      else if (i % 4 === 1)
        await t.api(`/transactions/${id}`, { method: 'PUT', token: u.accessToken, json: { accountId: acc.id, type: 'expense', amount: '2.22', date: dates[(i + 2) % 5], categoryId: i % 2 ? rent.id : food.id } });
      else if (i % 4 === 2) await t.api(`/transactions/${id}`, { method: 'PUT', token: u.accessToken, json: { accountId: acc.id, type: 'expense', amount: '3.00', date: '2026-11-18' } });
    }
    expect(await checkBudgetTotals(t.db, { userId: u.id })).toEqual({ ok: true, budgetsChecked: 3, mismatches: [] });
  });

  it('changes amount and thresholds, deletes, and refuses duplicates and bad input naming the field', async () => {
    const { u, food } = await setup();
    const salary = await categoryNamed(t, u, 'Salary');
    const b = await createBudget(u, { categoryId: food.id, amount: '100.00', period: 'monthly' });
    await expectProblem(await t.api('/budgets', { method: 'POST', token: u.accessToken, json: { categoryId: food.id, amount: '5.00', period: 'monthly' } }), 409, 'budget_exists');
    const cases: [Record<string, unknown>, string][] = [
      [{ categoryId: salary.id, amount: '5.00', period: 'monthly' }, 'body.categoryId'],
      [{ categoryId: food.id, amount: '5.001', period: 'weekly' }, 'body.amount'],
      [{ categoryId: food.id, amount: 5, period: 'weekly' }, 'body.amount'],
      [{ categoryId: food.id, amount: '0.00', period: 'weekly' }, 'body.amount'],
      [{ categoryId: food.id, amount: '5.00', period: 'daily' }, 'body.period'],
      [{ categoryId: food.id, amount: '5.00', period: 'weekly', thresholds: ['2.5'] }, 'body.thresholds.0'],
      [{ categoryId: food.id, amount: '5.00', period: 'weekly', thresholds: ['0.5', '0.50'] }, 'body.thresholds'],
      [{ categoryId: food.id, amount: '5.00', period: 'weekly', thresholds: [0.5] }, 'body.thresholds.0'],
      [{ categoryId: 'nope', amount: '5.00', period: 'weekly' }, 'body.categoryId'],
    ];
    for (const [body, path] of cases) {
      const p = await expectProblem(await t.api('/budgets', { method: 'POST', token: u.accessToken, json: body }), 400, 'validation_failed');
      expect(p.errors?.map((e) => e.path)).toContain(path);
    }
    const patched = await t.api(`/budgets/${b.id}`, { method: 'PATCH', token: u.accessToken, json: { amount: '80.00', thresholds: ['0.9', '0.5'] } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ amount: '80.00', thresholds: ['0.5', '0.9'], remaining: '80.00' });
    const bad = await expectProblem(await t.api(`/budgets/${b.id}`, { method: 'PATCH', token: u.accessToken, json: { period: 'weekly' } }), 400);
    expect(bad.errors?.[0].path).toBe('body');
    expect((await t.api(`/budgets/${b.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    expect((await t.api(`/budgets/${b.id}`, { token: u.accessToken })).status).toBe(404);
    // Only budgets were listed; the three bad bodies created nothing.
    expect(((await (await t.api('/budgets', { token: u.accessToken })).json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("answers 404 on every verb for another user's budget and category", async () => {
    const { u, food } = await setup();
    const other = await registerAndLogin(t);
    const b = await createBudget(u, { categoryId: food.id, amount: '100.00', period: 'monthly' });
    const o = other.accessToken;
    await expectProblem(await t.api(`/budgets/${b.id}`, { token: o }), 404, 'not_found');
    await expectProblem(await t.api(`/budgets/${b.id}/history`, { token: o }), 404, 'not_found');
    await expectProblem(await t.api(`/budgets/${b.id}`, { method: 'PATCH', token: o, json: { amount: '1.00' } }), 404, 'not_found');
    await expectProblem(await t.api(`/budgets/${b.id}`, { method: 'DELETE', token: o }), 404, 'not_found');
    await expectProblem(await t.api('/budgets', { method: 'POST', token: o, json: { categoryId: food.id, amount: '1.00', period: 'weekly' } }), 404, 'not_found');
    expect(((await (await t.api('/budgets', { token: o })).json()) as { data: unknown[] }).data).toEqual([]);
    expect(await getBudget(u, b.id)).toMatchObject({ amount: '100.00' });
  });
});
