import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { z } from 'zod';
import { createApp } from '../../server/app.js';
import { runAdminRole } from '../../server/cli/admin-role.js';
import { createDb, type Db } from '../../server/shared/db.js';
import type { RouteSet } from '../../server/context.js';
import { createLogger } from '../../server/shared/logger.js';
import { testDatabaseUrl, useTestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';

const t = useTestApp();

const me = (token: string) => t.api('/users/me', { token });
const patchMe = (token: string, json: unknown) => t.api('/users/me', { method: 'PATCH', token, json });
const changePassword = (token: string, json: unknown) => t.api('/users/me/password', { method: 'POST', token, json });
const login = (email: string, password: string) => t.api('/auth/login', { method: 'POST', json: { email, password } });

describe('GET /users/me', () => {
  it('returns the profile', async () => {
    const u = await registerAndLogin(t, { name: 'Grace', currency: 'EUR', timeZone: 'Europe/Paris' });
    const res = await me(u.accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: u.id,
      email: u.email,
      emailVerified: false,
      name: 'Grace',
      currency: 'EUR',
      timeZone: 'Europe/Paris',
      role: 'user',
      twoFactorEnabled: false,
      notifyByEmail: false,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
  });

  it('answers 401 without a valid token', async () => {
    expect((await t.api('/users/me')).status).toBe(401);
    expect((await me('x.y.z')).status).toBe(401);
  });
});

describe('PATCH /users/me', () => {
  it('changes name, currency and time zone, and audits before and after', async () => {
    const u = await registerAndLogin(t);
    const res = await patchMe(u.accessToken, { name: 'Ada L.', currency: 'JPY', timeZone: 'Asia/Tokyo' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: u.id, name: 'Ada L.', currency: 'JPY', timeZone: 'Asia/Tokyo' });
    expect(await (await me(u.accessToken)).json()).toMatchObject({ name: 'Ada L.', currency: 'JPY', timeZone: 'Asia/Tokyo' });
    const entry = await t.db('audit_logs').where({ user_id: u.id, action: 'user.profile_updated' }).first();
    expect(entry.before).toEqual({ name: 'Test User', currency: 'USD', timeZone: 'UTC' });
    expect(entry.after).toEqual({ name: 'Ada L.', currency: 'JPY', timeZone: 'Asia/Tokyo' });
  });

  it('changes only what is given', async () => {
    const u = await registerAndLogin(t, { currency: 'GBP' });
    const res = await patchMe(u.accessToken, { name: 'Only Name' });
    expect(await res.json()).toMatchObject({ name: 'Only Name', currency: 'GBP', timeZone: 'UTC' });
  });

  it.each([
    ['an unknown currency', { currency: 'ABC' }],
    ['an unknown time zone', { timeZone: 'Atlantis/Capital' }],
    ['an empty name', { name: '' }],
  ])('refuses %s with 400', async (_what, body) => {
    const u = await registerAndLogin(t);
    const res = await patchMe(u.accessToken, body);
    expect(res.status).toBe(400);
    expect((await res.json()).errors.length).toBeGreaterThan(0);
  });

  it.each([
    ['role', { role: 'admin' }],
    ['email', { email: 'someone-else@example.com' }],
    ['role next to an allowed field', { name: 'Sneaky', role: 'admin' }],
    ['an unknown key', { disabled: true }],
  ])('never changes anything when the body holds %s (400)', async (_what, body) => {
    const u = await registerAndLogin(t);
    const res = await patchMe(u.accessToken, body);
    expect(res.status).toBe(400);
    const profile = await (await me(u.accessToken)).json();
    expect(profile).toMatchObject({ role: 'user', email: u.email, name: 'Test User' });
    const row = await t.db('users').where({ id: u.id }).first();
    expect(row).toMatchObject({ role: 'user', email: u.email, disabled: false });
  });

  it('answers 401 without a token', async () => {
    expect((await t.api('/users/me', { method: 'PATCH', json: { name: 'x' } })).status).toBe(401);
  });
});

describe('POST /users/me/password', () => {
  it('changes the password after checking the current one, and revokes the other logins only', async () => {
    const u = await registerAndLogin(t);
    const other = await (await login(u.email, u.password)).json();
    const newPassword = 'Amber-meadow-falcon-71';
    const res = await changePassword(u.accessToken, { currentPassword: u.password, newPassword });
    expect(res.status).toBe(204);
    expect((await me(u.accessToken)).status).toBe(200);
    expect((await me(other.accessToken)).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: other.refreshToken } })).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).status).toBe(200);
    expect((await login(u.email, u.password)).status).toBe(401);
    expect((await login(u.email, newPassword)).status).toBe(200);
    expect(await t.db('audit_logs').where({ user_id: u.id }).pluck('action')).toContain('auth.password_changed');
  });

  it('refuses a wrong current password with 400 and changes nothing', async () => {
    const u = await registerAndLogin(t);
    const res = await changePassword(u.accessToken, { currentPassword: 'Not-the-current-one-1', newPassword: 'Amber-meadow-falcon-72' });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.code).toBe('invalid_password');
    expect(body.errors[0].path).toBe('body.currentPassword');
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  it('audits each wrong current password outside the refused change, and answers 429 after 10 (the login failure limit)', async () => {
    const u = await registerAndLogin(t);
    for (let i = 0; i < 10; i++) {
      const res = await changePassword(u.accessToken, { currentPassword: `Guess-number-${i}`, newPassword: 'Amber-meadow-falcon-74' });
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe('invalid_password');
    }
    const limited = await changePassword(u.accessToken, { currentPassword: u.password, newPassword: 'Amber-meadow-falcon-74' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).code).toBe('rate_limited');
    const failed = await t.db('audit_logs').where({ user_id: u.id, action: 'auth.password_change_failed' }).select('actor_id', 'entity_id', 'after', 'ip');
    expect(failed).toHaveLength(10);
    expect(failed[0]).toEqual({ actor_id: u.id, entity_id: u.id, after: { reason: 'wrong_password' }, ip: expect.any(String) });
    expect(JSON.stringify(failed)).not.toContain('Guess-number');
    // Nothing changed: the old password still works (from another address, which this limit spares).
    expect(await t.db('audit_logs').where({ user_id: u.id, action: 'auth.password_changed' })).toHaveLength(0);
    await t.db('rate_limits').where('key', 'like', `pw-fail-%${u.email}%`).delete();
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  it('refuses a weak new password with 400', async () => {
    const u = await registerAndLogin(t);
    const res = await changePassword(u.accessToken, { currentPassword: u.password, newPassword: 'letmein123' });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].path).toBe('body.newPassword');
  });

  it('answers 400 for a missing field and 401 without a token', async () => {
    const u = await registerAndLogin(t);
    expect((await changePassword(u.accessToken, { newPassword: 'Amber-meadow-falcon-73' })).status).toBe(400);
    expect((await t.api('/users/me/password', { method: 'POST', json: { currentPassword: 'a', newPassword: 'b' } })).status).toBe(401);
  });
});

