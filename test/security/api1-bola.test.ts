import { randomUUID } from 'node:crypto';
import type { RegisteredRoute } from '../../server/shared/http.js';
import { useTestApp, useUsers } from '../helpers/app.js';
import { createAccount, createTransaction, expectProblem, type Json } from '../helpers/ledger.js';
import { createNotification } from '../../server/notifications/index.js';
import { concretePath, routeLabel } from '../helpers/routes.js';

/**
 * OWASP API1:2023 Broken Object Level Authorization. Every route of the route registry with an
 * `:id` is called by Alice with Bob's id: the answer is 404 (never 403, which would say it
 * exists), and Bob's object is exactly as before. A new `:id` route without a fixture here fails
 * the test, so it cannot escape.
 */
const t = useTestApp();
const [alice, bob] = useUsers(t, 2);
let aliceAccount: Json;
beforeAll(async () => {
  aliceAccount = await createAccount(t, alice, { name: 'Alice own' });
});

/** How to make Bob's object behind a path prefix, read it back as Bob sees it, and a valid body for each write. */
interface Fixture {
  create(): Promise<string>;
  /** Bob's view of the object (compared before and after the attempts). */
  read(id: string): Promise<unknown>;
  bodies?: Partial<Record<RegisteredRoute['method'], () => unknown>>;
}

const bobGet = async (path: string) => {
  const res = await t.api(path, { token: bob.accessToken });
  return { status: res.status, body: await res.json() };
};

const FIXTURES: Record<string, Fixture> = {
  '/accounts/:id': {
    create: async () => (await createAccount(t, bob, { name: 'Bob private', openingBalance: '250.00' })).id,
    read: (id) => bobGet(`/accounts/${id}`),
    bodies: { patch: () => ({ name: 'Hijacked', archived: true }) },
  },
  '/categories/:id': {
    create: async () => {
      const res = await t.api('/categories', { method: 'POST', token: bob.accessToken, json: { name: `Bob ${randomUUID().slice(0, 8)}`, kind: 'expense' } });
      expect(res.status).toBe(201);
      return ((await res.json()) as Json).id;
    },
    read: (id) => bobGet(`/categories/${id}`),
    bodies: { patch: () => ({ name: 'Hijacked' }) },
  },
  '/transactions/:id': {
    create: async () => {
      const a = await createAccount(t, bob, { name: 'Bob tx account' });
      return (await createTransaction(t, bob, { accountId: a.id, type: 'expense', amount: '42.00', notes: 'private' })).id;
    },
    read: async (id) => ({ tx: await bobGet(`/transactions/${id}`), history: await bobGet(`/transactions/${id}/history`) }),
    // Alice's own account, so the body is valid and only ownership of the id is in question.
    bodies: { put: () => ({ accountId: aliceAccount.id, type: 'income', amount: '1.00', date: '2026-11-01' }) },
  },
  '/transactions/:id/history': {
    create: async () => FIXTURES['/transactions/:id'].create(),
    read: (id) => bobGet(`/transactions/${id}/history`),
  },
  '/auth/sessions/:id': {
    create: async () => {
      const sessions = (await (await t.api('/auth/sessions', { token: bob.accessToken })).json()) as { data: { id: string }[] };
      return sessions.data[0].id;
    },
    read: async () => ({ sessions: await bobGet('/auth/sessions'), stillLoggedIn: (await t.api('/users/me', { token: bob.accessToken })).status }),
  },
  '/budgets/:id': {
    create: async () => {
      const cat = ((await (await t.api('/categories', { method: 'POST', token: bob.accessToken, json: { name: `Bob budget ${randomUUID().slice(0, 8)}`, kind: 'expense' } })).json()) as Json).id;
      const res = await t.api('/budgets', { method: 'POST', token: bob.accessToken, json: { categoryId: cat, amount: '300.00', period: 'monthly' } });
      expect(res.status).toBe(201);
      return ((await res.json()) as Json).id;
    },
    read: (id) => bobGet(`/budgets/${id}`),
    bodies: { patch: () => ({ amount: '1.00' }) },
  },
  '/budgets/:id/history': {
    create: async () => FIXTURES['/budgets/:id'].create(),
    read: (id) => bobGet(`/budgets/${id}/history`),
  },
  '/goals/:id': {
    create: async () => {
      const a = await createAccount(t, bob, { name: 'Bob savings' });
      const res = await t.api('/goals', { method: 'POST', token: bob.accessToken, json: { name: 'Bob goal', targetAmount: '800.00', targetDate: '2030-12-31', accountIds: [a.id] } });
      expect(res.status).toBe(201);
      return ((await res.json()) as Json).id;
    },
    read: (id) => bobGet(`/goals/${id}`),
    bodies: { patch: () => ({ name: 'Hijacked' }) },
  },
  '/recurring/:id': {
    create: async () => {
      const a = await createAccount(t, bob, { name: 'Bob rent account' });
      const res = await t.api('/recurring', { method: 'POST', token: bob.accessToken, json: { accountId: a.id, type: 'expense', amount: '700.00', frequency: 'monthly', startDate: '2030-01-01' } });
      expect(res.status).toBe(201);
      return ((await res.json()) as Json).id;
    },
    read: (id) => bobGet(`/recurring/${id}`),
    bodies: { patch: () => ({ amount: '1.00' }) },
  },
  '/notifications/:id/read': {
    // Bob's own notification, stored the way features store them (inside a write's transaction).
    create: async () => t.db.transaction(async (trx) => (await createNotification(trx, bob.id, 'goal.achieved', { goalId: randomUUID(), name: 'Bob goal' }, t.clock.now())).id),
    read: async () => bobGet('/notifications?unread=true'),
  },
};

