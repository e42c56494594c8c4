import { useTestAppWithSmtp } from '../helpers/app.js';
import { registerAndLogin, uniqueEmail } from '../helpers/users.js';

const { t, smtp } = useTestAppWithSmtp({ PUBLIC_URL: 'https://app.numina.test' });

const forgot = (email: string) => t.api('/auth/password/forgot', { method: 'POST', json: { email } });
const reset = (token: string, newPassword: string) => t.api('/auth/password/reset', { method: 'POST', json: { token, newPassword } });
const login = (email: string, password: string) => t.api('/auth/login', { method: 'POST', json: { email, password } });

/** Asks for a reset and returns the token from the link in the mail the SMTP server received. */
async function resetTokenFor(email: string): Promise<string> {
  const before = smtp.mails.length;
  expect((await forgot(email)).status).toBe(202);
  // Registration mails a verification link too: wait for the reset mail itself.
  const mail = await smtp.waitForSubject(email, 'Reset your Numina password', { skip: before });
  const link = /https:\/\/app\.numina\.test\/reset-password\?token=([A-Za-z0-9_%-]+)/.exec(mail.text);
  expect(link).not.toBeNull();
  return decodeURIComponent(link![1]);
}

describe('POST /auth/password/forgot', () => {
  it('answers 202 for a known email and mails a reset link under PUBLIC_URL', async () => {
    const u = await registerAndLogin(t);
    const res = await forgot(u.email.toUpperCase());
    expect(res.status).toBe(202);
    const mail = await smtp.waitForSubject(u.email, 'Reset your Numina password');
    expect(mail.to).toEqual([u.email]);
    expect(mail.subject).toContain('Reset your Numina password');
    expect(mail.text).toMatch(/https:\/\/app\.numina\.test\/reset-password\?token=[A-Za-z0-9_-]{43}/);
  });

  it('answers 202 for an unknown email and sends nothing', async () => {
    const nobody = uniqueEmail('nobody');
    const res = await forgot(nobody);
    expect(res.status).toBe(202);
    // A known email asked afterwards gets its mail; by then nothing went to the unknown one.
    const u = await registerAndLogin(t);
    await resetTokenFor(u.email);
    expect(smtp.mails.filter((m) => m.to.includes(nobody))).toHaveLength(0);
  });

  it('stores only a hash of the token, valid for at most one hour', async () => {
    const u = await registerAndLogin(t);
    const token = await resetTokenFor(u.email);
    const rows = await t.db('password_reset_tokens').where({ user_id: u.id });
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toBe(token);
    expect(new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime()).toBeLessThanOrEqual(60 * 60 * 1000);
    expect(await t.db('audit_logs').where({ user_id: u.id }).pluck('action')).toContain('auth.password_reset_requested');
  });

  it('limits requests per email: the 6th within an hour gets 429', async () => {
    const email = uniqueEmail('flood');
    for (let i = 0; i < 5; i++) expect((await forgot(email)).status).toBe(202);
    const res = await forgot(email);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect((await forgot(uniqueEmail('other'))).status).toBe(202);
  });

  it('refuses a body without an email with 400', async () => {
    expect((await t.api('/auth/password/forgot', { method: 'POST', json: {} })).status).toBe(400);
  });
});

describe('POST /auth/password/reset', () => {
  it('sets the new password and revokes every existing login', async () => {
    const u = await registerAndLogin(t);
    const token = await resetTokenFor(u.email);
    const newPassword = 'Quiet-harbor-lantern-58';
    expect((await reset(token, newPassword)).status).toBe(204);
    expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).status).toBe(401);
    expect((await login(u.email, u.password)).status).toBe(401);
    expect((await login(u.email, newPassword)).status).toBe(200);
    expect(await t.db('audit_logs').where({ user_id: u.id }).pluck('action')).toContain('auth.password_reset');
  });

  it('refuses a token used once already', async () => {
    const u = await registerAndLogin(t);
    const token = await resetTokenFor(u.email);
    expect((await reset(token, 'Quiet-harbor-lantern-59')).status).toBe(204);
    const again = await reset(token, 'Another-quiet-harbor-60');
    expect(again.status).toBe(400);
    expect((await again.json()).code).toBe('invalid_token');
    expect((await login(u.email, 'Quiet-harbor-lantern-59')).status).toBe(200);
  });

  it('refuses a token after one hour, and accepts it just before', async () => {
    const a = await registerAndLogin(t);
    const b = await registerAndLogin(t);
    const tokenA = await resetTokenFor(a.email);
    const tokenB = await resetTokenFor(b.email);
    t.clock.advance(59 * 60 * 1000);
    expect((await reset(tokenA, 'Still-in-time-harbor-61')).status).toBe(204);
    t.clock.advance(2 * 60 * 1000);
    const late = await reset(tokenB, 'Too-late-harbor-lantern-62');
    expect(late.status).toBe(400);
    expect((await late.json()).code).toBe('invalid_token');
    expect((await login(b.email, b.password)).status).toBe(200);
  });

  it('refuses a weak new password with 400 and keeps the token usable', async () => {
    const u = await registerAndLogin(t);
    const token = await resetTokenFor(u.email);
    const weak = await reset(token, 'password123');
    expect(weak.status).toBe(400);
    expect((await weak.json()).errors[0].path).toBe('body.newPassword');
    expect((await reset(token, 'Strong-harbor-lantern-63')).status).toBe(204);
  });

  it('refuses an unknown token with 400 and a malformed body with 400', async () => {
    expect((await reset('not-a-real-token', 'Strong-harbor-lantern-64')).status).toBe(400);
    expect((await t.api('/auth/password/reset', { method: 'POST', json: { token: 'x' } })).status).toBe(400);
  });

  it('a link mailed before a password change no longer works after it', async () => {
    const u = await registerAndLogin(t);
    const token = await resetTokenFor(u.email);
    const change = await t.api('/users/me/password', { method: 'POST', token: u.accessToken, json: { currentPassword: u.password, newPassword: 'Changed-harbor-lantern-67' } });
    expect(change.status).toBe(204);
    expect((await reset(token, 'Strong-harbor-lantern-68')).status).toBe(400);
    expect((await login(u.email, 'Changed-harbor-lantern-67')).status).toBe(200);
  });

  it('spends the user’s other outstanding reset tokens too', async () => {
    const u = await registerAndLogin(t);
    const first = await resetTokenFor(u.email);
    const second = await resetTokenFor(u.email);
    expect(first).not.toBe(second);
    expect((await reset(second, 'Strong-harbor-lantern-65')).status).toBe(204);
    expect((await reset(first, 'Strong-harbor-lantern-66')).status).toBe(400);
  });
});