describe('roles', () => {
  /** The real app with one extra admin-only route, to see the role gate from outside. */
  let db: Db;
  let server: Server;
  let adminUrl: string;
  let registerUrl: string;
  const created: { user: unknown; visibleInTransaction: boolean }[] = [];
  beforeAll(async () => {
    db = createDb(testDatabaseUrl(), 2);
    const probe: RouteSet = {
      register(ctx) {
        ctx.hooks.userCreated.push(async (trx, user) => {
          const row = await trx('users').where({ id: user.id }).first();
          created.push({ user, visibleInTransaction: !!row });
          if (user.email.startsWith('hook-fails-')) throw new Error('a feature refused the new user');
        });
        ctx.registry.add({
          method: 'get',
          path: '/test-admin/ping',
          access: 'admin',
          summary: 'admin-only probe',
          tags: ['Test'],
          responses: { 200: { description: 'pong', schema: z.object({ pong: z.boolean() }) } },
          handler: () => ({ pong: true }),
        });
      },
    };
    const app = await createApp({ config: t.config, db, logger: createLogger('silent'), clock: t.clock, routes: [probe] });
    server = app.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    adminUrl = `${base}/test-admin/ping`;
    registerUrl = `${base}/auth/register`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.destroy();
  });
  const ping = (token?: string) => fetch(adminUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('an admin route answers 403 to a user and 401 to no one', async () => {
    const u = await registerAndLogin(t);
    const res = await ping(u.accessToken);
    expect(res.status).toBe(403);
    expect((await res.json()).code).toBe('forbidden');
    expect((await ping()).status).toBe(401);
  });

  it('admin:promote gives the admin role at once (audited), admin:demote takes it back', async () => {
    const u = await registerAndLogin(t);
    const promoted = await runAdminRole(['promote', u.email.toUpperCase()], t.db, t.clock);
    expect(promoted).toEqual({ code: 0, message: `${u.email}: user -> admin` });
    // The role is read from the database on each request, so the token already in hand works.
    expect((await ping(u.accessToken)).status).toBe(200);
    expect(await (await me(u.accessToken)).json()).toMatchObject({ role: 'admin' });
    const fresh = await (await login(u.email, u.password)).json();
    expect(JSON.parse(Buffer.from(fresh.accessToken.split('.')[1], 'base64url').toString()).role).toBe('admin');

    expect((await runAdminRole(['demote', u.email], t.db, t.clock)).code).toBe(0);
    expect((await ping(u.accessToken)).status).toBe(403);
    expect((await ping(fresh.accessToken)).status).toBe(403);

    const entries = await t.db('audit_logs').where({ user_id: u.id, action: 'user.role_changed' }).orderBy('seq').select('before', 'after', 'actor_id');
    expect(entries).toEqual([
      { before: { role: 'user' }, after: { role: 'admin', via: 'cli:promote' }, actor_id: null },
      { before: { role: 'admin' }, after: { role: 'user', via: 'cli:demote' }, actor_id: null },
    ]);
  });

  it('registration runs the userCreated hooks inside its transaction with the new user', async () => {
    const email = `hook-ok-${Date.now()}@example.com`;
    const res = await fetch(registerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'Violet-otter-kettle-drum', currency: 'CHF', timeZone: 'Europe/Zurich' }),
    });
    expect(res.status).toBe(201);
    const { user } = await res.json();
    expect(created.find((c) => (c.user as { email: string }).email === email)).toEqual({
      user: { id: user.id, email, currency: 'CHF', timeZone: 'Europe/Zurich' },
      visibleInTransaction: true,
    });
  });

  it('a failing userCreated hook rolls the registration back', async () => {
    const email = `hook-fails-${Date.now()}@example.com`;
    const res = await fetch(registerUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'Violet-otter-kettle-drum' }) });
    expect(res.status).toBe(500);
    expect(await t.db('users').where({ email }).first()).toBeUndefined();
    expect(await t.db('audit_logs').where({ action: 'auth.register' }).whereRaw("after->>'email' = ?", [email]).first()).toBeUndefined();
  });

  it('the command reports an unknown email and bad usage with non-zero exit codes', async () => {
    expect((await runAdminRole(['promote', 'nobody-here@example.com'], t.db, t.clock)).code).toBe(2);
    expect((await runAdminRole(['crown', 'x@example.com'], t.db, t.clock)).code).toBe(2);
    expect((await runAdminRole(['promote'], t.db, t.clock)).code).toBe(2);
  });
});
