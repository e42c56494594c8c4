import { randomUUID } from 'node:crypto';
import { todayIn } from '../../server/shared/clock.js';
import { registerAdmin } from '../helpers/admin.js';
import { useTestApp } from '../helpers/app.js';
import { eventually } from '../helpers/eventually.js';
import { createAccount, createTransaction, expectProblem, type Json } from '../helpers/ledger.js';
import { closeAllSockets, connectLive } from '../helpers/sockets.js';
import { registerAndLogin, totpCode, type TestUser } from '../helpers/users.js';

/**
 * DELETE /users/me (API.md, Users; issue 14): in one transaction every row of the user goes from
 * every table that references users, the users row stays as a tombstone without personal data,
 * the audit entries stay redacted and the chain verifies, logins and sockets end, queued jobs of the
 * user are deleted, and the email can register again. The tables are read from the catalog here,
 * independently of the service, so a table added later is checked without editing this file.
 */
const t = useTestApp();
afterEach(() => closeAllSockets());

const KEPT = new Set(['users', 'audit_logs']);

/** Every table with a column referencing users (a foreign key to users(id), or a `user_id` column), and those columns. */
async function userTables(): Promise<Map<string, string[]>> {
  const r = await t.db.raw(`
    SELECT tc.relname AS table, a.attname AS column
      FROM pg_constraint k JOIN pg_class tc ON tc.oid = k.conrelid JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
     WHERE k.contype = 'f' AND k.confrelid = 'public.users'::regclass
    UNION
    SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'user_id'`);
  const out = new Map<string, string[]>();
  for (const row of r.rows as { table: string; column: string }[]) out.set(row.table, [...(out.get(row.table) ?? []), row.column]);
  return out;
}

/** Rows of `userId` in every such table but the kept ones. */
async function rowsOf(userId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [table, columns] of await userTables()) {
    if (KEPT.has(table)) continue;
    const q = t.db(table).where((w) => {
      for (const c of columns) void w.orWhere(c, userId);
    });
    out[table] = Number((await q.count<{ n: string }[]>('* as n'))[0].n);
  }
  return out;
}

const erase = (u: TestUser, json: Record<string, unknown>) => t.api('/users/me', { method: 'DELETE', token: u.accessToken, json });
const post = async (u: TestUser, path: string, json: unknown, status = 201): Promise<Json> => {
  const res = await t.api(path, { method: 'POST', token: u.accessToken, json });
  expect({ path, status: res.status }).toEqual({ path, status });
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as Json;
};

async function enable2fa(u: TestUser): Promise<{ secret: string; recoveryCodes: string[] }> {
  const { secret } = (await post(u, '/auth/2fa/setup', undefined, 200)) as unknown as { secret: string };
  const { recoveryCodes } = (await post(u, '/auth/2fa/enable', { code: totpCode(secret, t.clock.now()), password: u.password }, 200)) as unknown as { recoveryCodes: string[] };
  return { secret, recoveryCodes };
}

/** A queued (future) job naming the user, as features queue them: ids only. */
const queueJobFor = (userId: string) => t.app.ctx.jobs.send('notification.mail', { notificationId: randomUUID(), userId }, { startAfter: new Date(Date.now() + 3_600_000) });
const queuedJobsOf = async (userId: string) =>
  Number((await t.db.raw(`SELECT count(*)::int AS n FROM pgboss.job WHERE state IN ('created', 'retry') AND data ->> 'userId' = ?`, [userId])).rows[0].n);
const jobExists = async (id: string) => (await t.db.raw('SELECT 1 FROM pgboss.job WHERE id = ?', [id])).rows.length === 1;
const rateRowsOf = async (...names: string[]) => {
  let n = 0;
  for (const name of names) n += Number((await t.db('rate_limits').where('key', 'like', `%${name}%`).count<{ n: string }[]>('* as n'))[0].n);
  return n;
};

