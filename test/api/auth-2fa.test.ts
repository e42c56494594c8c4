import { systemWrite } from '../../server/shared/write-context.js';
import { useTestAppWithSmtp } from '../helpers/app.js';
import { registerAndLogin, totpCode, type TestUser } from '../helpers/users.js';

const { t, smtp } = useTestAppWithSmtp();

const STEP = 30_000;
const post = (path: string, token: string | undefined, json: unknown) => t.api(path, { method: 'POST', token, json });
const login = (u: TestUser, extra: Record<string, unknown> = {}) => post('/auth/login', undefined, { email: u.email, password: u.password, ...extra });
/** The next time step, so that a fresh code is not a replay of the last accepted one. */
const nextCode = (secret: string) => {
  t.clock.advance(STEP);
  return totpCode(secret, t.clock.now());
};

async function userWith2fa(): Promise<TestUser & { secret: string; recoveryCodes: string[] }> {
  const u = await registerAndLogin(t);
  const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
  const res = await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()), password: u.password });
  expect(res.status).toBe(200);
  const { recoveryCodes } = await res.json();
  return { ...u, secret, recoveryCodes };
}

describe('POST /auth/2fa/setup', () => {
  it('returns a base32 secret and an otpauth URL, and keeps the secret encrypted at rest', async () => {
    const u = await registerAndLogin(t);
    const res = await post('/auth/2fa/setup', u.accessToken, undefined);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(body.otpauthUrl);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(url.searchParams.get('secret')).toBe(body.secret);
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
    const row = await t.db('users').where({ id: u.id }).first();
    expect(row.totp_pending_secret_enc).toEqual(expect.any(String));
    expect(JSON.stringify(row)).not.toContain(body.secret);
    expect(row.totp_enabled_at).toBeNull();
  });

  it('needs an access token', async () => {
    expect((await post('/auth/2fa/setup', undefined, undefined)).status).toBe(401);
  });
});

describe('POST /auth/2fa/enable', () => {
  it('turns 2FA on with a valid code and returns 10 distinct recovery codes, stored only hashed', async () => {
    const u = await userWith2fa();
    expect(u.recoveryCodes).toHaveLength(10);
    expect(new Set(u.recoveryCodes).size).toBe(10);
    const me = await (await t.api('/users/me', { token: u.accessToken })).json();
    expect(me.twoFactorEnabled).toBe(true);
    const stored = await t.db('recovery_codes').where({ user_id: u.id }).pluck('code_hash');
    expect(stored).toHaveLength(10);
    for (const c of u.recoveryCodes) expect(stored).not.toContain(c);
    const row = await t.db('users').where({ id: u.id }).first();
    expect(JSON.stringify(row)).not.toContain(u.secret);
    const actions = await t.db('audit_logs').where({ user_id: u.id }).pluck('action');
    expect(actions).toContain('auth.2fa_enabled');
  });

  it('refuses a wrong code with 400 and leaves 2FA off', async () => {
    const u = await registerAndLogin(t);
    const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
    const wrong = totpCode(secret, new Date(t.clock.now().getTime() + 10 * STEP));
    const res = await post('/auth/2fa/enable', u.accessToken, { code: wrong, password: u.password });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('invalid_code');
    expect((await (await t.api('/users/me', { token: u.accessToken })).json()).twoFactorEnabled).toBe(false);
  });

  it('answers 409 before setup and when 2FA is already on', async () => {
    const fresh = await registerAndLogin(t);
    expect((await post('/auth/2fa/enable', fresh.accessToken, { code: '123456', password: fresh.password })).status).toBe(409);
    const u = await userWith2fa();
    expect((await post('/auth/2fa/setup', u.accessToken, undefined)).status).toBe(409);
    expect((await post('/auth/2fa/enable', u.accessToken, { code: nextCode(u.secret), password: u.password })).status).toBe(409);
  });

  it('revokes the user’s other logins, which were opened with one factor', async () => {
    const u = await registerAndLogin(t);
    const other = await (await login(u)).json();
    const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
    await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()), password: u.password });
    expect((await t.api('/users/me', { token: other.accessToken })).status).toBe(401);
    expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(200);
  });

  it('limits wrong codes: after 10 failures further attempts get 429', async () => {
    const u = await registerAndLogin(t);
    await post('/auth/2fa/setup', u.accessToken, undefined);
    for (let i = 0; i < 10; i++) expect((await post('/auth/2fa/enable', u.accessToken, { code: '000000', password: u.password })).status).toBe(400);
    const res = await post('/auth/2fa/enable', u.accessToken, { code: '000000', password: u.password });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
  });

  it('refuses a body without a code with 400', async () => {
    const u = await registerAndLogin(t);
    expect((await post('/auth/2fa/enable', u.accessToken, { password: u.password })).status).toBe(400);
  });

  it('needs the current password: an access token alone cannot turn 2FA on or end the owner’s other logins', async () => {
    const u = await registerAndLogin(t);
    const other = await (await login(u)).json();
    const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
    const missing = await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()) });
    expect(missing.status).toBe(400);
    expect((await missing.json()).errors.map((e: { path: string }) => e.path)).toContain('body.password');
    const wrong = await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()), password: 'Guessed-by-a-thief-1' });
    expect(wrong.status).toBe(400);
    const body = await wrong.json();
    expect(body.code).toBe('invalid_password');
    expect(body.errors[0].path).toBe('body.password');
    expect((await (await t.api('/users/me', { token: u.accessToken })).json()).twoFactorEnabled).toBe(false);
    expect((await t.api('/users/me', { token: other.accessToken })).status).toBe(200);
    expect((await login(u)).status).toBe(200);
    const failed = await t.db('audit_logs').where({ user_id: u.id, action: 'auth.2fa_enable_failed' }).select('actor_id', 'after');
    expect(failed).toEqual([{ actor_id: u.id, after: { reason: 'wrong_password' } }]);
  });

  it('mails the owner that 2FA was turned on', async () => {
    const u = await userWith2fa();
    const mail = await smtp.waitForSubject(u.email, 'Two-factor authentication is on');
    expect(mail.text).toContain('Two-factor authentication was turned on');
    expect(mail.text).not.toContain(u.secret);
    for (const c of u.recoveryCodes) expect(mail.text).not.toContain(c);
  });
});

