import { useTestApp } from '../helpers/app.js';
import { registerAndLogin, totpCode, type TestUser } from '../helpers/users.js';

const t = useTestApp();

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
  const res = await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()) });
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
    const res = await post('/auth/2fa/enable', u.accessToken, { code: wrong });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('invalid_code');
    expect((await (await t.api('/users/me', { token: u.accessToken })).json()).twoFactorEnabled).toBe(false);
  });

  it('answers 409 before setup and when 2FA is already on', async () => {
    const fresh = await registerAndLogin(t);
    expect((await post('/auth/2fa/enable', fresh.accessToken, { code: '123456' })).status).toBe(409);
    const u = await userWith2fa();
    expect((await post('/auth/2fa/setup', u.accessToken, undefined)).status).toBe(409);
    expect((await post('/auth/2fa/enable', u.accessToken, { code: nextCode(u.secret) })).status).toBe(409);
  });

  it('revokes the user’s other logins, which were opened with one factor', async () => {
    const u = await registerAndLogin(t);
    const other = await (await login(u)).json();
    const { secret } = await (await post('/auth/2fa/setup', u.accessToken, undefined)).json();
    await post('/auth/2fa/enable', u.accessToken, { code: totpCode(secret, t.clock.now()) });
    expect((await t.api('/users/me', { token: other.accessToken })).status).toBe(401);
    expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(200);
  });

  it('limits wrong codes: after 10 failures further attempts get 429', async () => {
    const u = await registerAndLogin(t);
    await post('/auth/2fa/setup', u.accessToken, undefined);
    for (let i = 0; i < 10; i++) expect((await post('/auth/2fa/enable', u.accessToken, { code: '000000' })).status).toBe(400);
    const res = await post('/auth/2fa/enable', u.accessToken, { code: '000000' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
  });

  it('refuses a body without a code with 400', async () => {
    const u = await registerAndLogin(t);
    expect((await post('/auth/2fa/enable', u.accessToken, {})).status).toBe(400);
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
    expect((await post('/auth/2fa/enable', u.accessToken, { code })).status).toBe(200);
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
