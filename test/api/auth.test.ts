import { createHmac } from 'node:crypto';
import pg from 'pg';
import { createPasswordHasher } from '../../server/auth/index.js';
import { systemWrite } from '../../server/shared/write-context.js';
import { startTestApp, testDatabaseUrl, useTestApp, type TestApp } from '../helpers/app.js';
import { registerAndLogin, uniqueEmail } from '../helpers/users.js';

const t = useTestApp();

const strong = () => `Violet-otter-${Math.random().toString(36).slice(2, 10)}-lamp`;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
const withoutRequestId = (body: Record<string, unknown>) => {
  const { requestId: _ignored, ...rest } = body;
  return rest;
};
async function auditActions(userId: string): Promise<{ action: string; before: unknown; after: unknown }[]> {
  return t.db('audit_logs').where({ user_id: userId }).orderBy('seq').select('action', 'before', 'after');
}
const login = (email: string, password: string, extra: Record<string, unknown> = {}) =>
  t.api('/auth/login', { method: 'POST', json: { email, password, ...extra } });
const me = (token: string) => t.api('/users/me', { token });

describe('POST /auth/register', () => {
  it('creates a user with a lowercased email and default currency and time zone', async () => {
    const email = uniqueEmail('Mixed.Case').replace('mixed', 'MiXeD');
    const res = await t.api('/auth/register', { method: 'POST', json: { email: email.toUpperCase(), password: strong(), name: 'Ada' } });
    expect(res.status).toBe(201);
    const { user } = await res.json();
    expect(user).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      emailVerified: false,
      name: 'Ada',
      currency: 'USD',
      timeZone: 'UTC',
      role: 'user',
      twoFactorEnabled: false,
      notifyByEmail: false,
      createdAt: expect.any(String),
    });
    const actions = await auditActions(user.id);
    expect(actions.map((a) => a.action)).toEqual(['auth.register']);
    expect(JSON.stringify(actions)).not.toContain('Violet-otter');
  });

  it('keeps the currency and IANA time zone given', async () => {
    const res = await t.api('/auth/register', { method: 'POST', json: { email: uniqueEmail(), password: strong(), currency: 'JPY', timeZone: 'Asia/Tokyo' } });
    expect(res.status).toBe(201);
    expect((await res.json()).user).toMatchObject({ currency: 'JPY', timeZone: 'Asia/Tokyo', name: null });
  });

  it('refuses an email already registered in another letter case with 409', async () => {
    const email = uniqueEmail('dup');
    expect((await t.api('/auth/register', { method: 'POST', json: { email, password: strong() } })).status).toBe(201);
    const again = await t.api('/auth/register', { method: 'POST', json: { email: email.toUpperCase(), password: strong() } });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect((await again.json()).code).toBe('email_taken');
  });

  it('lets exactly one of two simultaneous registrations of one email through', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(
      [email, email.toUpperCase()].map((e) => t.api('/auth/register', { method: 'POST', json: { email: e, password: strong() } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await t.db('users').whereRaw('lower(email) = ?', [email]).count('* as n').first()).toEqual({ n: '1' });
  });

  it.each([
    ['shorter than 10 characters', 'Xk9#pq2!'],
    ['a very common password', 'password123'],
    ['a keyboard walk', 'qwertyuiop'],
    ['common with decorations', 'Password123!'],
  ])('refuses a password that is %s with 400', async (_what, password) => {
    const res = await t.api('/auth/register', { method: 'POST', json: { email: uniqueEmail(), password } });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.code).toBe('validation_failed');
    expect(body.errors[0].path).toBe('body.password');
  });

  it('refuses a password longer than 128 characters', async () => {
    const res = await t.api('/auth/register', { method: 'POST', json: { email: uniqueEmail(), password: 'Zq8!'.repeat(33) } });
    expect(res.status).toBe(400);
  });

  it('refuses a password made of the email address', async () => {
    const email = `zebulonfrobisher+${Date.now()}@example.com`;
    const res = await t.api('/auth/register', { method: 'POST', json: { email, password: 'zebulonfrobisher2024' } });
    expect(res.status).toBe(400);
  });

  it.each([
    ['an invalid email', { email: 'not-an-email' }],
    ['an unknown currency', { currency: 'XYZ' }],
    ['a lowercase currency', { currency: 'usd' }],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }],
    ['a raw offset as time zone', { timeZone: '+01:00' }],
    ['a role (mass assignment)', { role: 'admin' }],
    ['an unknown key', { disabled: false }],
  ])('refuses %s with 400 and creates nothing', async (_what, patch) => {
    const email = uniqueEmail('bad');
    const res = await t.api('/auth/register', { method: 'POST', json: { email, password: strong(), ...patch } });
    expect(res.status).toBe(400);
    expect(await t.db('users').whereRaw('lower(email) = ?', [email]).first()).toBeUndefined();
  });
});

