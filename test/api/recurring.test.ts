import { DateTime } from 'luxon';
import { startTestApp, useTestApp } from '../helpers/app.js';
import { balanceOf, categoryNamed, createAccount, eventsOf, expectProblem, type Json } from '../helpers/ledger.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { checkLedger } from '../../server/transactions/index.js';
import { eventually } from '../helpers/eventually.js';

/** Recurring rules over real PostgreSQL; only the clock is injected. */
const t = useTestApp({}, { clock: new Date('2026-06-15T12:00:00Z') });

/**
 * Moves the clock and logs the given users in again (access tokens last 15 minutes, so a test that
 * moves days ahead logs in again, as a client would).
 */
async function at(iso: string, ...users: TestUser[]): Promise<void> {
  t.clock.set(new Date(iso));
  for (const u of users) {
    const res = await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } });
    if (res.status !== 200) throw new Error(`login: ${res.status}`);
    u.accessToken = ((await res.json()) as { accessToken: string }).accessToken;
  }
}
const sweep = () => t.app.ctx.jobs.runNow('recurring.sweep') as Promise<{ rules: number; created: number }>;

async function postRule(u: TestUser, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return t.api('/recurring', { method: 'POST', token: u.accessToken, json: body, headers });
}
async function createRule(u: TestUser, body: Record<string, unknown>): Promise<Json> {
  const res = await postRule(u, body);
  if (res.status !== 201) throw new Error(`create rule: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}
async function getRule(u: TestUser, id: string): Promise<Json> {
  const res = await t.api(`/recurring/${id}`, { token: u.accessToken });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}
/** The dates of the account's transactions as the user lists them, oldest first. */
async function datesIn(u: TestUser, accountId: string): Promise<string[]> {
  const res = await t.api(`/transactions?accountId=${accountId}&limit=500`, { token: u.accessToken });
  const { data } = (await res.json()) as { data: { date: string }[] };
  return data.map((x) => x.date).reverse();
}
async function txIn(u: TestUser, accountId: string): Promise<Json[]> {
  const res = await t.api(`/transactions?accountId=${accountId}&limit=500`, { token: u.accessToken });
  return ((await res.json()) as { data: Json[] }).data.reverse();
}

describe('POST /recurring', () => {
  it('creates every past occurrence in the same request, as ordinary transactions with recurringId, events and audit entries', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u, { openingBalance: '1000.00' });
    const food = await categoryNamed(t, u, 'Food');
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '10.25', categoryId: food.id, notes: 'lunch', frequency: 'weekly', startDate: '2026-03-17' });
    // 17 Mar … 9 Jun: 13 Tuesdays up to today (15 Jun); the next is 16 Jun.
    expect(rule).toMatchObject({ status: 'active', nextDate: '2026-06-16', occurrencesCreated: 13, endedAt: null, endedReason: null, amount: '10.25', currency: 'USD', interval: 1 });
    const txs = await txIn(u, acc.id);
    expect(txs).toHaveLength(13);
    expect(txs.every((x) => x.recurringId === rule.id && x.amount === '10.25' && x.categoryId === food.id && x.notes === 'lunch')).toBe(true);
    expect(txs.map((x) => DateTime.fromISO(x.date as string).weekday)).toEqual(Array(13).fill(2));
    expect(await balanceOf(t, u, acc.id)).toBe('866.75');
    const events = await eventsOf(t, u.id);
    expect(events.filter((e) => e.type === 'transaction.created')).toHaveLength(13);
    // One balance.updated per account for the batch, carrying the final balance.
    const balanceEvents = events.filter((e) => e.type === 'balance.updated' && e.data.accountId === acc.id);
    expect(balanceEvents.at(-1)?.data).toMatchObject({ balance: '866.75', currency: 'USD' });
    expect(events.map((e) => Number(e.seq))).toEqual(events.map((_e, i) => Number(events[0].seq) + i));
    const audit = await t.db('audit_logs').where({ user_id: u.id, action: 'transaction.create' });
    expect(audit).toHaveLength(13);
    expect(audit.every((a) => a.actor_id === null)).toBe(true);
    expect(new Set(audit.map((a) => a.entity_id))).toEqual(new Set(txs.map((x) => x.id)));
    const verify = await t.app.ctx.audit.verify(t.db);
    expect(verify).toMatchObject({ ok: true });
    // A second sweep finds nothing more to do for this user.
    await sweep();
    expect((await getRule(u, rule.id)).occurrencesCreated).toBe(13);
    expect(await datesIn(u, acc.id)).toHaveLength(13);
  });

  it('replays the first response for a repeated Idempotency-Key and creates nothing new', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const body = { accountId: acc.id, type: 'income', amount: '5.00', frequency: 'daily', startDate: '2026-06-10' };
    const first = await postRule(u, body, { 'idempotency-key': 'rule-1' });
    const again = await postRule(u, body, { 'idempotency-key': 'rule-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as Json).id).toBe(((await first.json()) as Json).id);
    expect(await datesIn(u, acc.id)).toHaveLength(6);
    expect((await postRule(u, { ...body, amount: '6.00' }, { 'idempotency-key': 'rule-1' })).status).toBe(409);
  });

  it('supports transfers across currencies (toAmount)', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const usd = await createAccount(t, u, { currency: 'USD', openingBalance: '100.00' });
    const eur = await createAccount(t, u, { currency: 'EUR' });
    const rule = await createRule(u, { accountId: usd.id, type: 'transfer', toAccountId: eur.id, amount: '10.00', toAmount: '9.20', frequency: 'monthly', startDate: '2026-04-15' });
    expect(rule).toMatchObject({ occurrencesCreated: 3, toAmount: '9.20', toCurrency: 'EUR', nextDate: '2026-07-15' });
    expect(await balanceOf(t, u, usd.id)).toBe('70.00');
    expect(await balanceOf(t, u, eur.id)).toBe('27.60');
  });

  it('rejects bad input with 400 naming the field, and changes nothing', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const jpy = await createAccount(t, u, { currency: 'JPY' });
    const base = { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'monthly', startDate: '2026-01-01' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, endDate: '2025-12-31' }, 'body.endDate'],
      [{ ...base, endDate: '2026-12-31', count: 3 }, 'body.count'],
      [{ ...base, count: 0 }, 'body.count'],
      [{ ...base, interval: 0 }, 'body.interval'],
      [{ ...base, interval: 367 }, 'body.interval'],
      [{ ...base, frequency: 'hourly' }, 'body.frequency'],
      [{ ...base, startDate: '2016-06-14' }, 'body.startDate'],
      [{ ...base, startDate: '2026-02-30' }, 'body.startDate'],
      [{ ...base, amount: '1.001' }, 'body.amount'],
      [{ ...base, accountId: jpy.id, amount: '1.5' }, 'body.amount'],
      [{ ...base, amount: '-1.00' }, 'body.amount'],
      [{ ...base, type: 'transfer' }, 'body.toAccountId'],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await postRule(u, body), 400, 'validation_failed');
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    }
    // Ten years back exactly is still allowed.
    expect((await postRule(u, { ...base, frequency: 'yearly', startDate: '2016-06-15' })).status).toBe(201);
    expect(await datesIn(u, jpy.id)).toEqual([]);
  });

  it("answers 404 for another user's account or category", async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const other = await registerAndLogin(t);
    const mine = await createAccount(t, u);
    const theirs = await createAccount(t, other);
    const theirFood = await categoryNamed(t, other, 'Food');
    await expectProblem(await postRule(u, { accountId: theirs.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-01' }), 404, 'not_found');
    await expectProblem(await postRule(u, { accountId: mine.id, type: 'expense', amount: '1.00', categoryId: theirFood.id, frequency: 'daily', startDate: '2026-06-01' }), 404, 'not_found');
    expect((await t.api('/recurring?status=active', { token: u.accessToken }).then((r) => r.json())).data).toEqual([]);
    const rule = await createRule(other, { accountId: theirs.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-20' });
    expect((await t.api(`/recurring/${rule.id}`, { token: u.accessToken })).status).toBe(404);
    expect((await t.api(`/recurring/${rule.id}`, { method: 'PATCH', token: u.accessToken, json: { amount: '2.00' } })).status).toBe(404);
    expect((await t.api(`/recurring/${rule.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(404);
    expect((await getRule(other, rule.id)).status).toBe('active');
  });
});

