import { useTestAppWithSmtp } from '../helpers/app.js';
import { type ReceivedMail } from '../helpers/smtp.js';
import { registerAndLogin, uniqueEmail, type TestUser } from '../helpers/users.js';

const { t, smtp } = useTestAppWithSmtp({ PUBLIC_URL: 'https://app.numina.test' });

const DAY = 24 * 60 * 60 * 1000;
const post = (path: string, token: string, json: unknown) => t.api(path, { method: 'POST', token, json });
const me = async (token: string) => (await t.api('/users/me', { token })).json();
const login = (email: string, password: string) => t.api('/auth/login', { method: 'POST', json: { email, password } });
/** A fresh access token after the clock moved past the old one's 15 minutes. */
const freshToken = async (u: TestUser) => ((await (await login(u.email, u.password)).json()) as { accessToken: string }).accessToken;

function tokenIn(mail: ReceivedMail, page: string): string {
  const m = new RegExp(`https://app\\.numina\\.test/${page}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text);
  expect(m).not.toBeNull();
  return decodeURIComponent(m![1]);
}
const verificationToken = async (email: string, skip = 0) => tokenIn(await smtp.waitForSubject(email, 'Confirm your email address', { skip }), 'verify-email');

async function requestChange(u: TestUser, newEmail: string): Promise<string> {
  const before = smtp.mails.length;
  const res = await post('/users/me/email', u.accessToken, { newEmail, password: u.password });
  expect(res.status).toBe(202);
  return tokenIn(await smtp.waitForSubject(newEmail, 'Confirm your new email address', { skip: before }), 'confirm-email');
}

describe('email verification', () => {
  it('registration mails a link; POST /users/me/email/verify marks the address verified (audited)', async () => {
    const u = await registerAndLogin(t);
    expect((await me(u.accessToken)).emailVerified).toBe(false);
    const token = await verificationToken(u.email);
    expect((await post('/users/me/email/verify', u.accessToken, { token })).status).toBe(204);
    expect((await me(u.accessToken)).emailVerified).toBe(true);
    expect(await t.app.services!.users.verifiedEmail(u.id)).toBe(u.email);
    expect(await t.app.services!.users.isEmailVerified(u.id)).toBe(true);
    const actions = await t.db('audit_logs').where({ user_id: u.id }).pluck('action');
    expect(actions).toContain('user.email_verified');
  });

  it('stores only a hash of the token, valid for at most 24 hours', async () => {
    const u = await registerAndLogin(t);
    const token = await verificationToken(u.email);
    const rows = await t.db('email_tokens').where({ user_id: u.id });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime()).toBe(DAY);
  });

  it('refuses a used token, another user’s token and an expired one with 400 invalid_token', async () => {
    const a = await registerAndLogin(t);
    const b = await registerAndLogin(t);
    const tokenA = await verificationToken(a.email);
    const refused = await post('/users/me/email/verify', b.accessToken, { token: tokenA });
    expect(refused.status).toBe(400);
    expect((await refused.json()).code).toBe('invalid_token');
    expect((await me(b.accessToken)).emailVerified).toBe(false);
    expect((await post('/users/me/email/verify', a.accessToken, { token: tokenA })).status).toBe(204);
    expect((await post('/users/me/email/verify', a.accessToken, { token: tokenA })).status).toBe(400);

    const c = await registerAndLogin(t);
    const tokenC = await verificationToken(c.email);
    t.clock.advance(DAY + 1000);
    const later = await freshToken(c);
    expect((await post('/users/me/email/verify', later, { token: tokenC })).status).toBe(400);
    expect((await me(later)).emailVerified).toBe(false);
  });

  it('answers 400 for a missing token and 401 without an access token', async () => {
    const u = await registerAndLogin(t);
    expect((await post('/users/me/email/verify', u.accessToken, {})).status).toBe(400);
    expect((await t.api('/users/me/email/verify', { method: 'POST', json: { token: 'x' } })).status).toBe(401);
  });
});

describe('POST /users/me/email', () => {
  it('mails a confirmation link to the new address and a notice to the old one; nothing changes until it is confirmed', async () => {
    const u = await registerAndLogin(t);
    const newEmail = uniqueEmail('moved');
    const before = smtp.mails.length;
    const token = await requestChange(u, newEmail);
    const notice = await smtp.waitForSubject(u.email, 'Your Numina email address is about to change', { skip: before });
    expect(notice.text).not.toContain(token);
    expect(notice.text).not.toContain(newEmail);
    expect((await me(u.accessToken)).email).toBe(u.email);

    expect((await post('/users/me/email/confirm', u.accessToken, { token })).status).toBe(204);
    const profile = await me(u.accessToken);
    expect(profile).toMatchObject({ email: newEmail, emailVerified: true });
    expect((await login(newEmail, u.password)).status).toBe(200);
    expect((await login(u.email, u.password)).status).toBe(401);
    const entries = await t.db('audit_logs').where({ user_id: u.id }).whereIn('action', ['user.email_change_requested', 'user.email_changed']).orderBy('seq').select('action', 'before', 'after');
    expect(entries).toEqual([
      { action: 'user.email_change_requested', before: { email: u.email }, after: { newEmail } },
      { action: 'user.email_changed', before: { email: u.email, emailVerified: false }, after: { email: newEmail, emailVerified: true } },
    ]);
    // Single use.
    expect((await post('/users/me/email/confirm', u.accessToken, { token })).status).toBe(400);
  });

  it('refuses a wrong password with 400 invalid_password, audited, and mails nothing', async () => {
    const u = await registerAndLogin(t);
    const newEmail = uniqueEmail('never');
    const res = await post('/users/me/email', u.accessToken, { newEmail, password: 'Not-my-password-1' });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.code).toBe('invalid_password');
    expect(body.errors[0].path).toBe('body.password');
    expect(await t.db('email_tokens').where({ user_id: u.id, purpose: 'change' })).toHaveLength(0);
    expect(await t.db('audit_logs').where({ user_id: u.id, action: 'user.email_change_failed' })).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.to.includes(newEmail))).toHaveLength(0);
  });

  it('refuses an address another account uses with 409, and an invalid one with 400', async () => {
    const u = await registerAndLogin(t);
    const other = await registerAndLogin(t);
    const taken = await post('/users/me/email', u.accessToken, { newEmail: other.email.toUpperCase(), password: u.password });
    expect(taken.status).toBe(409);
    expect((await taken.json()).code).toBe('email_taken');
    const bad = await post('/users/me/email', u.accessToken, { newEmail: 'not-an-email', password: u.password });
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].path).toBe('body.newEmail');
  });

  it('answers 409 at confirmation when another account took the address meanwhile', async () => {
    const u = await registerAndLogin(t);
    const newEmail = uniqueEmail('contested');
    const token = await requestChange(u, newEmail);
    await registerAndLogin(t, { email: newEmail });
    const res = await post('/users/me/email/confirm', u.accessToken, { token });
    expect(res.status).toBe(409);
    expect((await me(u.accessToken)).email).toBe(u.email);
  });

  it('a confirmation link works once, for its own user, within 24 hours', async () => {
    const u = await registerAndLogin(t);
    const stranger = await registerAndLogin(t);
    const token = await requestChange(u, uniqueEmail('late'));
    expect((await post('/users/me/email/confirm', stranger.accessToken, { token })).status).toBe(400);
    t.clock.advance(DAY + 1000);
    const later = await freshToken(u);
    const res = await post('/users/me/email/confirm', later, { token });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('invalid_token');
    expect((await me(later)).email).toBe(u.email);
  });

  it('a verification link sent to the old address stops working once the address changed', async () => {
    const u = await registerAndLogin(t);
    const oldLink = await verificationToken(u.email);
    const token = await requestChange(u, uniqueEmail('new'));
    expect((await post('/users/me/email/confirm', u.accessToken, { token })).status).toBe(204);
    expect((await post('/users/me/email/verify', u.accessToken, { token: oldLink })).status).toBe(400);
  });

  it('the current address again sends a fresh verification link (for accounts from before verification existed)', async () => {
    const u = await registerAndLogin(t);
    // The registration's own link is mailed after its commit: let it arrive first, so the link read
    // below is the fresh one (the older link stops working once a new one is issued).
    await verificationToken(u.email);
    const before = smtp.mails.length;
    expect((await post('/users/me/email', u.accessToken, { newEmail: u.email, password: u.password })).status).toBe(202);
    const token = await verificationToken(u.email, before);
    expect((await post('/users/me/email/verify', u.accessToken, { token })).status).toBe(204);
    expect((await me(u.accessToken)).emailVerified).toBe(true);
  });
});