describe('POST /auth/login', () => {
  it('returns a short-lived HS256 access token with sub, role, sid, iss and aud, and a refresh token', async () => {
    const u = await registerAndLogin(t);
    const res = await login(u.email, u.password);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900, user: expect.objectContaining({ id: u.id, email: u.email }) });
    const header = JSON.parse(Buffer.from(body.accessToken.split('.')[0], 'base64url').toString());
    expect(header.alg).toBe('HS256');
    const claims = decode(body.accessToken);
    expect(claims).toMatchObject({ sub: u.id, role: 'user', sid: expect.any(String), iss: 'numina', aud: 'numina-api' });
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(15 * 60);
    // The refresh token is stored only as a hash.
    const stored = await t.db('refresh_tokens').where({ user_id: u.id }).pluck('token_hash');
    expect(stored).not.toContain(body.refreshToken);
    expect(stored.length).toBeGreaterThan(0);
  });

  it('accepts the email in another letter case', async () => {
    const u = await registerAndLogin(t);
    expect((await login(u.email.toUpperCase(), u.password)).status).toBe(200);
  });

  it('answers a wrong password and an unknown email with the same 401 body', async () => {
    const u = await registerAndLogin(t);
    const wrong = await login(u.email, 'Not-the-password-123');
    const unknown = await login(uniqueEmail('nobody'), 'Not-the-password-123');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const a = withoutRequestId(await wrong.json());
    const b = withoutRequestId(await unknown.json());
    expect(a).toEqual(b);
    expect(a.code).toBe('invalid_credentials');
  });

  it('audits a failed login without the password', async () => {
    const u = await registerAndLogin(t);
    await login(u.email, 'Guessing-wrongly-42');
    const failed = (await auditActions(u.id)).filter((a) => a.action === 'auth.login_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].after).toEqual({ reason: 'wrong_password' });
    const raw = await t.db('audit_logs').where({ user_id: u.id }).select('*');
    expect(JSON.stringify(raw)).not.toContain('Guessing-wrongly-42');
  });

  it('records each successful login in the audit log', async () => {
    const u = await registerAndLogin(t);
    expect((await auditActions(u.id)).map((a) => a.action)).toEqual(['auth.register', 'auth.login']);
  });

  it('upgrades a hash made with older Argon2 parameters at the next successful login', async () => {
    const u = await registerAndLogin(t);
    const old = await createPasswordHasher({ memorySize: 4096, iterations: 1, parallelism: 1 }).hash(u.password);
    await t.db('users').where({ id: u.id }).update({ password_hash: old });
    expect((await login(u.email, u.password)).status).toBe(200);
    const { password_hash: upgraded } = await t.db('users').where({ id: u.id }).first('password_hash');
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  it('refuses unknown keys and malformed bodies with 400', async () => {
    expect((await t.api('/auth/login', { method: 'POST', json: { email: 'a@b.c', password: 'x', admin: true } })).status).toBe(400);
    expect((await t.api('/auth/login', { method: 'POST', json: { email: 'a@b.c' } })).status).toBe(400);
    expect((await t.api('/auth/login', { method: 'POST', json: [1, 2] })).status).toBe(400);
  });
});

describe('access tokens', () => {
  it('are required on protected routes', async () => {
    expect((await t.api('/users/me')).status).toBe(401);
    expect((await t.api('/users/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await me('garbage')).status).toBe(401);
    expect((await me('a.b.c')).status).toBe(401);
  });

  it('refuses a token whose payload was tampered with', async () => {
    const u = await registerAndLogin(t);
    const [h, , s] = u.accessToken.split('.');
    const tampered = `${h}.${b64({ ...decode(u.accessToken), role: 'admin' })}.${s}`;
    const res = await me(tampered);
    expect(res.status).toBe(401);
    expect((await me(u.accessToken)).status).toBe(200);
  });

  it('refuses an alg:none token', async () => {
    const u = await registerAndLogin(t);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(decode(u.accessToken))}.`;
    expect((await me(none)).status).toBe(401);
  });

  it('refuses a token signed with another algorithm name or another key', async () => {
    const u = await registerAndLogin(t);
    const claims = decode(u.accessToken);
    expect((await me(forge({ alg: 'HS512', typ: 'JWT' }, claims, t.config.jwtSecret))).status).toBe(401);
    expect((await me(forge({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-of-enough-length-000000'))).status).toBe(401);
    // The same claims signed properly are fine: the forging itself is right.
    expect((await me(forge({ alg: 'HS256', typ: 'JWT' }, claims, t.config.jwtSecret))).status).toBe(200);
  });

  it('refuses a token for another audience or issuer', async () => {
    const u = await registerAndLogin(t);
    const claims = decode(u.accessToken);
    expect((await me(forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'another-api' }, t.config.jwtSecret))).status).toBe(401);
    expect((await me(forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'someone-else' }, t.config.jwtSecret))).status).toBe(401);
  });

  it('expire after 15 minutes, and a refresh gives a working one', async () => {
    const u = await registerAndLogin(t);
    t.clock.advance(16 * 60 * 1000);
    const res = await me(u.accessToken);
    expect(res.status).toBe(401);
    const refreshed = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect((await me((await refreshed.json()).accessToken)).status).toBe(200);
  });

  it('stop working at once when their login is revoked', async () => {
    const u = await registerAndLogin(t);
    expect((await me(u.accessToken)).status).toBe(200);
    expect((await t.api('/auth/logout', { method: 'POST', token: u.accessToken, json: {} })).status).toBe(204);
    expect((await me(u.accessToken)).status).toBe(401);
  });
});

describe('POST /auth/refresh', () => {
  it('rotates the refresh token: the new pair works and the old refresh token is spent', async () => {
    const u = await registerAndLogin(t);
    const res = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    expect(res.status).toBe(200);
    const next = await res.json();
    expect(next).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: u.id } });
    expect(next.refreshToken).not.toBe(u.refreshToken);
    expect(decode(next.accessToken).sid).toBe(decode(u.accessToken).sid);
    expect((await me(next.accessToken)).status).toBe(200);
    expect((await auditActions(u.id)).map((a) => a.action)).toContain('auth.refresh');
  });

  it('treats a spent refresh token as stolen: 401, and the rotated successor and its access token are revoked', async () => {
    const u = await registerAndLogin(t);
    const next = await (await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).json();
    const replay = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    expect(replay.status).toBe(401);
    expect((await replay.json()).code).toBe('refresh_token_reused');
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: next.refreshToken } })).status).toBe(401);
    expect((await me(next.accessToken)).status).toBe(401);
    expect((await auditActions(u.id)).map((a) => a.action)).toContain('auth.refresh_reuse_detected');
  });

  it('leaves the user’s other logins alone when one login’s token is replayed', async () => {
    const u = await registerAndLogin(t);
    const other = await (await login(u.email, u.password)).json();
    await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    expect((await me(other.accessToken)).status).toBe(200);
  });

  it('lets only one of two simultaneous uses of a refresh token through, and revokes the login', async () => {
    const u = await registerAndLogin(t);
    const both = await Promise.all([0, 1].map(() => t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })));
    expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = await both.find((r) => r.status === 200)!.json();
    // The loser presented a spent token: the whole login is gone, including the winner's new tokens.
    expect((await me(winner.accessToken)).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: winner.refreshToken } })).status).toBe(401);
  });

  it('refuses an unknown refresh token with 401 and a missing one with 400', async () => {
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: 'nope' } })).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: {} })).status).toBe(400);
  });
});

describe('POST /auth/logout', () => {
  it('answers 204 and that login’s refresh token no longer works', async () => {
    const u = await registerAndLogin(t);
    const res = await t.api('/auth/logout', { method: 'POST', token: u.accessToken, json: { refreshToken: u.refreshToken } });
    expect(res.status).toBe(204);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).status).toBe(401);
    expect((await auditActions(u.id)).map((a) => a.action)).toContain('auth.logout');
  });

  it('needs an access token or a refresh token', async () => {
    expect((await t.api('/auth/logout', { method: 'POST', json: {} })).status).toBe(401);
    expect((await t.api('/auth/logout', { method: 'POST', json: { refreshToken: 'not-a-token' } })).status).toBe(401);
    expect((await t.api('/auth/logout', { method: 'POST', token: 'garbage', json: {} })).status).toBe(401);
  });

  it('ends the login with the refresh token alone once the access token has expired', async () => {
    const u = await registerAndLogin(t);
    const other = await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } });
    const otherTokens = (await other.json()) as { accessToken: string; refreshToken: string };
    t.clock.advance(16 * 60_000);
    try {
      expect((await t.api('/users/me', { token: u.accessToken })).status).toBe(401);
      const res = await t.api('/auth/logout', { method: 'POST', token: u.accessToken, json: { refreshToken: u.refreshToken } });
      expect(res.status).toBe(204);
      expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).status).toBe(401);
      // Only that login ended: the user's other login still refreshes.
      expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: otherTokens.refreshToken } })).status).toBe(200);
      expect((await auditActions(u.id)).map((a) => a.action)).toContain('auth.logout');
    } finally {
      t.clock.advance(-16 * 60_000);
    }
  });

  it('announces the revoked login on the numina_sessions_revoked channel after commit', async () => {
    const u = await registerAndLogin(t);
    const sid = decode(u.accessToken).sid;
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const received = new Promise<{ sessionIds: string[] }>((resolve) => {
        client.on('notification', (n) => {
          const payload = JSON.parse(n.payload ?? '{}');
          if (payload.sessionIds?.includes(sid)) resolve(payload);
        });
      });
      await client.query('LISTEN numina_sessions_revoked');
      await t.api('/auth/logout', { method: 'POST', token: u.accessToken, json: {} });
      expect(await received).toEqual({ sessionIds: [sid] });
    } finally {
      await client.end();
    }
  });

});

describe('GET /auth/sessions and DELETE /auth/sessions/:id', () => {
  it('lists the active logins with user agent, address, times and which one is current', async () => {
    const u = await registerAndLogin(t);
    await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password }, headers: { 'user-agent': 'NuminaPhone/1.0' } });
    const res = await t.api('/auth/sessions', { token: u.accessToken });
    expect(res.status).toBe(200);
    const { data, nextCursor } = await res.json();
    expect(nextCursor).toBeNull();
    expect(data).toHaveLength(2);
    const current = data.find((s: { current: boolean }) => s.current);
    expect(current.id).toBe(decode(u.accessToken).sid);
    const phone = data.find((s: { current: boolean }) => !s.current);
    expect(phone).toEqual({ id: expect.any(String), userAgent: 'NuminaPhone/1.0', ip: expect.any(String), createdAt: expect.any(String), lastUsedAt: expect.any(String), current: false });
  });

  it('pages through many logins with limit and cursor', async () => {
    const u = await registerAndLogin(t);
    await login(u.email, u.password);
    await login(u.email, u.password);
    const first = await (await t.api('/auth/sessions?limit=2', { token: u.accessToken })).json();
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await t.api(`/auth/sessions?limit=2&cursor=${first.nextCursor}`, { token: u.accessToken })).json();
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.data, ...second.data].map((s: { id: string }) => s.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toContain(decode(u.accessToken).sid);
    expect((await t.api('/auth/sessions?cursor=bogus', { token: u.accessToken })).status).toBe(400);
    expect((await t.api('/auth/sessions?limit=0', { token: u.accessToken })).status).toBe(400);
  });

  it('revokes one login: 204, and its access and refresh tokens stop working at once', async () => {
    const u = await registerAndLogin(t);
    const second = await (await login(u.email, u.password)).json();
    const sid = decode(second.accessToken).sid as string;
    expect((await me(second.accessToken)).status).toBe(200);
    const res = await t.api(`/auth/sessions/${sid}`, { method: 'DELETE', token: u.accessToken });
    expect(res.status).toBe(204);
    expect((await me(second.accessToken)).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: second.refreshToken } })).status).toBe(401);
    expect((await me(u.accessToken)).status).toBe(200);
    expect((await auditActions(u.id)).map((a) => a.action)).toContain('auth.session_revoked');
  });

  it('answers 404 for another user’s session and leaves it alone', async () => {
    const a = await registerAndLogin(t);
    const b = await registerAndLogin(t);
    const res = await t.api(`/auth/sessions/${decode(b.accessToken).sid}`, { method: 'DELETE', token: a.accessToken });
    expect(res.status).toBe(404);
    expect((await me(b.accessToken)).status).toBe(200);
  });

  it('answers 400 for a malformed id and 401 without a token', async () => {
    const u = await registerAndLogin(t);
    expect((await t.api('/auth/sessions/not-a-uuid', { method: 'DELETE', token: u.accessToken })).status).toBe(400);
    expect((await t.api('/auth/sessions')).status).toBe(401);
  });
});

describe('failed-login limit', () => {
  it('answers 429 with Retry-After after 10 failures for one email from one address, leaves other emails alone, and lifts when the window ends', async () => {
    const victim = await registerAndLogin(t);
    const bystander = await registerAndLogin(t);
    for (let i = 0; i < 10; i++) expect((await login(victim.email, `Wrong-password-${i}`)).status).toBe(401);
    const limited = await login(victim.email, victim.password);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).code).toBe('rate_limited');
    // The same email in another case is the same bucket.
    expect((await login(victim.email.toUpperCase(), victim.password)).status).toBe(429);
    expect((await login(bystander.email, bystander.password)).status).toBe(200);
    // The windows are kept in PostgreSQL (shared by all instances); end them there.
    const n = await t.db('rate_limits').where('key', 'like', `pw-fail-%${victim.email}%`).update({ reset_at: t.db.raw("now() - interval '1 second'") });
    expect(n).toBe(2);
    expect((await login(victim.email, victim.password)).status).toBe(200);
  });

  it('holds across server instances sharing the database', async () => {
    const second = await startTestApp();
    try {
      const u = await registerAndLogin(t);
      for (let i = 0; i < 5; i++) expect((await login(u.email, `Wrong-password-a${i}`)).status).toBe(401);
      for (let i = 0; i < 5; i++) {
        const res = await second.api('/auth/login', { method: 'POST', json: { email: u.email, password: `Wrong-password-b${i}` } });
        expect(res.status).toBe(401);
      }
      expect((await second.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } })).status).toBe(429);
      expect((await login(u.email, u.password)).status).toBe(429);
    } finally {
      await second.stop();
    }
  });

  it('does not count successful logins', async () => {
    const u = await registerAndLogin(t);
    for (let i = 0; i < 12; i++) expect((await login(u.email, u.password)).status).toBe(200);
  });

  it('holds across instances with the counters in Redis (REDIS_URL)', async () => {
    const a = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:6379' });
    const b = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:6379' });
    try {
      const u = await registerAndLogin(a);
      const tryLogin = (app: TestApp, password: string) => app.api('/auth/login', { method: 'POST', json: { email: u.email, password } });
      expect((await tryLogin(b, u.password)).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await tryLogin(a, `Wrong-password-r${i}`)).status).toBe(401);
      for (let i = 0; i < 5; i++) expect((await tryLogin(b, `Wrong-password-s${i}`)).status).toBe(401);
      expect((await tryLogin(a, u.password)).status).toBe(429);
      expect((await tryLogin(b, u.password)).status).toBe(429);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  describe('behind a trusted proxy (client addresses from X-Forwarded-For)', () => {
    const proxied = useTestApp({ TRUST_PROXY: 'loopback' });
    const from = (ip: string, email: string, password: string) =>
      proxied.api('/auth/login', { method: 'POST', headers: { 'x-forwarded-for': ip }, json: { email, password } });

    it('a stranger failing from another address does not lock the owner out', async () => {
      const owner = await registerAndLogin(proxied);
      for (let i = 0; i < 25; i++) {
        const res = await from('203.0.113.66', owner.email, `Guess-${i}-password`);
        expect(res.status).toBe(i < 10 ? 401 : 429);
      }
      expect((await from('198.51.100.10', owner.email, owner.password)).status).toBe(200);
      // The stranger's own address stays limited, right password or not.
      expect((await from('203.0.113.66', owner.email, owner.password)).status).toBe(429);
    });

    it('bounds distributed guessing: 100 failures per email across addresses, then 429 from everywhere', async () => {
      const owner = await registerAndLogin(proxied);
      // Ten addresses guessing side by side, ten wrong passwords each: all within their own limit.
      const statuses = await Promise.all(
        Array.from({ length: 10 }, async (_, a) => {
          const seen: number[] = [];
          for (let i = 0; i < 10; i++) seen.push((await from(`192.0.2.${a + 1}`, owner.email, `Guess-${a}-${i}-pw`)).status);
          return seen;
        }),
      );
      expect(statuses.flat()).toEqual(Array(100).fill(401));
      const res = await from('198.51.100.20', owner.email, owner.password);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }, 120_000);
  });
});

describe('TRUST_PROXY with a hop count', () => {
  it('takes the address the trusted proxy saw, not one the client wrote into X-Forwarded-For', async () => {
    const proxied = await startTestApp({ TRUST_PROXY: '1' });
    try {
      const u = await registerAndLogin(proxied);
      const res = await proxied.api('/auth/login', {
        method: 'POST',
        headers: { 'x-forwarded-for': '10.9.9.9, 198.51.100.7' },
        json: { email: u.email, password: u.password },
      });
      expect(res.status).toBe(200);
      const { accessToken } = await res.json();
      const sessions = (await (await proxied.api('/auth/sessions', { token: accessToken })).json()).data;
      const current = sessions.find((s: { current: boolean }) => s.current);
      expect(current.ip).toBe('198.51.100.7');
      const entry = await proxied.db('audit_logs').where({ user_id: u.id, action: 'auth.login' }).orderBy('seq', 'desc').first('ip');
      expect(entry.ip).toBe('198.51.100.7');
    } finally {
      await proxied.stop();
    }
  });
});

describe('access-token lifetime', () => {
  it('refuses a correctly signed token whose exp - iat is longer than 15 minutes', async () => {
    const u = await registerAndLogin(t);
    const claims = decode(u.accessToken);
    const iat = claims.iat as number;
    const long = forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: iat + 30 * 24 * 3600 }, t.config.jwtSecret);
    expect((await me(long)).status).toBe(401);
    const same = forge({ alg: 'HS256', typ: 'JWT' }, claims, t.config.jwtSecret);
    expect((await me(same)).status).toBe(200);
  });
});

describe('disabled users', () => {
  it('cannot log in or refresh, and their access tokens stop working at once', async () => {
    const u = await registerAndLogin(t);
    await t.app.services!.auth.tokens.setDisabled(systemWrite(u.id), true);
    expect((await me(u.accessToken)).status).toBe(401);
    const loginRes = await login(u.email, u.password);
    expect(loginRes.status).toBe(401);
    expect((await loginRes.json()).code).toBe('account_disabled');
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).status).toBe(401);
    expect((await auditActions(u.id)).map((a) => a.action)).toContain('user.disabled');
  });

  it('are refused even when the flag is set directly in the database', async () => {
    const u = await registerAndLogin(t);
    await t.db('users').where({ id: u.id }).update({ disabled: true });
    expect((await me(u.accessToken)).status).toBe(401);
    expect((await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } })).status).toBe(401);
    expect((await login(u.email, u.password)).status).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('documents every auth and users endpoint', async () => {
    const doc = await (await t.api('/openapi.json')).json();
    const expected: [string, string][] = [
      ['/auth/register', 'post'],
      ['/auth/login', 'post'],
      ['/auth/refresh', 'post'],
      ['/auth/logout', 'post'],
      ['/auth/password/forgot', 'post'],
      ['/auth/password/reset', 'post'],
      ['/auth/2fa/setup', 'post'],
      ['/auth/2fa/enable', 'post'],
      ['/auth/2fa/disable', 'post'],
      ['/auth/sessions', 'get'],
      ['/auth/sessions/{id}', 'delete'],
      ['/users/me', 'get'],
      ['/users/me/email', 'post'],
      ['/users/me/email/confirm', 'post'],
      ['/users/me/email/verify', 'post'],
      ['/users/me', 'patch'],
      ['/users/me/password', 'post'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method]).toBeDefined();
    expect(doc.paths['/auth/login'].post.requestBody).toBeDefined();
    expect(doc.paths['/auth/login'].post.responses['200'].content['application/json'].schema).toBeDefined();
  });
});