describe('the calendar', () => {
  it('keeps a monthly rule on the 31st, falling on the last day of shorter months without drift', async () => {
    await at('2027-01-01T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    await createRule(u, { accountId: acc.id, type: 'income', amount: '1.00', frequency: 'monthly', startDate: '2024-01-31' });
    const dates = await datesIn(u, acc.id);
    expect(dates.slice(0, 6)).toEqual(['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30']);
    expect(dates.slice(12, 15)).toEqual(['2025-01-31', '2025-02-28', '2025-03-31']);
    expect(dates).toHaveLength(36);
    expect(dates[35]).toBe('2026-12-31');
  });

  it('puts 29 February on 28 February in common years and back on the 29th in leap years', async () => {
    await at('2032-03-01T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    await createRule(u, { accountId: acc.id, type: 'income', amount: '1.00', frequency: 'yearly', startDate: '2024-02-29' });
    expect(await datesIn(u, acc.id)).toEqual(['2024-02-29', '2025-02-28', '2026-02-28', '2027-02-28', '2028-02-29', '2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29']);
  });

  it('keeps the weekday every other week across daylight-saving changes', async () => {
    await at('2026-12-01T12:00:00Z');
    const u = await registerAndLogin(t, { timeZone: 'Europe/Berlin' });
    const acc = await createAccount(t, u);
    await createRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'weekly', interval: 2, startDate: '2026-03-20' });
    const dates = await datesIn(u, acc.id);
    expect(dates[0]).toBe('2026-03-20');
    expect(dates).toContain('2026-04-03'); // after the spring change (29 Mar)
    expect(dates).toContain('2026-10-30'); // after the autumn change (25 Oct)
    for (let i = 1; i < dates.length; i++) expect(DateTime.fromISO(dates[i]).diff(DateTime.fromISO(dates[i - 1]), 'days').days).toBe(14);
  });
});

