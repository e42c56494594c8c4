import { startTestApp, type TestApp } from '../helpers/app.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { registerAndLogin, totpCode, uniqueEmail, type TestUser } from '../helpers/users.js';
import { createAccount, createTransaction, type Json } from '../helpers/ledger.js';

/**
 * API.md, Audit: every change to user data and every auth event writes an audit entry in the same
 * transaction. This table holds one case per write route of the route registry (and per auth event
 * that no route names): each must leave exactly one new entry with the right action, entity, actor
 * and before/after. A write route missing from the table fails the first test, so a new write path
 * cannot land without its audit entry being asserted.
 */
let t: TestApp;
let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startTestSmtp();
  t = await startTestApp({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://app.numina.test' });
});
afterAll(async () => {
  await t.stop();
  await smtp.stop();
});

type Shape = 'null' | 'object';
interface Expected {
  action: string;
  entityType: string;
  /** The entity's id, when the case knows it (`null` for entries about no single entity). */
  entityId?: string | null;
  /** Who acted: the user themself unless said (`null`: nobody known, e.g. a reused refresh token). */
  actorId?: string | null;
  before: Shape;
  after: Shape;
}
interface Outcome {
  res: Response;
  /** Whose audit chain the entry goes to (default: the arranged user's; null: the global chain). */
  userId?: string | null;
  expected: Expected;
}
/** What a case arranged before acting: a user, and what its act needs. */
interface Arranged {
  u: TestUser;
  id?: string;
  secret?: string;
  token?: string;
}
interface Case {
  /** `METHOD /path` exactly as registered, or `event:<action>` for an auth event no route is named after. */
  route: string;
  status: number;
  /** Everything the act needs; entries it writes do not count. */
  arrange?: () => Promise<Arranged>;
  /** The one request under test. */
  act(a: Arranged): Promise<Outcome>;
}

const auth = (u: TestUser) => ({ token: u.accessToken });
const post = (path: string, json: unknown, u?: TestUser) => t.api(path, { method: 'POST', json, ...(u ? auth(u) : {}) });

async function resetToken(email: string): Promise<string> {
  const before = smtp.mails.length;
  expect((await post('/auth/password/forgot', { email })).status).toBe(202);
  const mail = await smtp.waitForSubject(email, 'Reset your Numina password', { skip: before });
  return decodeURIComponent(/reset-password\?token=([A-Za-z0-9_%-]+)/.exec(mail.text)![1]);
}