describe('one failure limit for every password check', () => {
  it('wrong passwords at password change use up the budget of 2FA enable and of login from that address', async () => {
    const u = await registerAndLogin(t);
    const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
    for (let i = 0; i < 10; i++) {
      const res = await post('/users/me/password', u.accessToken, { currentPassword: `Wrong-current-${i}`, newPassword: 'Amber-meadow-falcon-99' });
      expect(res.status).toBe(400);
    }
    const enable = await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()), password: u.password });
    expect(enable.status).toBe(429);
    expect(Number(enable.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(u)).status).toBe(429);
    expect((await (await t.api('/users/me', { token: u.accessToken })).json()).twoFactorEnabled).toBe(false);
  });

  it('guards 2FA disable: after 10 wrong passwords the right one gets 429 and 2FA stays on', async () => {
    const u = await userWith2fa();
    for (let i = 0; i < 10; i++) {
      const res = await post('/auth/2fa/disable', u.accessToken, { password: `Wrong-password-${i}`, code: '000000' });
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe('invalid_password');
    }
    expect((await post('/auth/2fa/disable', u.accessToken, { password: u.password, code: nextCode(u.secret) })).status).toBe(429);
    expect((await login(u)).status).toBe(429);
    expect(await t.db('audit_logs').where({ user_id: u.id, action: 'auth.2fa_disable_failed' }).count('* as n').first()).toEqual({ n: '10' });
  });
});

describe('recovery when the authenticator and the codes are lost', () => {
  it('an admin clears 2FA: audited with the admin as actor, the user is mailed, nothing else is revoked', async () => {
    const u = await userWith2fa();
    const admin = await registerAndLogin(t);
    const other = await (await login(u, { totp: nextCode(u.secret) })).json();
    const cleared = await t.app.services!.auth.twoFactor.clearTwoFactor(u.id, systemWrite(admin.id, admin.id));
    expect(cleared).toBe(true);
    expect((await login(u)).status).toBe(200);
    expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(200);
    expect((await t.api('/users/me', { token: other.accessToken })).status).toBe(200);
    expect((await (await t.api('/users/me', { token: u.accessToken })).json()).twoFactorEnabled).toBe(false);
    expect(await t.db('recovery_codes').where({ user_id: u.id })).toHaveLength(0);
    const entries = await t.db('audit_logs').where({ user_id: u.id, action: 'auth.2fa_cleared' }).select('actor_id', 'before', 'after');
    expect(entries).toEqual([{ actor_id: admin.id, before: { twoFactorEnabled: true }, after: { twoFactorEnabled: false, recoveryCodesDeleted: 10 } }]);
    const mail = await smtp.waitForSubject(u.email, 'Two-factor authentication is off');
    expect(mail.text).toContain('An administrator turned two-factor authentication off');
    // Clearing again changes nothing and writes nothing.
    expect(await t.app.services!.auth.twoFactor.clearTwoFactor(u.id, systemWrite(admin.id, admin.id))).toBe(false);
    expect(await t.db('audit_logs').where({ user_id: u.id, action: 'auth.2fa_cleared' })).toHaveLength(1);
  });
});