describe('time zones on both sides of UTC midnight', () => {
  it('creates an occurrence when it is already its date in Pacific/Kiritimati but not yet in America/Adak', async () => {
    // 10:30 UTC on 10 March: 00:30 on 11 March in Kiritimati (UTC+14), 01:30 on 10 March in Adak (UTC−9, DST).
    await at('2026-03-10T10:30:00Z');
    const kiri = await registerAndLogin(t, { timeZone: 'Pacific/Kiritimati' });
    const adak = await registerAndLogin(t, { timeZone: 'America/Adak' });
    const kAcc = await createAccount(t, kiri);
    const aAcc = await createAccount(t, adak);
    const k = await createRule(kiri, { accountId: kAcc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-03-11' });
    const a = await createRule(adak, { accountId: aAcc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-03-11' });
    expect(k).toMatchObject({ occurrencesCreated: 1, nextDate: '2026-03-12' });
    expect(a).toMatchObject({ occurrencesCreated: 0, nextDate: '2026-03-11' });
    // 09:00 UTC on 11 March is still 10 March 23:00 in Adak: nothing yet.
    await at('2026-03-11T08:59:00Z', kiri, adak);
    await sweep();
    expect(await datesIn(adak, aAcc.id)).toEqual([]);
    // One minute past Adak's midnight (09:00 UTC) its occurrence is there; Kiritimati is at 23:01 on 11 March.
    await at('2026-03-11T09:01:00Z', kiri, adak);
    await sweep();
    expect(await datesIn(adak, aAcc.id)).toEqual(['2026-03-11']);
    expect(await datesIn(kiri, kAcc.id)).toEqual(['2026-03-11']);
    // One minute past Kiritimati's midnight (10:00 UTC) its 12 March occurrence follows.
    await at('2026-03-11T10:01:00Z', kiri, adak);
    await sweep();
    expect(await datesIn(kiri, kAcc.id)).toEqual(['2026-03-11', '2026-03-12']);
    expect(await datesIn(adak, aAcc.id)).toEqual(['2026-03-11']);
  });
});

describe('limits, PATCH and DELETE', () => {
  it('stops after count occurrences and at endDate, ending the rule with the reason', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const a1 = await createAccount(t, u);
    const a2 = await createAccount(t, u);
    const byCount = await createRule(u, { accountId: a1.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-10', count: 3 });
    expect(byCount).toMatchObject({ status: 'ended', endedReason: 'count_reached', nextDate: null, occurrencesCreated: 3 });
    expect(await datesIn(u, a1.id)).toEqual(['2026-06-10', '2026-06-11', '2026-06-12']);
    const byEnd = await createRule(u, { accountId: a2.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-14', endDate: '2026-06-17' });
    expect(byEnd).toMatchObject({ status: 'active', nextDate: '2026-06-16', occurrencesCreated: 2 });
    await at('2026-06-30T12:00:00Z', u);
    await sweep();
    expect(await getRule(u, byEnd.id)).toMatchObject({ status: 'ended', endedReason: 'end_date_passed', nextDate: null, occurrencesCreated: 4 });
    expect(await datesIn(u, a2.id)).toEqual(['2026-06-14', '2026-06-15', '2026-06-16', '2026-06-17']);
    const ended = await t.api('/recurring?status=ended', { token: u.accessToken }).then((r) => r.json());
    expect(ended.data.map((r: Json) => r.id).sort()).toEqual([byCount.id, byEnd.id].sort());
  });

  it('PATCH changes only future occurrences; a new cadence starts at the next occurrence', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '10.00', frequency: 'daily', startDate: '2026-06-13' });
    const res = await t.api(`/recurring/${rule.id}`, { method: 'PATCH', token: u.accessToken, json: { amount: '12.50', frequency: 'weekly', notes: 'gym' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ amount: '12.50', frequency: 'weekly', notes: 'gym', nextDate: '2026-06-16', occurrencesCreated: 3 });
    await at('2026-07-01T12:00:00Z', u);
    await sweep();
    const txs = await txIn(u, acc.id);
    expect(txs.map((x) => [x.date, x.amount])).toEqual([
      ['2026-06-13', '10.00'],
      ['2026-06-14', '10.00'],
      ['2026-06-15', '10.00'],
      ['2026-06-16', '12.50'],
      ['2026-06-23', '12.50'],
      ['2026-06-30', '12.50'],
    ]);
    const bad = await t.api(`/recurring/${rule.id}`, { method: 'PATCH', token: u.accessToken, json: { interval: 0 } });
    expect((await expectProblem(bad, 400)).errors?.map((e) => e.path)).toContain('body.interval');
    const audit = await t.db('audit_logs').where({ user_id: u.id, action: 'recurring.update', entity_id: rule.id });
    expect(audit).toHaveLength(1);
  });

  it('DELETE ends the rule (still readable, listed under status=ended), keeps past occurrences and creates no more', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-14' });
    expect((await t.api(`/recurring/${rule.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    expect(await getRule(u, rule.id)).toMatchObject({ status: 'ended', endedReason: 'deleted', nextDate: null, occurrencesCreated: 2 });
    expect(typeof (await getRule(u, rule.id)).endedAt).toBe('string');
    expect((await t.api('/recurring', { token: u.accessToken }).then((r) => r.json())).data).toEqual([]);
    expect((await t.api('/recurring?status=ended', { token: u.accessToken }).then((r) => r.json())).data.map((r: Json) => r.id)).toEqual([rule.id]);
    await at('2026-06-25T12:00:00Z', u);
    await sweep();
    expect(await datesIn(u, acc.id)).toEqual(['2026-06-14', '2026-06-15']);
    expect((await t.api(`/recurring/${rule.id}`, { method: 'PATCH', token: u.accessToken, json: { amount: '2.00' } })).status).toBe(409);
    expect((await t.api(`/recurring/${rule.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
  });

  it('never re-creates an occurrence the user deleted or edited', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-13' });
    const [first, second] = await txIn(u, acc.id);
    expect((await t.api(`/transactions/${first.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    const put = await t.api(`/transactions/${second.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: acc.id, type: 'expense', amount: '3.00', date: '2026-06-20' } });
    expect(put.status).toBe(200);
    await at('2026-06-16T12:00:00Z', u);
    await sweep();
    const txs = await txIn(u, acc.id);
    expect(txs.map((x) => [x.date, x.amount])).toEqual([
      ['2026-06-15', '1.00'],
      ['2026-06-16', '1.00'],
      ['2026-06-20', '3.00'],
    ]);
    expect((await getRule(u, rule.id)).occurrencesCreated).toBe(4);
  });
});

describe('a rule whose account or category goes away', () => {
  it('ends with account_archived and an audit entry instead of failing every sweep', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-15' });
    expect((await t.api(`/accounts/${acc.id}`, { method: 'PATCH', token: u.accessToken, json: { archived: true } })).status).toBe(200);
    await at('2026-06-18T12:00:00Z', u);
    await sweep();
    expect(await getRule(u, rule.id)).toMatchObject({ status: 'ended', endedReason: 'account_archived', nextDate: null, occurrencesCreated: 1 });
    expect(await datesIn(u, acc.id)).toEqual(['2026-06-15']);
    const audit = await t.db('audit_logs').where({ user_id: u.id, action: 'recurring.end', entity_id: rule.id });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor_id).toBeNull();
    expect(audit[0].after).toMatchObject({ endedReason: 'account_archived' });
    // Creating a rule on the archived account is refused like a transaction would be.
    await expectProblem(await postRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-18' }), 409, 'account_archived');
  });

  it('ends with category_deleted when its category is deleted', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const cat = await t.api('/categories', { method: 'POST', token: u.accessToken, json: { name: 'Gym', kind: 'expense' } }).then((r) => r.json());
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', categoryId: cat.id, frequency: 'daily', startDate: '2026-06-15' });
    expect((await t.api(`/categories/${cat.id}`, { method: 'DELETE', token: u.accessToken })).status).toBe(204);
    await at('2026-06-17T12:00:00Z', u);
    await sweep();
    expect(await getRule(u, rule.id)).toMatchObject({ status: 'ended', endedReason: 'category_deleted', occurrencesCreated: 1 });
    expect(await datesIn(u, acc.id)).toEqual(['2026-06-15']);
  });
});

describe('what the ledger derives', () => {
  it('moves budget totals and alerts, and goal progress, for occurrences as for a user\'s own write', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u, { openingBalance: '1000.00' });
    const food = await categoryNamed(t, u, 'Food');
    const budgetRes = await t.api('/budgets', { method: 'POST', token: u.accessToken, json: { categoryId: food.id, amount: '100.00', period: 'monthly' } });
    expect(budgetRes.status).toBe(201);
    const budget = (await budgetRes.json()) as Json;
    const goalRes = await t.api('/goals', { method: 'POST', token: u.accessToken, json: { name: 'Cushion', targetAmount: '2000.00', targetDate: '2027-06-01', accountIds: [acc.id] } });
    expect(goalRes.status).toBe(201);
    const goal = (await goalRes.json()) as Json;
    // Mondays 1, 8 and 15 June are due at once: 90.00 of a 100.00 budget, past its 80 % threshold.
    const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '30.00', categoryId: food.id, frequency: 'weekly', startDate: '2026-06-01' });
    expect(rule.occurrencesCreated).toBe(3);
    const b = (await (await t.api(`/budgets/${budget.id}`, { token: u.accessToken })).json()) as Json;
    expect([b.spent, b.remaining]).toEqual(['90.00', '10.00']);
    const notes = (await (await t.api('/notifications?limit=50', { token: u.accessToken })).json()) as { data: { type: string; payload: Record<string, unknown> }[] };
    expect(notes.data.filter((n) => n.type === 'budget.alert').map((n) => [n.payload.threshold, n.payload.spent])).toEqual([['0.8', '90.00']]);
    const events = await eventsOf(t, u.id);
    expect(events.filter((e) => e.type === 'budget.alert').map((e) => e.data.spent)).toEqual(['90.00']);
    expect(events.filter((e) => e.type === 'goal.progress').map((e) => [e.data.goalId, e.data.currentAmount]).pop()).toEqual([goal.id, '910.00']);
    // The stored running totals equal the expenses (the ledger's own check covers budgets too).
    expect(await checkLedger(t.db, { userId: u.id })).toMatchObject({ ok: true });
  });
});

describe('downtime and several instances', () => {
  it('creates the missing months when an instance starts after three months off', async () => {
    await at('2026-06-15T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    const rule = await createRule(u, { accountId: acc.id, type: 'income', amount: '100.00', frequency: 'monthly', startDate: '2026-06-01' });
    expect(rule.occurrencesCreated).toBe(1);
    // Every instance is off for three months; a new one starts (its start queues a sweep on the job
    // queue, which any running instance may take: they all share the same time).
    await at('2026-09-15T12:00:00Z', u);
    const later = await startTestApp({}, { clock: new Date('2026-09-15T12:00:00Z') });
    try {
      await eventually('the new instance to catch up three months', async () => (await datesIn(u, acc.id)).length >= 4, 30_000);
      expect(await datesIn(u, acc.id)).toEqual(['2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01']);
    } finally {
      await later.stop();
    }
  });

  it('catches up a user with more due occurrences than one sweep batch holds: every rule, every day, once', async () => {
    await at('2026-03-01T12:00:00Z');
    const u = await registerAndLogin(t);
    const acc = await createAccount(t, u);
    // 8 daily rules and one weekly, 60 days behind: ~500 due occurrences, more than two batches.
    const rules = [];
    for (let i = 0; i < 8; i++) rules.push(await createRule(u, { accountId: acc.id, type: 'expense', amount: '0.10', frequency: 'daily', startDate: '2026-03-01' }));
    rules.push(await createRule(u, { accountId: acc.id, type: 'income', amount: '5.00', frequency: 'weekly', startDate: '2026-03-01' }));
    await at('2026-04-30T12:00:00Z', u);
    await sweep();
    // 1 March – 30 April: 61 days; Sundays from 1 March: 9.
    for (const [i, r] of rules.entries()) {
      await eventually('rule caught up', async () => (await getRule(u, String(r.id))).occurrencesCreated === (i < 8 ? 61 : 9), 60_000);
    }
    const all = await txIn(u, acc.id);
    expect(all).toHaveLength(8 * 61 + 9);
    expect(new Set(all.map((x) => `${String(x.recurringId)}|${String(x.date)}`)).size).toBe(8 * 61 + 9);
    expect(await balanceOf(t, u, acc.id)).toBe('-3.80'); // 488 × 0.10 − 9 × 5.00
  });

  it('two instances sweeping the same database at once create every occurrence once, without errors', async () => {
    await at('2026-06-15T12:00:00Z');
    const second = await startTestApp({}, { clock: new Date('2026-06-15T12:00:00Z') });
    try {
      const users = await Promise.all([0, 1, 2].map(() => registerAndLogin(t)));
      const accounts: { u: TestUser; id: string; ruleId: string }[] = [];
      for (const u of users) {
        for (let i = 0; i < 4; i++) {
          const acc = await createAccount(t, u);
          const rule = await createRule(u, { accountId: acc.id, type: 'expense', amount: '1.00', frequency: 'daily', startDate: '2026-06-15' });
          accounts.push({ u, id: acc.id, ruleId: rule.id });
        }
      }
      await at('2026-07-15T12:00:00Z', ...users);
      second.clock.set(new Date('2026-07-15T12:00:00Z'));
      // Promise.all rejects if any run fails: no run may end in an error.
      await Promise.all([
        t.app.ctx.jobs.runNow('recurring.sweep'),
        second.app.ctx.jobs.runNow('recurring.sweep'),
        t.app.ctx.jobs.runNow('recurring.sweep'),
        second.app.ctx.jobs.runNow('recurring.sweep'),
      ]);
      // Which run took which rule is not asserted: an instance's own queued sweep (its catch-up at
      // start) may hold some rules (SKIP LOCKED) and still be committing when these return, so the
      // outcome is judged by what each user sees once every rule has caught up — every day once.
      for (const a of accounts) {
        await eventually('rule caught up', async () => (await getRule(a.u, a.ruleId)).occurrencesCreated === 31, 60_000);
        const dates = await datesIn(a.u, a.id);
        expect(dates).toHaveLength(31);
        expect(new Set(dates).size).toBe(31);
        expect(await balanceOf(t, a.u, a.id)).toBe('-31.00');
      }
      // A PATCH racing a sweep: no duplicate, no error.
      await at('2026-08-15T12:00:00Z', ...users);
      second.clock.set(new Date('2026-08-15T12:00:00Z'));
      const a = accounts[0];
      const [patched] = await Promise.all([
        t.api(`/recurring/${a.ruleId}`, { method: 'PATCH', token: a.u.accessToken, json: { amount: '2.00' } }),
        second.app.ctx.jobs.runNow('recurring.sweep'),
      ]);
      expect(patched.status).toBe(200);
      const dates = await datesIn(a.u, a.id);
      expect(dates).toHaveLength(62);
      expect(new Set(dates).size).toBe(62);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