describe('API1 broken object level authorization', () => {
  const idRoutes = () => t.app.registry.routes.filter((r) => r.access === 'user' && r.path.includes(':'));

  it('has a fixture for every user route with an :id in the registry', () => {
    expect(idRoutes().length).toBeGreaterThanOrEqual(10);
    expect(idRoutes().filter((r) => !FIXTURES[r.path]).map(routeLabel)).toEqual([]);
  });

  it('answers 404 to every :id route called with another user\u2019s id, and leaves the object as it was', async () => {
    const wrong: string[] = [];
    for (const r of idRoutes()) {
      const fixture = FIXTURES[r.path];
      const id = await fixture.create();
      const before = await fixture.read(id);
      const makeBody = fixture.bodies?.[r.method];
      if (r.hasBody && !makeBody) {
        wrong.push(`${routeLabel(r)}: no valid body in the fixture (a 400 would hide the ownership check)`);
        continue;
      }
      const res = await t.api(concretePath(r, id), { method: r.method.toUpperCase(), token: alice.accessToken, json: makeBody?.() });
      const text = await res.text();
      if (res.status !== 404) wrong.push(`${routeLabel(r)} → ${res.status} ${text.slice(0, 100)}`);
      expect({ route: routeLabel(r), after: await fixture.read(id) }).toEqual({ route: routeLabel(r), after: before });
    }
    expect(wrong).toEqual([]);
  });

  it('answers 404 when a body or filter names another user\u2019s account or category', async () => {
    const bobAccount = await createAccount(t, bob, { name: 'Bob target' });
    const bobCategory = ((await (await t.api('/categories', { method: 'POST', token: bob.accessToken, json: { name: 'Bob cat', kind: 'expense' } })).json()) as Json).id;
    const base = { type: 'expense', amount: '5.00', date: '2026-11-01' };
    await expectProblem(await t.api('/transactions', { method: 'POST', token: alice.accessToken, json: { ...base, accountId: bobAccount.id } }), 404);
    await expectProblem(
      await t.api('/transactions', { method: 'POST', token: alice.accessToken, json: { ...base, type: 'transfer', accountId: aliceAccount.id, toAccountId: bobAccount.id } }),
      404,
    );
    await expectProblem(await t.api('/transactions', { method: 'POST', token: alice.accessToken, json: { ...base, accountId: aliceAccount.id, categoryId: bobCategory } }), 404);
    expect((await bobGet(`/accounts/${bobAccount.id}`)).body).toMatchObject({ balance: '0.00' });
    // A filter with Bob's id shows Alice nothing of Bob's.
    const filtered = (await (await t.api(`/transactions?accountId=${bobAccount.id}`, { token: alice.accessToken })).json()) as { data: unknown[] };
    expect(filtered.data).toEqual([]);
  });
});
