import { useTestApp } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { closeAllSockets, connectLive } from '../helpers/sockets.js';

const t = useTestApp();
afterEach(() => closeAllSockets());

async function account(user: TestUser, openingBalance: string, currency = 'USD'): Promise<{ id: string }> {
  const res = await t.api('/accounts', { method: 'POST', token: user.accessToken, json: { name: `Acc ${openingBalance}`, type: 'bank', currency, openingBalance } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

describe('ledger changes as live events', () => {
  it('a POST /transactions produces transaction.created then balance.updated, after commit', async () => {
    const user = await registerAndLogin(t);
    const acc = await account(user, '100.00');
    const socket = await connectLive(t, user.accessToken);
    const res = await t.api('/transactions', {
      method: 'POST',
      token: user.accessToken,
      json: { accountId: acc.id, type: 'expense', amount: '25.50', date: '2026-11-20', notes: 'groceries' },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown>;

    const events = await socket.waitForEvents(2);
    expect(events.map((e) => e.type)).toEqual(['transaction.created', 'balance.updated']);
    expect(events[1].seq).toBe(events[0].seq + 1);
    expect(events[0].data).toEqual({ transaction: created });
    expect(events[1].data).toEqual({ accountId: acc.id, balance: '74.50', currency: 'USD' });
  });

  it('updates and deletes produce transaction.updated and transaction.deleted with the new balances', async () => {
    const user = await registerAndLogin(t);
    const acc = await account(user, '10.00');
    const socket = await connectLive(t, user.accessToken);
    const body = { accountId: acc.id, type: 'income', amount: '5.00', date: '2026-11-20' };
    const created = (await (await t.api('/transactions', { method: 'POST', token: user.accessToken, json: body })).json()) as { id: string };
    const put = await t.api(`/transactions/${created.id}`, { method: 'PUT', token: user.accessToken, json: { ...body, amount: '7.25' } });
    expect(put.status).toBe(200);
    const del = await t.api(`/transactions/${created.id}`, { method: 'DELETE', token: user.accessToken });
    expect(del.status).toBe(204);

    const events = await socket.waitForEvents(6);
    expect(events.map((e) => [e.type, e.type === 'balance.updated' ? e.data.balance : (e.data.transaction as { amount: string }).amount])).toEqual([
      ['transaction.created', '5.00'],
      ['balance.updated', '15.00'],
      ['transaction.updated', '7.25'],
      ['balance.updated', '17.25'],
      ['transaction.deleted', '7.25'],
      ['balance.updated', '10.00'],
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6].map((n) => events[0].seq + n - 1));
  });

  it('a rejected POST /transactions sends nothing, and another user sees none of it', async () => {
    const user = await registerAndLogin(t);
    const other = await registerAndLogin(t);
    const acc = await account(user, '1.00');
    const mine = await connectLive(t, user.accessToken);
    const theirs = await connectLive(t, other.accessToken);
    const bad = await t.api('/transactions', { method: 'POST', token: user.accessToken, json: { accountId: acc.id, type: 'expense', amount: '1.001', date: '2026-11-20' } });
    expect(bad.status).toBe(400);
    const foreign = await t.api('/transactions', { method: 'POST', token: other.accessToken, json: { accountId: acc.id, type: 'expense', amount: '1.00', date: '2026-11-20' } });
    expect(foreign.status).toBe(404);
    const ok = await t.api('/transactions', { method: 'POST', token: user.accessToken, json: { accountId: acc.id, type: 'expense', amount: '0.40', date: '2026-11-20' } });
    expect(ok.status).toBe(201);
    const events = await mine.waitForEvents(2);
    expect(events.map((e) => e.type)).toEqual(['transaction.created', 'balance.updated']);
    expect(events[1].data).toEqual({ accountId: acc.id, balance: '0.60', currency: 'USD' });
    // The other user's own change arrives on their socket, and it is the only thing that did.
    const theirAcc = await account(other, '3.00');
    const own = await t.api('/transactions', { method: 'POST', token: other.accessToken, json: { accountId: theirAcc.id, type: 'income', amount: '1.00', date: '2026-11-20' } });
    expect(own.status).toBe(201);
    const theirEvents = await theirs.waitForEvents(2);
    expect(theirEvents.map((e) => e.type)).toEqual(['transaction.created', 'balance.updated']);
    expect(theirEvents[1].data).toEqual({ accountId: theirAcc.id, balance: '4.00', currency: 'USD' });
    expect(mine.events).toHaveLength(2);
  });
});