/** Gives `u` data in every feature: ledger, budgets (crossed, so an alert), goals, recurring, notifications, tokens, rate rows. */
async function fillEveryFeature(u: TestUser): Promise<string> {
  const today = todayIn('UTC', t.clock);
  await t.api('/users/me', { method: 'PATCH', token: u.accessToken, json: { notifyByEmail: true } });
  const checking = await createAccount(t, u, { name: 'Checking', openingBalance: '100.00' });
  const savings = await createAccount(t, u, { name: 'Savings', currency: 'EUR' });
  const cat = await post(u, '/categories', { name: `Books ${randomUUID().slice(0, 6)}`, kind: 'expense' });
  await post(u, '/budgets', { categoryId: cat.id, amount: '10.00', period: 'monthly' });
  await post(u, '/goals', { name: 'Rainy day', targetAmount: '1.00', targetDate: '2030-12-31', accountIds: [savings.id] });
  const res = await t.api('/transactions', {
    method: 'POST',
    token: u.accessToken,
    headers: { 'Idempotency-Key': randomUUID() },
    json: { accountId: checking.id, type: 'expense', amount: '9.50', date: today, categoryId: cat.id, notes: 'private note' },
  });
  expect(res.status).toBe(201);
  await createTransaction(t, u, { accountId: checking.id, type: 'transfer', amount: '20.00', toAccountId: savings.id, toAmount: '18.00', date: today });
  await post(u, '/recurring', { accountId: checking.id, type: 'expense', amount: '1.00', frequency: 'monthly', startDate: today });
  await post(u, '/auth/password/forgot', { email: u.email }, 202);
  await eventually('a reset token', async () => (await t.db('password_reset_tokens').where({ user_id: u.id }).first()) as unknown);
  const exported = await t.api('/users/me/export', { token: u.accessToken });
  await exported.arrayBuffer();
  const job = await queueJobFor(u.id);
  expect(job).toBeTruthy();
  return job!;
}

