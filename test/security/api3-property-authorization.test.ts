import { randomUUID } from 'node:crypto';
import type { RegisteredRoute } from '../../server/shared/http.js';
import { useTestApp, useUsers, type TestApp } from '../helpers/app.js';
import { createAccount, createTransaction, expectProblem, type Json } from '../helpers/ledger.js';
import { concretePath, routeLabel } from '../helpers/routes.js';
import { registerAndLogin, totpCode, uniqueEmail, type TestUser } from '../helpers/users.js';

/**
 * OWASP API3:2023 Broken Object Property Level Authorization.
 * - Mass assignment: fields a client must not set (role, email, owner, balance, currency, ids)
 *   are refused with 400 and change nothing.
 * - Excessive data exposure: no response of any GET route in the registry, nor of the auth flows,
 *   carries a field named like a secret or a hash, except the contract's own allow-list; and no
 *   value is a password hash or the user's password.
 */
const t = useTestApp();
const [u, bob] = useUsers(t, 2);
let account: Json;
let tx: Json;
beforeAll(async () => {
  account = await createAccount(t, u, { openingBalance: '100.00' });
  tx = await createTransaction(t, u, { accountId: account.id, type: 'expense', amount: '10.00' });
});

const SECRET_LIKE = /pass(word)?|hash|secret|token|salt|totp|otp|recovery|_enc$|encrypted|private.?key|api.?key|cvv|\bpin\b/i;
/** The contract's own secret-bearing fields, and where each may appear. */
const ALLOWED: Record<string, string[]> = {
  'POST /auth/login': ['accessToken', 'refreshToken', 'tokenType'],
  'POST /auth/refresh': ['accessToken', 'refreshToken', 'tokenType'],
  'POST /auth/2fa/setup': ['secret', 'otpauthUrl'],
  'POST /auth/2fa/enable': ['recoveryCodes'],
};
/** Names that only look secret: what each one is. */
const HARMLESS: Record<string, string> = {
  passwordRehashed: 'a boolean in the login audit entry (was an old hash upgraded)',
};

/** Every key of a JSON value, at any depth, with its path. */
function keysOf(value: unknown, path = '$'): { key: string; path: string; value: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysOf(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [{ key: k, path: `${path}.${k}`, value: v }, ...keysOf(v, `${path}.${k}`)]);
  return [];
}

function exposures(label: string, body: unknown, password: string): string[] {
  const allowed = new Set(ALLOWED[label] ?? []);
  const found: string[] = [];
  for (const { key, path, value } of keysOf(body)) {
    if (SECRET_LIKE.test(key) && !allowed.has(key) && !HARMLESS[key]) found.push(`${label} ${path}`);
    if (typeof value === 'string' && (/^\$argon2|^\$2[aby]\$|^[0-9a-f]{64}$/.test(value) || value === password)) found.push(`${label} ${path} holds a hash or the password`);
  }
  return found;
}

describe('API3 excessive data exposure', () => {
  it('no GET route of the registry answers with a secret-like field or value', async () => {
    const ids: Record<string, string> = { '/accounts/:id': account.id, '/categories/:id': '', '/transactions/:id': tx.id, '/transactions/:id/history': tx.id };
    const categories = (await (await t.api('/categories', { token: u.accessToken })).json()) as { data: Json[] };
    ids['/categories/:id'] = categories.data[0].id;
    const expense = categories.data.find((c) => c.kind === 'expense')!;
    const created = async (path: string, json: unknown) => {
      const res = await t.api(path, { method: 'POST', token: u.accessToken, json });
      expect(res.status).toBe(201);
      return ((await res.json()) as Json).id as string;
    };
    ids['/budgets/:id'] = await created('/budgets', { categoryId: expense.id, amount: '250.00', period: 'monthly' });
    ids['/budgets/:id/history'] = ids['/budgets/:id'];
    ids['/goals/:id'] = await created('/goals', { name: 'Exposure goal', targetAmount: '500.00', targetDate: '2030-12-31', accountIds: [account.id] });
    ids['/recurring/:id'] = await created('/recurring', { accountId: account.id, type: 'expense', amount: '5.00', frequency: 'monthly', startDate: '2030-01-01' });
    // Make the audit log and session list non-trivial first.
    await t.api('/users/me', { method: 'PATCH', token: u.accessToken, json: { name: 'Exposed?' } });
    const admin = await registerAndLogin(t);
    await t.db('users').where({ id: admin.id }).update({ role: 'admin' });
    const found: string[] = [];
    const gets = t.app.registry.routes.filter((r: RegisteredRoute) => r.method === 'get' && !['/openapi.json', '/docs', '/metrics'].includes(r.path));
    expect(gets.length).toBeGreaterThan(8);
    for (const r of gets) {
      if (r.path.includes(':') && !ids[r.path]) {
        found.push(`${routeLabel(r)}: no id to call it with (add one here)`);
        continue;
      }
      const caller = r.access === 'admin' ? admin : u;
      const res = await t.api(concretePath(r, ids[r.path] ?? ''), { token: caller.accessToken });
      expect([routeLabel(r), res.status]).toEqual([routeLabel(r), 200]);
      const text = await res.text();
      found.push(...exposures(routeLabel(r), res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, caller.password));
      if (text.includes(caller.password) || text.includes(caller.refreshToken)) found.push(`${routeLabel(r)} echoes the password or refresh token`);
    }
    expect(found).toEqual([]);
  });

  it('the auth flows answer only the contract\u2019s own secrets, each where it belongs', async () => {
    const email = uniqueEmail();
    const password = `Exposure-check-${randomUUID()}`;
    const found: string[] = [];
    const call = async (label: string, path: string, init: Parameters<TestApp['api']>[1]) => {
      const res = await t.api(path, init);
      const body = res.status === 204 ? null : await res.json();
      found.push(...exposures(label, body, password));
      return body as Record<string, unknown>;
    };
    await call('POST /auth/register', '/auth/register', { method: 'POST', json: { email, password } });
    const tokens = await call('POST /auth/login', '/auth/login', { method: 'POST', json: { email, password } });
    const access = tokens.accessToken as string;
    const setup = await call('POST /auth/2fa/setup', '/auth/2fa/setup', { method: 'POST', token: access });
    const enabled = await call('POST /auth/2fa/enable', '/auth/2fa/enable', { method: 'POST', token: access, json: { code: totpCode(setup.secret as string, t.clock.now()), password } });
    expect(enabled.recoveryCodes).toHaveLength(10);
    await call('GET /users/me', '/users/me', { token: access });
    await call('GET /auth/sessions', '/auth/sessions', { token: access });
    // A failed login says nothing about the account's secrets either.
    await call('POST /auth/login (wrong)', '/auth/login', { method: 'POST', json: { email, password: 'wrong-password-123' } });
    expect(found).toEqual([]);
  });
});

