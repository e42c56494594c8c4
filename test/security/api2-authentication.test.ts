import { useTestApp, useUsers } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';
import { registerAndLogin, uniqueEmail } from '../helpers/users.js';

/**
 * OWASP API2:2023 Broken Authentication: forged, altered, expired and revoked tokens are refused;
 * a stolen refresh token is caught on reuse; login answers do not tell whether an email exists;
 * password guessing is throttled.
 */
const t = useTestApp();
const [alice, bob] = useUsers(t, 2);

const me = (token: string) => t.api('/users/me', { token });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const login = (email: string, password: string) => t.api('/auth/login', { method: 'POST', json: { email, password } });

describe('API2 broken authentication', () => {
  it('accepts the real token (the control case)', async () => {
    expect((await me(alice.accessToken)).status).toBe(200);
  });

  it('refuses a token whose claims were changed (sub, role) under the original signature', async () => {
    const [header, payload, signature] = alice.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    for (const changed of [{ ...claims, sub: bob.id }, { ...claims, role: 'admin' }, { ...claims, exp: claims.exp + 3600 }]) {
      await expectProblem(await me(`${header}.${b64(changed)}.${signature}`), 401);
    }
  });

  it('refuses alg:none, an empty signature and a token signed with another key', async () => {
    const [, payload] = alice.accessToken.split('.');
    await expectProblem(await me(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`), 401);
    await expectProblem(await me(`${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}.`), 401);
    await expectProblem(await me(`${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}.${Buffer.from('x'.repeat(32)).toString('base64url')}`), 401);
    await expectProblem(await t.api('/users/me', { headers: { authorization: `Basic ${Buffer.from(`${alice.email}:${alice.password}`).toString('base64')}` } }), 401);
  });

  it('refuses an access token once it expired (at most 15 minutes)', async () => {
    const u = await registerAndLogin(t);
    t.clock.advance(15 * 60_000 + 1000);
    try {
      await expectProblem(await me(u.accessToken), 401);
    } finally {
      t.clock.advance(-(15 * 60_000 + 1000));
    }
  });

  it('refuses the access token of a login that logged out', async () => {
    const u = await registerAndLogin(t);
    expect((await t.api('/auth/logout', { method: 'POST', token: u.accessToken, json: {} })).status).toBe(204);
    await expectProblem(await me(u.accessToken), 401);
    await expectProblem(await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } }), 401);
  });

  it('treats a reused refresh token as stolen: the whole login is revoked', async () => {
    const u = await registerAndLogin(t);
    const rotated = (await (await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).json()) as { accessToken: string; refreshToken: string };
    expect((await me(rotated.accessToken)).status).toBe(200);
    await expectProblem(await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } }), 401);
    await expectProblem(await me(rotated.accessToken), 401);
    await expectProblem(await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: rotated.refreshToken } }), 401);
  });

  it('answers an unknown email and a wrong password with the same body', async () => {
    const unknown = await login(uniqueEmail('nobody'), 'Some-password-123');
    const wrong = await login(alice.email, 'Some-password-123');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(await unknown.json())).toEqual(strip(await wrong.json()));
  });

  it('throttles password guessing against one account (429 with Retry-After), and the owner\u2019s other logins keep working', async () => {
    const u = await registerAndLogin(t);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login(u.email, `Wrong-guess-${i}-xyz`)).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    const limited = await login(u.email, 'Wrong-guess-final-xyz');
    await expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await me(u.accessToken)).status).toBe(200);
    // Another account is not affected.
    expect((await login(bob.email, bob.password)).status).toBe(200);
  });

  it('refuses every token of a disabled user at once', async () => {
    const u = await registerAndLogin(t);
    await t.db('users').where({ id: u.id }).update({ disabled: true });
    await expectProblem(await me(u.accessToken), 401);
    expect((await login(u.email, u.password)).status).toBe(401);
    await expectProblem(await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } }), 401);
  });
});