describe('DELETE /users/me', () => {
  it('erases every row of the user in every table referencing users, keeps a tombstone and redacted audit entries, and leaves other users alone', async () => {
    const a = await registerAndLogin(t, { name: 'Alice Erased' });
    const b = await registerAndLogin(t, { name: 'Bob Stays' });
    const { secret } = await enable2fa(a);
    const a2 = await t.api('/auth/login', { method: 'POST', json: { email: a.email, password: a.password, totp: totpCode(secret, t.clock.now(), 1) } });
    expect(a2.status).toBe(200);
    const aSession = (await a2.json()) as { accessToken: string; refreshToken: string };
    // A wrong password leaves failure counters keyed by the email.
    await expectProblem(await erase({ ...a, accessToken: aSession.accessToken }, { password: 'not-the-password' }), 400, 'invalid_password');
    await fillEveryFeature({ ...a, accessToken: aSession.accessToken });
    const bJob = await fillEveryFeature(b);
    await eventually('the budget alert notification', async () => (await t.db('notifications').where({ user_id: a.id }).first()) as unknown);

    // The user really had data everywhere (a new table needs a row arranged above).
    const before = await rowsOf(a.id);
    expect(Object.entries(before).filter(([, n]) => n === 0)).toEqual([]);
    expect(await queuedJobsOf(a.id)).toBeGreaterThan(0);
    expect(await rateRowsOf(a.id, a.email)).toBeGreaterThan(0);
    const bBefore = await rowsOf(b.id);
    const bAudit = await t.db('audit_logs').where({ user_id: b.id }).orderBy('seq');
    const socket = await connectLive(t, aSession.accessToken);

    t.clock.advance(60_000); // a fresh TOTP step (the login used the previous ones)
    const res = await erase({ ...a, accessToken: aSession.accessToken }, { password: a.password, totp: totpCode(secret, t.clock.now()) });
    expect(res.status).toBe(204);

    // Nothing of the user is left but the tombstone and the redacted audit entries.
    const empty = Object.fromEntries(Object.keys(before).map((k) => [k, 0]));
    expect(await rowsOf(a.id)).toEqual(empty);
    expect(await queuedJobsOf(a.id)).toBe(0);
    expect(await rateRowsOf(a.id, a.email)).toBe(0);
    const tomb = await t.db('users').where({ id: a.id }).first();
    expect(tomb.erased_at).toBeInstanceOf(Date);
    expect(tomb).toMatchObject({ email: null, name: null, password_hash: null, totp_secret_enc: null, totp_pending_secret_enc: null, totp_enabled_at: null, email_verified_at: null, role: 'user' });
    const entries = await t.db('audit_logs').where({ user_id: a.id }).orderBy('seq');
    const last = entries.pop();
    expect(last).toMatchObject({ action: 'user.erased', actor_id: a.id, before: null, after: { by: 'self' }, ip: null, user_agent: null, redacted_at: null });
    expect(entries.length).toBeGreaterThan(5);
    for (const e of entries) expect(e).toMatchObject({ before: null, after: null, ip: null, user_agent: null, redacted_at: expect.any(Date) });
    const text = JSON.stringify([tomb, entries, last]);
    for (const personal of [a.email, 'Alice Erased', 'private note']) expect(text).not.toContain(personal);

    // The chain still verifies: through the service and GET /audit/verify.
    expect(await t.app.ctx.audit.verify(t.db)).toMatchObject({ ok: true });
    const admin = await registerAdmin(t);
    const verified = await t.api('/audit/verify', { token: admin.accessToken });
    expect(await verified.json()).toMatchObject({ ok: true });

    // Logins are over at once: the access token, the refresh token, the password, the socket.
    await expectProblem(await t.api('/users/me', { token: aSession.accessToken }), 401);
    await expectProblem(await t.api('/users/me', { token: a.accessToken }), 401);
    await expectProblem(await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: aSession.refreshToken } }), 401);
    await expectProblem(await t.api('/auth/login', { method: 'POST', json: { email: a.email, password: a.password } }), 401);
    expect((await socket.disconnected).ended).toBe('session_revoked');

    // Bob is untouched: his rows, his queued job, his audit entries.
    expect(await rowsOf(b.id)).toEqual(bBefore);
    expect(await jobExists(bJob)).toBe(true);
    expect(await t.db('audit_logs').where({ user_id: b.id }).where('seq', '<=', bAudit[bAudit.length - 1].seq).orderBy('seq')).toEqual(bAudit);
    expect((await t.api('/users/me', { token: b.accessToken })).status).toBe(200);
  });

  it('frees the email: it registers again as a new user with a different id', async () => {
    const u = await registerAndLogin(t);
    expect((await erase(u, { password: u.password })).status).toBe(204);
    const again = await registerAndLogin(t, { email: u.email.toUpperCase(), password: `${u.password}-new` });
    expect(again.id).not.toBe(u.id);
    expect(((await (await t.api('/users/me', { token: again.accessToken })).json()) as { email: string }).email).toBe(u.email);
    // The new account starts empty, with only its own default categories.
    expect((await rowsOf(again.id)).accounts).toBe(0);
    expect(await t.db('users').where({ id: u.id }).first()).toMatchObject({ email: null });
  });

  it('refuses a wrong password with 400 invalid_password and changes nothing', async () => {
    const u = await registerAndLogin(t);
    const job = await fillEveryFeature(u);
    const before = await rowsOf(u.id);
    const problem = await expectProblem(await erase(u, { password: 'Wrong-password-123' }), 400, 'invalid_password');
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'body.password' })]);
    expect(await rowsOf(u.id)).toEqual(before);
    expect(await t.db('users').where({ id: u.id }).first()).toMatchObject({ email: u.email, erased_at: null });
    expect(await jobExists(job)).toBe(true);
    expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(200);
    // The failure is audited, and nothing of the user was redacted.
    const entries = await t.db('audit_logs').where({ user_id: u.id }).orderBy('seq');
    expect(entries.filter((e) => e.redacted_at)).toEqual([]);
    expect(entries[entries.length - 1]).toMatchObject({ action: 'user.erase_failed', after: { reason: 'wrong_password' } });
  });

  it('needs a second factor while 2FA is on: refused without one or with a wrong one, accepted with a recovery code', async () => {
    const u = await registerAndLogin(t);
    const { recoveryCodes } = await enable2fa(u);
    const missing = await expectProblem(await erase(u, { password: u.password }), 400, 'mfa_required');
    expect(missing.errors).toEqual([expect.objectContaining({ path: 'body.totp' })]);
    await expectProblem(await erase(u, { password: u.password, totp: '000000' }), 400, 'invalid_code');
    await expectProblem(await erase(u, { password: u.password, recoveryCode: 'not-a-code' }), 400, 'invalid_code');
    expect(await t.db('users').where({ id: u.id }).first()).toMatchObject({ erased_at: null });
    expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(200);
    expect((await erase(u, { password: u.password, recoveryCode: recoveryCodes[0] })).status).toBe(204);
    expect(await t.db('users').where({ id: u.id }).first()).toMatchObject({ email: null, erased_at: expect.any(Date) });
  });

  it('takes a recovery code in the totp field too (the contract names only totp)', async () => {
    const u = await registerAndLogin(t);
    const { recoveryCodes } = await enable2fa(u);
    expect((await erase(u, { password: u.password, totp: recoveryCodes[3] })).status).toBe(204);
    expect(await t.db('recovery_codes').where({ user_id: u.id })).toEqual([]);
  });

  it('refuses unknown keys and a missing password with 400 naming the field', async () => {
    const u = await registerAndLogin(t);
    const p1 = await expectProblem(await erase(u, {}), 400);
    expect(p1.errors?.map((e) => e.path)).toContain('body.password');
    const p2 = await expectProblem(await erase(u, { password: u.password, userId: randomUUID() }), 400);
    expect(JSON.stringify(p2.errors)).toContain('userId');
    expect(await t.db('users').where({ id: u.id }).first()).toMatchObject({ erased_at: null });
  });

  it('forgets only the counters keyed by the user: a longer email that ends like theirs keeps its own', async () => {
    const u = await registerAndLogin(t);
    const reset = new Date(Date.now() + 600_000);
    const others = [`pw-fail-acct:x${u.email}`, `pw-fail-addr:x${u.email}|127.0.0.1`, `user:${randomUUID()}`];
    const mine = [`pw-fail-acct:${u.email}`, `pw-fail-addr:${u.email}|127.0.0.1`, `gdpr-export:${u.id}`, `2fa-fail:user:${u.id}`];
    // (Logging in already counted some of these keys.)
    await t.db('rate_limits').insert([...others, ...mine].map((key) => ({ key, hits: 1, reset_at: reset }))).onConflict('key').merge();
    expect((await erase(u, { password: u.password })).status).toBe(204);
    expect((await t.db('rate_limits').whereIn('key', [...others, ...mine]).pluck('key')).sort()).toEqual([...others].sort());
  });

  it('refuses to erase the last enabled admin (409 last_admin) and changes nothing; with another admin it goes', async () => {
    const admin = await registerAdmin(t);
    await t.db('users').where({ role: 'admin' }).whereNot({ id: admin.id }).update({ role: 'user' });
    await expectProblem(await erase(admin, { password: admin.password }), 409, 'last_admin');
    expect(await t.db('users').where({ id: admin.id }).first()).toMatchObject({ email: admin.email, role: 'admin', erased_at: null });
    expect((await t.api('/users/me', { token: admin.accessToken })).status).toBe(200);
    await registerAdmin(t);
    expect((await erase(admin, { password: admin.password })).status).toBe(204);
  });

  it('needs a login', async () => {
    await expectProblem(await t.api('/users/me', { method: 'DELETE', json: { password: 'x' } }), 401);
  });
});

