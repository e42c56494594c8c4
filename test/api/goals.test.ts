import { useTestApp } from '../helpers/app.js';
import { createAccount, createTransaction, expectProblem, type Json } from '../helpers/ledger.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';

const t = useTestApp({}, { clock: new Date('2026-11-20T12:00:00Z') });

async function createGoal(u: TestUser, body: Record<string, unknown>): Promise<Json> {
  const res = await t.api('/goals', { method: 'POST', token: u.accessToken, json: body });
  if (res.status !== 201) throw new Error(`create goal: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

async function getGoal(u: TestUser, id: string): Promise<Json> {
  const res = await t.api(`/goals/${id}`, { token: u.accessToken });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function notifications(u: TestUser, type: string) {
  const { data } = (await (await t.api('/notifications?limit=500', { token: u.accessToken })).json()) as { data: { type: string; payload: Record<string, unknown> }[] };
  return data.filter((n) => n.type === type).map((n) => n.payload);
}

describe('goals', () => {
  it('computes current amount, progress, requiredPerMonth, pace and projectedDate exactly', async () => {
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u, { openingBalance: '400.00' });
    const g = await createGoal(u, { name: 'Car', targetAmount: '1000.00', targetDate: '2027-05-20', accountIds: [acc.id] });
    expect(g).toEqual({
      id: expect.any(String),
      name: 'Car',
      targetAmount: '1000.00',
      currency: 'USD',
      targetDate: '2027-05-20',
      accountIds: [acc.id],
      currentAmount: '400.00',
      progress: '0.4000',
      remaining: '600.00',
      requiredPerMonth: '100.00',
      onTrack: false,
      projectedDate: null,
      achievedAt: null,
      missingRates: [],
      unlinkedAccounts: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // Older than 90 days: counts toward the balance, not toward the pace.
    await createTransaction(t, u, { accountId: acc.id, type: 'income', amount: '100.00', date: '2026-08-01' });
    await createTransaction(t, u, { accountId: acc.id, type: 'income', amount: '330.00', date: '2026-11-01' });
    // 830 of 1000: 170 left over 6 months → 28.34 (28.333… rounded up); pace 330 per 90 days → 110/month.
    expect(await getGoal(u, g.id)).toMatchObject({
      currentAmount: '830.00',
      progress: '0.8300',
      remaining: '170.00',
      requiredPerMonth: '28.34',
      onTrack: true,
      // 170 / (330 / 90) = 46.36 → 47 days after 2026-11-20.
      projectedDate: '2027-01-06',
      achievedAt: null,
    });
  });

  it('asks for the whole remainder once the target date has passed, and is then not on track', async () => {
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u, { openingBalance: '250.00' });
    await createTransaction(t, u, { accountId: acc.id, type: 'income', amount: '50.00', date: '2026-11-10' });
    const g = await createGoal(u, { name: 'Late', targetAmount: '1000.00', targetDate: '2026-10-31', accountIds: [acc.id] });
    expect(g).toMatchObject({ currentAmount: '300.00', remaining: '700.00', requiredPerMonth: '700.00', onTrack: false, projectedDate: '2030-05-03' });
    // 700 / (50 / 90) = 1260 days after 2026-11-20.
  });

  it('sets achievedAt the first time the target is reached, notifies once, and keeps it after a withdrawal', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { openingBalance: '60.00' });
    const b = await createAccount(t, u, { name: 'Savings', openingBalance: '30.00' });
    const g = await createGoal(u, { name: 'Trip', targetAmount: '100.00', targetDate: '2027-01-31', accountIds: [a.id, b.id] });
    expect(g).toMatchObject({ currentAmount: '90.00', achievedAt: null });
    await createTransaction(t, u, { accountId: b.id, type: 'income', amount: '10.00', date: '2026-11-20' });
    const reached = await getGoal(u, g.id);
    expect(reached).toMatchObject({ currentAmount: '100.00', progress: '1.0000', remaining: '0.00', requiredPerMonth: '0.00', onTrack: true, projectedDate: null, });
    expect(typeof reached.achievedAt).toBe('string');
    await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '45.50', date: '2026-11-20' });
    await createTransaction(t, u, { accountId: a.id, type: 'income', amount: '80.00', date: '2026-11-20' });
    await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '80.00', date: '2026-11-20' });
    expect(await getGoal(u, g.id)).toMatchObject({ currentAmount: '54.50', progress: '0.5450', remaining: '45.50', achievedAt: reached.achievedAt });
    expect(await notifications(u, 'goal.achieved')).toEqual([{ goalId: g.id, name: 'Trip', targetAmount: '100.00', currentAmount: '100.00', currency: 'USD' }]);
  });

  it('leaves a balance without a rate out and lists it; an archived or deleted account leaves the goal, which says so', async () => {
    const u = await registerAndLogin(t);
    const usd = await createAccount(t, u, { openingBalance: '10.00' });
    // Exchange rates are shared by all users: a currency no other test gives a rate.
    const eur = await createAccount(t, u, { name: 'Koruna', currency: 'CZK', openingBalance: '500.00' });
    const spare = await createAccount(t, u, { name: 'Spare', openingBalance: '1.00' });
    const g = await createGoal(u, { name: 'Mixed', targetAmount: '100.00', targetDate: '2027-11-20', accountIds: [usd.id, eur.id, spare.id] });
    expect(g).toMatchObject({ currentAmount: '11.00', missingRates: [{ from: 'CZK', to: 'USD', date: '2026-11-20' }] });
    const archive = await t.api(`/accounts/${eur.id}`, { method: 'PATCH', token: u.accessToken, json: { archived: true } });
    expect(archive.status).toBe(200);
    expect((await t.api(`/accounts/${spare.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    const after = await getGoal(u, g.id);
    expect(after).toMatchObject({
      accountIds: [usd.id],
      currentAmount: '10.00',
      missingRates: [],
      unlinkedAccounts: [
        { accountId: eur.id, reason: 'archived', at: expect.any(String) },
        { accountId: spare.id, reason: 'deleted', at: expect.any(String) },
      ],
    });
    await expectProblem(await t.api('/goals', { method: 'POST', token: u.accessToken, json: { name: 'x', targetAmount: '1.00', targetDate: '2027-01-01', accountIds: [eur.id] } }), 409, 'account_archived');
  });

  it('an account may serve several goals; PATCH replaces accounts and target', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { openingBalance: '20.00' });
    const b = await createAccount(t, u, { name: 'B', openingBalance: '5.00' });
    const g1 = await createGoal(u, { name: 'One', targetAmount: '100.00', targetDate: '2027-11-20', accountIds: [a.id] });
    const g2 = await createGoal(u, { name: 'Two', targetAmount: '50.00', targetDate: '2027-11-20', accountIds: [a.id] });
    const res = await t.api(`/goals/${g2.id}`, { method: 'PATCH', token: u.accessToken, json: { accountIds: [b.id], targetAmount: '10.00', name: 'Two bis' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'Two bis', accountIds: [b.id], currentAmount: '5.00', progress: '0.5000' });
    expect(await getGoal(u, g1.id)).toMatchObject({ accountIds: [a.id], currentAmount: '20.00' });
    const list = (await (await t.api('/goals', { token: u.accessToken })).json()) as { data: Json[] };
    expect(list.data.map((g) => g.name)).toEqual(['One', 'Two bis']);
    expect((await t.api(`/goals/${g1.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    expect((await t.api(`/goals/${g1.id}`, { token: u.accessToken })).status).toBe(404);
  });

  it("answers 404 for another user's goal on every verb and for linking another user's account; 400 names the field", async () => {
    const u = await registerAndLogin(t);
    const other = await registerAndLogin(t);
    const mine = await createAccount(t, u, { openingBalance: '1.00' });
    const theirs = await createAccount(t, other, { openingBalance: '1.00' });
    const g = await createGoal(u, { name: 'Mine', targetAmount: '10.00', targetDate: '2027-01-01', accountIds: [mine.id] });
    const o = other.accessToken;
    await expectProblem(await t.api(`/goals/${g.id}`, { token: o }), 404, 'not_found');
    await expectProblem(await t.api(`/goals/${g.id}`, { method: 'PATCH', token: o, json: { name: 'x' } }), 404, 'not_found');
    await expectProblem(await t.api(`/goals/${g.id}`, { method: 'DELETE', token: o }), 404, 'not_found');
    await expectProblem(await t.api('/goals', { method: 'POST', token: u.accessToken, json: { name: 'x', targetAmount: '1.00', targetDate: '2027-01-01', accountIds: [theirs.id] } }), 404, 'not_found');
    await expectProblem(await t.api(`/goals/${g.id}`, { method: 'PATCH', token: u.accessToken, json: { accountIds: [mine.id, theirs.id] } }), 404, 'not_found');
    expect(((await (await t.api('/goals', { token: o })).json()) as { data: unknown[] }).data).toEqual([]);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '', targetAmount: '1.00', targetDate: '2027-01-01', accountIds: [mine.id] }, 'body.name'],
      [{ name: 'x', targetAmount: 1, targetDate: '2027-01-01', accountIds: [mine.id] }, 'body.targetAmount'],
      [{ name: 'x', targetAmount: '1.001', targetDate: '2027-01-01', accountIds: [mine.id] }, 'body.targetAmount'],
      [{ name: 'x', targetAmount: '100', currency: 'JPY', targetDate: '2027-02-30', accountIds: [mine.id] }, 'body.targetDate'],
      [{ name: 'x', targetAmount: '1.00', targetDate: '2027-01-01', accountIds: [] }, 'body.accountIds'],
      [{ name: 'x', targetAmount: '1.00', targetDate: '2027-01-01', accountIds: ['nope'] }, 'body.accountIds.0'],
      [{ name: 'x', targetAmount: '1.00', currency: 'XXX1', targetDate: '2027-01-01', accountIds: [mine.id] }, 'body.currency'],
    ];
    for (const [body, path] of cases) {
      const p = await expectProblem(await t.api('/goals', { method: 'POST', token: u.accessToken, json: body }), 400, 'validation_failed');
      expect(p.errors?.map((e) => e.path)).toContain(path);
    }
    expect(((await (await t.api('/goals', { token: u.accessToken })).json()) as { data: unknown[] }).data).toHaveLength(1);
    expect(await getGoal(u, g.id)).toMatchObject({ name: 'Mine', accountIds: [mine.id] });
  });
});