/** The token of the link in the latest mail to `email` with this subject (registration mails a verification link too). */
async function linkToken(email: string, subject: string, page: string, skip: number): Promise<string> {
  const mail = await smtp.waitForSubject(email, subject, { skip });
  return decodeURIComponent(new RegExp(`${page}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text)![1]);
}

const user = async (): Promise<Arranged> => ({ u: await registerAndLogin(t) });
const withAccount = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  return { u, id: (await createAccount(t, u)).id };
};
const withCategory = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  const c = (await (await post('/categories', { name: 'Before', kind: 'expense' }, u)).json()) as Json;
  return { u, id: c.id };
};
const withTransaction = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  const a = await createAccount(t, u);
  const tx = await createTransaction(t, u, { accountId: a.id, type: 'income', amount: '5.00' });
  return { u, id: tx.id, token: a.id };
};
const withTwoFactorSetup = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  const { secret } = (await (await post('/auth/2fa/setup', undefined, u)).json()) as { secret: string };
  return { u, secret };
};

const expenseCategory = async (u: TestUser): Promise<string> => {
  const c = (await (await post('/categories', { name: `Budgeted ${Math.random().toString(36).slice(2, 8)}`, kind: 'expense' }, u)).json()) as Json;
  return c.id as string;
};
const withBudget = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  const res = await post('/budgets', { categoryId: await expenseCategory(u), amount: '100.00', period: 'monthly' }, u);
  expect(res.status).toBe(201);
  return { u, id: ((await res.json()) as Json).id as string };
};
const withGoal = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  const a = await createAccount(t, u);
  const res = await post('/goals', { name: 'Trip', targetAmount: '500.00', targetDate: '2030-06-30', accountIds: [a.id] }, u);
  expect(res.status).toBe(201);
  return { u, id: ((await res.json()) as Json).id as string };
};
const recurringBody = (accountId: string) => ({ accountId, type: 'expense', amount: '9.99', frequency: 'monthly', startDate: '2030-01-15' });
const withRule = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  const a = await createAccount(t, u);
  const res = await post('/recurring', recurringBody(a.id as string), u);
  expect(res.status).toBe(201);
  return { u, id: ((await res.json()) as Json).id as string };
};
const adminUser = async (): Promise<Arranged> => {
  const u = await registerAndLogin(t);
  await t.db('users').where({ id: u.id }).update({ role: 'admin' });
  return { u };
};

const CASES: Case[] = [
  {
    route: 'POST /auth/register',
    status: 201,
    act: async () => {
      const res = await post('/auth/register', { email: uniqueEmail(), password: 'Violet-otter-kettle-drum-9' });
      const id = ((await res.clone().json()) as { user: { id: string } }).user.id;
      return { res, userId: id, expected: { action: 'auth.register', entityType: 'user', entityId: id, actorId: id, before: 'null', after: 'object' } };
    },
  },
  {
    route: 'POST /auth/login',
    status: 200,
    arrange: user,
    act: async ({ u }) => ({ res: await post('/auth/login', { email: u.email, password: u.password }), expected: { action: 'auth.login', entityType: 'session', before: 'null', after: 'object' } }),
  },
  {
    route: 'event:auth.login_failed',
    status: 401,
    arrange: user,
    act: async ({ u }) => ({
      res: await post('/auth/login', { email: u.email, password: 'Not-the-password-at-all' }),
      expected: { action: 'auth.login_failed', entityType: 'user', entityId: u.id, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /auth/refresh',
    status: 200,
    arrange: user,
    act: async ({ u }) => ({ res: await post('/auth/refresh', { refreshToken: u.refreshToken }), expected: { action: 'auth.refresh', entityType: 'session', before: 'null', after: 'null' } }),
  },
  {
    route: 'event:auth.refresh_reuse_detected',
    status: 401,
    arrange: async () => {
      const u = await registerAndLogin(t);
      expect((await post('/auth/refresh', { refreshToken: u.refreshToken })).status).toBe(200);
      return { u };
    },
    act: async ({ u }) => ({
      res: await post('/auth/refresh', { refreshToken: u.refreshToken }),
      expected: { action: 'auth.refresh_reuse_detected', entityType: 'session', actorId: null, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /auth/logout',
    status: 204,
    arrange: user,
    act: async ({ u }) => ({ res: await post('/auth/logout', { refreshToken: u.refreshToken }, u), expected: { action: 'auth.logout', entityType: 'session', before: 'null', after: 'object' } }),
  },
  {
    route: 'POST /auth/password/forgot',
    status: 202,
    arrange: user,
    act: async ({ u }) => ({
      res: await post('/auth/password/forgot', { email: u.email }),
      expected: { action: 'auth.password_reset_requested', entityType: 'user', entityId: u.id, before: 'null', after: 'null' },
    }),
  },
  {
    route: 'POST /auth/password/reset',
    status: 204,
    arrange: async () => {
      const u = await registerAndLogin(t);
      const token = await resetToken(u.email);
      return { u, token };
    },
    act: async ({ token }) => ({
      res: await post('/auth/password/reset', { token, newPassword: 'Quiet-harbor-lantern-58x' }),
      expected: { action: 'auth.password_reset', entityType: 'user', before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /auth/2fa/enable',
    status: 200,
    arrange: withTwoFactorSetup,
    act: async ({ u, secret }) => ({
      res: await post('/auth/2fa/enable', { code: totpCode(secret!, t.clock.now()), password: u.password }, u),
      expected: { action: 'auth.2fa_enabled', entityType: 'user', entityId: u.id, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /auth/2fa/disable',
    status: 204,
    arrange: async () => {
      const a = await withTwoFactorSetup();
      expect((await post('/auth/2fa/enable', { code: totpCode(a.secret!, t.clock.now()), password: a.u.password }, a.u)).status).toBe(200);
      t.clock.advance(30_000);
      return a;
    },
    act: async ({ u, secret }) => ({
      res: await post('/auth/2fa/disable', { password: u.password, code: totpCode(secret!, t.clock.now()) }, u),
      expected: { action: 'auth.2fa_disabled', entityType: 'user', entityId: u.id, before: 'null', after: 'null' },
    }),
  },
  {
    route: 'DELETE /auth/sessions/:id',
    status: 204,
    arrange: async () => {
      const u = await registerAndLogin(t);
      const other = (await (await post('/auth/login', { email: u.email, password: u.password })).json()) as { accessToken: string };
      const sessions = (await (await t.api('/auth/sessions', auth(u))).json()) as { data: { id: string; current: boolean }[] };
      expect(other.accessToken).toEqual(expect.any(String));
      return { u, id: sessions.data.find((s) => !s.current)!.id };
    },
    act: async ({ u, id }) => ({
      res: await t.api(`/auth/sessions/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'auth.session_revoked', entityType: 'session', entityId: id, before: 'null', after: 'null' },
    }),
  },
  {
    route: 'PATCH /users/me',
    status: 200,
    arrange: user,
    act: async ({ u }) => ({
      res: await t.api('/users/me', { method: 'PATCH', json: { name: 'Renamed' }, ...auth(u) }),
      expected: { action: 'user.profile_updated', entityType: 'user', entityId: u.id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /users/me',
    status: 204,
    arrange: user,
    act: async ({ u }) => ({
      res: await t.api('/users/me', { method: 'DELETE', json: { password: u.password }, ...auth(u) }),
      // The erasure's own entry, with no personal data: the user's earlier entries are redacted, not added to.
      expected: { action: 'user.erased', entityType: 'user', entityId: u.id, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /users/me/password',
    status: 204,
    arrange: user,
    act: async ({ u }) => ({
      res: await post('/users/me/password', { currentPassword: u.password, newPassword: 'Another-strong-passphrase-7' }, u),
      expected: { action: 'auth.password_changed', entityType: 'user', entityId: u.id, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /accounts',
    status: 201,
    arrange: user,
    act: async ({ u }) => ({
      res: await post('/accounts', { name: 'Audited', type: 'bank', currency: 'USD' }, u),
      expected: { action: 'account.create', entityType: 'account', before: 'null', after: 'object' },
    }),
  },
  {
    route: 'PATCH /accounts/:id',
    status: 200,
    arrange: withAccount,
    act: async ({ u, id }) => ({
      res: await t.api(`/accounts/${id}`, { method: 'PATCH', json: { archived: true }, ...auth(u) }),
      expected: { action: 'account.update', entityType: 'account', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /accounts/:id',
    status: 204,
    arrange: withAccount,
    act: async ({ u, id }) => ({
      res: await t.api(`/accounts/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'account.delete', entityType: 'account', entityId: id, before: 'object', after: 'null' },
    }),
  },
  {
    route: 'POST /categories',
    status: 201,
    arrange: user,
    act: async ({ u }) => ({ res: await post('/categories', { name: 'Audited', kind: 'expense' }, u), expected: { action: 'category.create', entityType: 'category', before: 'null', after: 'object' } }),
  },
  {
    route: 'PATCH /categories/:id',
    status: 200,
    arrange: withCategory,
    act: async ({ u, id }) => ({
      res: await t.api(`/categories/${id}`, { method: 'PATCH', json: { name: 'After' }, ...auth(u) }),
      expected: { action: 'category.update', entityType: 'category', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /categories/:id',
    status: 204,
    arrange: withCategory,
    act: async ({ u, id }) => ({
      res: await t.api(`/categories/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'category.delete', entityType: 'category', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'POST /transactions',
    status: 201,
    arrange: withAccount,
    act: async ({ u, id }) => ({
      res: await post('/transactions', { accountId: id, type: 'income', amount: '5.00', date: '2026-11-01' }, u),
      expected: { action: 'transaction.create', entityType: 'transaction', before: 'null', after: 'object' },
    }),
  },
  {
    route: 'PUT /transactions/:id',
    status: 200,
    arrange: withTransaction,
    act: async ({ u, id, token: accountId }) => ({
      res: await t.api(`/transactions/${id}`, { method: 'PUT', json: { accountId, type: 'income', amount: '6.00', date: '2026-11-01' }, ...auth(u) }),
      expected: { action: 'transaction.update', entityType: 'transaction', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /transactions/:id',
    status: 204,
    arrange: withTransaction,
    act: async ({ u, id }) => ({
      res: await t.api(`/transactions/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'transaction.delete', entityType: 'transaction', entityId: id, before: 'object', after: 'null' },
    }),
  },
  {
    // A read, but a data export is an audited event (API.md, Audit).
    route: 'GET /transactions/export',
    status: 200,
    arrange: user,
    act: async ({ u }) => ({
      res: await t.api('/transactions/export?format=csv', auth(u)),
      expected: { action: 'transaction.export', entityType: 'transaction', entityId: null, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /users/me/email',
    status: 202,
    arrange: user,
    act: async ({ u }) => ({
      res: await post('/users/me/email', { newEmail: uniqueEmail('moved'), password: u.password }, u),
      expected: { action: 'user.email_change_requested', entityType: 'user', entityId: u.id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'POST /users/me/email/confirm',
    status: 204,
    arrange: async () => {
      const u = await registerAndLogin(t);
      const newEmail = uniqueEmail('moved');
      const before = smtp.mails.length;
      expect((await post('/users/me/email', { newEmail, password: u.password }, u)).status).toBe(202);
      return { u, token: await linkToken(newEmail, 'Confirm your new email address', 'confirm-email', before) };
    },
    act: async ({ u, token }) => ({
      res: await post('/users/me/email/confirm', { token }, u),
      expected: { action: 'user.email_changed', entityType: 'user', entityId: u.id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'POST /users/me/email/verify',
    status: 204,
    arrange: async () => {
      const u = await registerAndLogin(t);
      return { u, token: await linkToken(u.email, 'Confirm your email address', 'verify-email', 0) };
    },
    act: async ({ u, token }) => ({
      res: await post('/users/me/email/verify', { token }, u),
      expected: { action: 'user.email_verified', entityType: 'user', entityId: u.id, before: 'null', after: 'object' },
    }),
  },
  {
    route: 'POST /budgets',
    status: 201,
    arrange: async () => {
      const u = await registerAndLogin(t);
      return { u, id: await expenseCategory(u) };
    },
    act: async ({ u, id }) => ({
      res: await post('/budgets', { categoryId: id, amount: '100.00', period: 'monthly' }, u),
      expected: { action: 'budget.create', entityType: 'budget', before: 'null', after: 'object' },
    }),
  },
  {
    route: 'PATCH /budgets/:id',
    status: 200,
    arrange: withBudget,
    act: async ({ u, id }) => ({
      res: await t.api(`/budgets/${id}`, { method: 'PATCH', json: { amount: '150.00' }, ...auth(u) }),
      expected: { action: 'budget.update', entityType: 'budget', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /budgets/:id',
    status: 204,
    arrange: withBudget,
    act: async ({ u, id }) => ({
      res: await t.api(`/budgets/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'budget.delete', entityType: 'budget', entityId: id, before: 'object', after: 'null' },
    }),
  },
  {
    route: 'POST /goals',
    status: 201,
    arrange: withAccount,
    act: async ({ u, id }) => ({
      res: await post('/goals', { name: 'Car', targetAmount: '900.00', targetDate: '2031-01-31', accountIds: [id] }, u),
      expected: { action: 'goal.create', entityType: 'goal', before: 'null', after: 'object' },
    }),
  },
  {
    route: 'PATCH /goals/:id',
    status: 200,
    arrange: withGoal,
    act: async ({ u, id }) => ({
      res: await t.api(`/goals/${id}`, { method: 'PATCH', json: { name: 'Longer trip' }, ...auth(u) }),
      expected: { action: 'goal.update', entityType: 'goal', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /goals/:id',
    status: 204,
    arrange: withGoal,
    act: async ({ u, id }) => ({
      res: await t.api(`/goals/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'goal.delete', entityType: 'goal', entityId: id, before: 'object', after: 'null' },
    }),
  },
  {
    route: 'POST /recurring',
    status: 201,
    arrange: withAccount,
    act: async ({ u, id }) => ({
      res: await post('/recurring', recurringBody(id!), u),
      expected: { action: 'recurring.create', entityType: 'recurring_rule', before: 'null', after: 'object' },
    }),
  },
  {
    route: 'PATCH /recurring/:id',
    status: 200,
    arrange: withRule,
    act: async ({ u, id }) => ({
      res: await t.api(`/recurring/${id}`, { method: 'PATCH', json: { amount: '12.50' }, ...auth(u) }),
      expected: { action: 'recurring.update', entityType: 'recurring_rule', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'DELETE /recurring/:id',
    status: 204,
    arrange: withRule,
    act: async ({ u, id }) => ({
      res: await t.api(`/recurring/${id}`, { method: 'DELETE', ...auth(u) }),
      expected: { action: 'recurring.delete', entityType: 'recurring_rule', entityId: id, before: 'object', after: 'object' },
    }),
  },
  {
    route: 'PUT /rates',
    status: 200,
    arrange: adminUser,
    act: async ({ u }) => ({
      res: await t.api('/rates', { method: 'PUT', json: { base: 'EUR', quote: 'CHF', date: '2026-01-02', rate: '0.93' }, ...auth(u) }),
      // Rates belong to no user: the entry is in the global chain (user_id null), with the admin as actor.
      userId: null,
      expected: { action: 'rate.created', entityType: 'exchange_rate', actorId: u.id, before: 'null', after: 'object' },
    }),
  },
];

/** Write routes that change nothing a user owns, each with the reason it has no entry of its own. */
const NOT_AUDITED: Record<string, string> = {
  'POST /auth/2fa/setup': 'only stores a pending secret; nothing changes until /auth/2fa/enable, which is audited',
  'POST /notifications/:id/read': "marks the user's own notification as seen: a display state; no financial data or credential changes",
  'POST /notifications/read-all': "marks the user's own notifications as seen: a display state; no financial data or credential changes",
};

describe('audit entries of every write', () => {
  it('has a case for every write route of the route registry', () => {
    const writes = t.app.registry.routes.filter((r) => r.method !== 'get').map((r) => `${r.method.toUpperCase()} ${r.path}`);
    const covered = new Set([...CASES.map((c) => c.route), ...Object.keys(NOT_AUDITED)]);
    expect(writes.filter((w) => !covered.has(w))).toEqual([]);
    // And no case names a route that no longer exists.
    const registered = new Set(t.app.registry.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`));
    expect(CASES.filter((c) => !c.route.startsWith('event:') && !registered.has(c.route)).map((c) => c.route)).toEqual([]);
  });

  it.each(CASES.map((c) => [c.route, c] as const))('%s writes exactly one entry with its action, entity, actor and before/after', async (_route, c) => {
    const arranged = c.arrange ? await c.arrange() : undefined;
    // Only what the act writes counts: everything up to here was arrangement.
    const [{ max }] = await t.db('audit_logs').max<{ max: string | null }[]>('seq as max');
    const { res, userId = arranged!.u.id, expected } = await c.act(arranged as Arranged);
    expect(res.status).toBe(c.status);
    await res.arrayBuffer();
    const written = () => t.db('audit_logs').where({ user_id: userId }).where('seq', '>', max ?? '0').orderBy('seq');
    // The forgot-password entry is written after the 202 (the answer must not depend on whether
    // the email is known): wait for the first entry, with a bound.
    let rows = await written();
    for (const until = Date.now() + 5000; rows.length === 0 && Date.now() < until; rows = await written()) await new Promise((r) => setTimeout(r, 25));
    expect(rows.map((r) => r.action)).toEqual([expected.action]);
    const [e] = rows;
    const shape = (v: unknown): Shape => (v === null ? 'null' : 'object');
    expect({ entityType: e.entity_type, actorId: e.actor_id, before: shape(e.before), after: shape(e.after) }).toEqual({
      entityType: expected.entityType,
      actorId: expected.actorId === undefined ? userId : expected.actorId,
      before: expected.before,
      after: expected.after,
    });
    if (expected.entityId === undefined) expect(e.entity_id).toEqual(expect.any(String));
    else expect(e.entity_id).toBe(expected.entityId);
  });
});