describe('logging in with 2FA on', () => {
  it('without a code answers 401 mfa_required', async () => {
    const u = await userWith2fa();
    const res = await login(u);
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('mfa_required');
  });

  it('with a wrong password answers the plain invalid-credentials 401, code or not', async () => {
    const u = await userWith2fa();
    const res = await post('/auth/login', undefined, { email: u.email, password: 'Wrong-password-77', totp: nextCode(u.secret) });
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('invalid_credentials');
  });

  it('accepts a current code once; the same code again is refused (no replay)', async () => {
    const u = await userWith2fa();
    const code = nextCode(u.secret);
    const first = await login(u, { totp: code });
    expect(first.status).toBe(200);
    const again = await login(u, { totp: code });
    expect(again.status).toBe(401);
    expect((await again.json()).code).toBe('mfa_invalid');
    // A code of an earlier step is refused as well.
    expect((await login(u, { totp: totpCode(u.secret, t.clock.now(), -1) })).status).toBe(401);
    expect((await login(u, { totp: nextCode(u.secret) })).status).toBe(200);
  });

  it('refuses the code used to enable 2FA', async () => {
    const u = await registerAndLogin(t);
    const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
    const code = totpCode(secret, t.clock.now());
    expect((await post('/auth/2fa/enable', u.accessToken, { code, password: u.password })).status).toBe(200);
    expect((await login(u, { totp: code })).status).toBe(401);
  });

  it('refuses a wrong code with 401 mfa_invalid and audits the failure', async () => {
    const u = await userWith2fa();
    const res = await login(u, { totp: totpCode(u.secret, new Date(t.clock.now().getTime() + 20 * STEP)) });
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('mfa_invalid');
    const failed = await t.db('audit_logs').where({ user_id: u.id, action: 'auth.login_failed' }).pluck('after');
    expect(failed).toContainEqual({ reason: 'mfa_invalid' });
  });

  it('accepts each recovery code once instead of a TOTP code', async () => {
    const u = await userWith2fa();
    const [code, other] = u.recoveryCodes;
    expect((await login(u, { recoveryCode: code })).status).toBe(200);
    const reuse = await login(u, { recoveryCode: code });
    expect(reuse.status).toBe(401);
    expect((await reuse.json()).code).toBe('mfa_invalid');
    expect((await login(u, { recoveryCode: other.toUpperCase() })).status).toBe(200);
    expect(await t.db('recovery_codes').where({ user_id: u.id }).whereNotNull('used_at').count('* as n').first()).toEqual({ n: '2' });
  });
});

describe('POST /auth/2fa/disable', () => {
  it('turns 2FA off with the password and a current code', async () => {
    const u = await userWith2fa();
    const res = await post('/auth/2fa/disable', u.accessToken, { password: u.password, code: nextCode(u.secret) });
    expect(res.status).toBe(204);
    expect((await login(u)).status).toBe(200);
    expect((await (await t.api('/users/me', { token: u.accessToken })).json()).twoFactorEnabled).toBe(false);
    expect(await t.db('recovery_codes').where({ user_id: u.id })).toHaveLength(0);
    const actions = await t.db('audit_logs').where({ user_id: u.id }).pluck('action');
    expect(actions).toContain('auth.2fa_disabled');
    const mail = await smtp.waitForSubject(u.email, 'Two-factor authentication is off');
    expect(mail.text).toContain('Two-factor authentication was turned off');
  });

  it('accepts a recovery code instead of a TOTP code', async () => {
    const u = await userWith2fa();
    expect((await post('/auth/2fa/disable', u.accessToken, { password: u.password, code: u.recoveryCodes[3] })).status).toBe(204);
  });

  it('refuses a wrong password or a wrong or replayed code with 400 and leaves 2FA on', async () => {
    const u = await userWith2fa();
    const code = nextCode(u.secret);
    const badPw = await post('/auth/2fa/disable', u.accessToken, { password: 'Not-my-password-9', code });
    expect(badPw.status).toBe(400);
    expect((await badPw.json()).code).toBe('invalid_password');
    expect((await login(u, { totp: code })).status).toBe(200);
    const replay = await post('/auth/2fa/disable', u.accessToken, { password: u.password, code });
    expect(replay.status).toBe(400);
    expect((await replay.json()).code).toBe('invalid_code');
    expect((await login(u)).status).toBe(401);
  });

  it('answers 409 when 2FA is off and 400 for a missing field', async () => {
    const u = await registerAndLogin(t);
    expect((await post('/auth/2fa/disable', u.accessToken, { password: u.password, code: '123456' })).status).toBe(409);
    expect((await post('/auth/2fa/disable', u.accessToken, { password: u.password })).status).toBe(400);
  });
});
