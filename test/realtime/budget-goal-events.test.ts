import { systemWrite } from '../../server/shared/write-context.js';
import { useTestApp } from '../helpers/app.js';
import { categoryNamed, createAccount } from '../helpers/ledger.js';
import { registerAndLogin } from '../helpers/users.js';
import { closeAllSockets, connectLive } from '../helpers/sockets.js';

const t = useTestApp({}, { clock: new Date('2026-11-20T12:00:00Z') });
afterEach(() => closeAllSockets());

describe('budget.alert and goal.progress as live events', () => {
  it('an expense crossing a threshold on a goal account sends budget.alert and goal.progress after commit; a rolled-back one sends nothing', async () => {
    const user = await registerAndLogin(t);
    const acc = await createAccount(t, user, { openingBalance: '200.00' });
    const food = await categoryNamed(t, user, 'Food');
    const budget = (await (await t.api('/budgets', { method: 'POST', token: user.accessToken, json: { categoryId: food.id, amount: '50.00', period: 'monthly' } })).json()) as { id: string };
    const goal = (await (
      await t.api('/goals', { method: 'POST', token: user.accessToken, json: { name: 'Buffer', targetAmount: '400.00', targetDate: '2027-06-30', accountIds: [acc.id] } })
    ).json()) as { id: string };
    const socket = await connectLive(t, user.accessToken);

    // A write that rolls back after the listeners ran: its alert, notification and events vanish with it.
    const ledger = t.app.services!.ledger;
    await expect(
      t.db.transaction(async (trx) => {
        await ledger.createInTrx(trx, systemWrite(user.id), { accountId: acc.id, type: 'expense', amount: '45.00', date: '2026-11-20', categoryId: food.id });
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');

    const res = await t.api('/transactions', { method: 'POST', token: user.accessToken, json: { accountId: acc.id, type: 'expense', amount: '40.00', date: '2026-11-20', categoryId: food.id } });
    expect(res.status).toBe(201);
    const events = await socket.waitForEvents(4);
    expect(events.map((e) => e.type)).toEqual(['transaction.created', 'balance.updated', 'budget.alert', 'goal.progress']);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3].map((i) => events[0].seq + i));
    expect(events[2].data).toEqual({ budgetId: budget.id, categoryId: food.id, period: 'monthly', periodStart: '2026-11-01', spent: '40.00', amount: '50.00', currency: 'USD', threshold: '0.8' });
    expect(events[3].data).toEqual({ goalId: goal.id, currentAmount: '160.00', currency: 'USD', progress: '0.4000', achieved: false });
    const { data } = (await (await t.api('/notifications', { token: user.accessToken })).json()) as { data: { type: string; payload: { spent: string } }[] };
    expect(data.map((n) => [n.type, n.payload.spent])).toEqual([['budget.alert', '40.00']]);
  });

  it('an income reaching the goal sends goal.progress with achieved true; another user receives none of it', async () => {
    const user = await registerAndLogin(t);
    const other = await registerAndLogin(t);
    const acc = await createAccount(t, user, { openingBalance: '90.00' });
    const goal = (await (
      await t.api('/goals', { method: 'POST', token: user.accessToken, json: { name: 'Hundred', targetAmount: '100.00', targetDate: '2027-06-30', accountIds: [acc.id] } })
    ).json()) as { id: string };
    const mine = await connectLive(t, user.accessToken);
    const theirs = await connectLive(t, other.accessToken);
    const res = await t.api('/transactions', { method: 'POST', token: user.accessToken, json: { accountId: acc.id, type: 'income', amount: '10.00', date: '2026-11-20' } });
    expect(res.status).toBe(201);
    const events = await mine.waitForEvents(3);
    expect(events[2]).toMatchObject({ type: 'goal.progress', data: { goalId: goal.id, currentAmount: '100.00', currency: 'USD', progress: '1.0000', achieved: true } });
    // The other user's own event is the first and only one they get.
    const theirAcc = await createAccount(t, other, { openingBalance: '1.00' });
    await t.api('/transactions', { method: 'POST', token: other.accessToken, json: { accountId: theirAcc.id, type: 'income', amount: '1.00', date: '2026-11-20' } });
    const got = await theirs.waitForEvents(2);
    expect(got.map((e) => e.type)).toEqual(['transaction.created', 'balance.updated']);
  });
});