describe('a write racing the erasure', () => {
  it('guards every table with a user_id column (audit_logs aside) against rows of an erased user', async () => {
    const r = await t.db.raw(`
      SELECT c.table_name,
             EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = format('%I', c.table_name)::regclass AND g.tgname = c.table_name || '_refuse_erased_owner') AS guarded
        FROM information_schema.columns c
       WHERE c.table_schema = 'public' AND c.column_name = 'user_id' AND c.table_name <> 'audit_logs'`);
    const unguarded = (r.rows as { table_name: string; guarded: boolean }[]).filter((x) => !x.guarded).map((x) => x.table_name);
    // A new table with user_id needs: knex.raw(guard('<table>')) from migrations/20261125230000_refuse_rows_of_erased_users.ts
    expect(unguarded).toEqual([]);
    expect(r.rows.length).toBeGreaterThan(10);
  });

  it('a request that passed authentication before the erasure committed adds nothing after it: 401, no row', async () => {
    const u = await registerAndLogin(t);
    // Hold the users row as the erasure does (FOR UPDATE), then send a write that must wait on it.
    const eraser = await t.db.transaction();
    try {
      await eraser('users').where({ id: u.id }).forUpdate().first();
      const pending = t.api('/categories', { method: 'POST', token: u.accessToken, json: { name: 'Written during the erasure', kind: 'expense' } });
      await eventually('the write to wait on the locked users row', async () => {
        const w = await t.db.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return (w.rows[0] as { n: number }).n > 0 || undefined;
      });
      // The erasure finishes: what it swept is gone, the row is the tombstone.
      await eraser('categories').where({ user_id: u.id }).delete();
      await eraser('users').where({ id: u.id }).update({
        erased_at: t.clock.now(), email: null, email_verified_at: null, name: null, password_hash: null,
        totp_secret_enc: null, totp_pending_secret_enc: null, totp_enabled_at: null, disabled: true,
      });
      await eraser.commit();
      const res = await pending;
      await expectProblem(res, 401);
    } finally {
      if (!eraser.isCompleted()) await eraser.rollback();
    }
    expect(await t.db('categories').where({ user_id: u.id }).count<{ n: string }[]>('* as n')).toEqual([{ n: '0' }]);
  });

  it('leaves writes of users who were not erased alone', async () => {
    const u = await registerAndLogin(t);
    await post(u, '/categories', { name: 'Still here', kind: 'expense' });
    expect(await t.db('categories').where({ user_id: u.id, name: 'Still here' }).count<{ n: string }[]>('* as n')).toEqual([{ n: '1' }]);
  });
});