describe('API3 mass assignment', () => {
  it.each([
    ['role', { role: 'admin' }],
    ['email', { email: 'taken-over@example.com' }],
    ['id', { id: randomUUID() }],
    ['twoFactorEnabled', { twoFactorEnabled: true }],
    ['createdAt', { createdAt: '2000-01-01T00:00:00Z' }],
  ])('PATCH /users/me refuses %s with 400 and changes nothing', async (_field, body) => {
    const before = await (await t.api('/users/me', { token: u.accessToken })).json();
    const res = await t.api('/users/me', { method: 'PATCH', token: u.accessToken, json: body });
    await expectProblem(res, 400, 'validation_failed');
    expect(await (await t.api('/users/me', { token: u.accessToken })).json()).toEqual(before);
  });

  it('POST /auth/register refuses a role with 400 and creates no user', async () => {
    const email = uniqueEmail();
    await expectProblem(await t.api('/auth/register', { method: 'POST', json: { email, password: `Strong-${randomUUID()}`, role: 'admin' } }), 400);
    expect(await t.db('users').where({ email }).first()).toBeUndefined();
  });

  it.each([
    ['balance', { balance: '1000000.00' }],
    ['userId', { userId: 'BOB' }],
    ['id', { id: randomUUID() }],
    ['createdAt', { createdAt: '2000-01-01T00:00:00Z' }],
  ])('POST /accounts refuses %s with 400 and creates nothing', async (_field, extra) => {
    const json = { name: `Mass ${randomUUID()}`, type: 'bank', currency: 'USD', ...extra };
    if ('userId' in json) json.userId = bob.id;
    await expectProblem(await t.api('/accounts', { method: 'POST', token: u.accessToken, json }), 400, 'validation_failed');
    expect(await t.db('accounts').where({ name: json.name })).toEqual([]);
  });

  it.each([
    ['balance', { balance: '999999.00' }],
    ['currency', { currency: 'EUR' }],
    ['openingBalance', { openingBalance: '5000.00' }],
    ['userId', { userId: randomUUID() }],
  ])('PATCH /accounts/:id refuses %s with 400 and changes nothing', async (_field, body) => {
    const before = await (await t.api(`/accounts/${account.id}`, { token: u.accessToken })).json();
    await expectProblem(await t.api(`/accounts/${account.id}`, { method: 'PATCH', token: u.accessToken, json: body }), 400, 'validation_failed');
    expect(await (await t.api(`/accounts/${account.id}`, { token: u.accessToken })).json()).toEqual(before);
  });

  it.each([
    ['userId', (b: TestUser) => ({ userId: b.id })],
    ['id', () => ({ id: randomUUID() })],
    ['currency', () => ({ currency: 'JPY' })],
    ['createdAt', () => ({ createdAt: '2000-01-01T00:00:00Z' })],
  ])('POST and PUT /transactions refuse %s with 400 and change nothing', async (_field, extra) => {
    const base = { accountId: account.id, type: 'income', amount: '1.00', date: '2026-11-02', notes: `mass ${randomUUID()}` };
    await expectProblem(await t.api('/transactions', { method: 'POST', token: u.accessToken, json: { ...base, ...extra(bob) } }), 400, 'validation_failed');
    expect(await t.db('transactions').where({ notes: base.notes })).toEqual([]);
    const before = await (await t.api(`/transactions/${tx.id}`, { token: u.accessToken })).json();
    await expectProblem(await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: u.accessToken, json: { ...base, ...extra(bob) } }), 400, 'validation_failed');
    expect(await (await t.api(`/transactions/${tx.id}`, { token: u.accessToken })).json()).toEqual(before);
  });
});
