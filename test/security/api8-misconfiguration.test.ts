import { randomBytes } from 'node:crypto';
import type { RouteSet } from '../../server/context.js';
import { startTestApp, useTestApp, useUsers } from '../helpers/app.js';
import { startBareApp } from '../helpers/bare-app.js';
import { expectProblem } from '../helpers/ledger.js';
import { concretePath, emptyBodyFor, routeLabel } from '../helpers/routes.js';

/**
 * OWASP API8:2023 Security Misconfiguration: security headers, CORS closed unless configured,
 * errors without internals, `Cache-Control: no-store` on every response of the registry that may
 * carry tokens, secrets or financial data, and /metrics closed in production.
 */
const t = useTestApp({}, { beforeStop: (app) => app.db('rate_limits').delete() });
const [u] = useUsers(t, 1);

const SOME_ID = '00000000-0000-4000-8000-000000000000';

describe('API8 Cache-Control: no-store', () => {
  it('is on every response of every registry route, for the caller and for a stranger (errors too)', async () => {
    const missing: string[] = [];
    // Logout last: it ends the caller's login, and the routes before it should see a live one.
    const routes = t.app.registry.routes.filter((x) => !x.cacheable).sort((a, b) => Number(a.path === '/auth/logout') - Number(b.path === '/auth/logout'));
    for (const r of routes) {
      for (const token of [u.accessToken, undefined]) {
        const res = await t.api(concretePath(r, SOME_ID), { method: r.method.toUpperCase(), token, json: emptyBodyFor(r) });
        await res.arrayBuffer();
        if (res.headers.get('cache-control') !== 'no-store') missing.push(`${routeLabel(r)} ${token ? 'user' : 'anonymous'} ${res.status}: ${res.headers.get('cache-control')}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('is on the token, 2FA-secret and financial responses themselves', async () => {
    const login = await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } });
    expect([login.status, login.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const { refreshToken, accessToken } = (await login.json()) as { refreshToken: string; accessToken: string };
    const refresh = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken } });
    expect([refresh.status, refresh.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const setup = await t.api('/auth/2fa/setup', { method: 'POST', token: accessToken });
    expect([setup.status, setup.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const accounts = await t.api('/accounts', { token: accessToken });
    expect([accounts.status, accounts.headers.get('cache-control')]).toEqual([200, 'no-store']);
  });

  it('only public, user-independent documents may be cached', () => {
    const cacheable = t.app.registry.routes.filter((r) => r.cacheable);
    expect(cacheable.every((r) => r.access === 'public' && r.method === 'get')).toBe(true);
    expect(cacheable.map(routeLabel).sort()).toEqual(['GET /docs', 'GET /openapi.json']);
  });
});

describe('API8 security headers', () => {
  it('sends the strict set on API responses and no X-Powered-By', async () => {
    const res = await t.api('/accounts', { token: u.accessToken });
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-powered-by')).toBeNull();
    // No HSTS over plain HTTP (it is sent when the server itself serves HTTPS: tls.test.ts).
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('API8 CORS', () => {
  it('is closed by default: no Access-Control-Allow-Origin for any origin, preflights included', async () => {
    const res = await t.api('/accounts', { token: u.accessToken, headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await t.api('/accounts', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the configured origins', async () => {
    const cors = await startTestApp({ CORS_ORIGINS: 'https://app.numina.test' });
    try {
      const ok = await cors.api('/healthz', { headers: { origin: 'https://app.numina.test' } });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.numina.test');
      const evil = await cors.api('/healthz', { headers: { origin: 'https://app.numina.test.evil.example' } });
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      expect(evil.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await cors.stop();
    }
  });
});

describe('API8 errors', () => {
  it('answers unknown routes and malformed JSON with problem details and no internals', async () => {
    const unknown = await t.api('/no/such/route');
    const unknownBody = await expectProblem(unknown, 404, 'not_found');
    const bad = await t.api('/accounts', { method: 'POST', token: u.accessToken, headers: { 'content-type': 'application/json' }, body: '{"name":' });
    await expectProblem(bad, 400);
    for (const body of [JSON.stringify(unknownBody)]) expect(body).not.toMatch(/at .*\.(ts|js):\d+|node_modules|SyntaxError/);
  });

  it('never sends a 500\u2019s message or stack to the client', async () => {
    const secret = `internal-detail-${randomBytes(4).toString('hex')}`;
    const boom: RouteSet = {
      register({ registry }) {
        registry.add({
          method: 'get',
          path: '/probe/misconfigured',
          access: 'public',
          summary: 'fails',
          tags: ['probe'],
          responses: { 500: { description: 'boom' } },
          handler: () => {
            throw new Error(secret);
          },
        });
      },
    };
    const bare = await startBareApp({ routes: [boom] });
    try {
      const res = await fetch(`${bare.url}/probe/misconfigured`);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain(secret);
      expect(text).not.toMatch(/\.(ts|js):\d+/);
      expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'internal_error' });
    } finally {
      await bare.stop();
    }
  });
});

describe('API8 /metrics', () => {
  const token = randomBytes(32).toString('hex');

  it('answers 404 in production when METRICS_TOKEN is unset', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production' });
    try {
      await expectProblem(await prod.api('/metrics'), 404, 'not_found');
      await expectProblem(await prod.api('/metrics', { headers: { authorization: `Bearer ${token}` } }), 404);
    } finally {
      await prod.stop();
    }
  });

  it('needs the bearer token in production when METRICS_TOKEN is set', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production', METRICS_TOKEN: token });
    try {
      await expectProblem(await prod.api('/metrics'), 401);
      await expectProblem(await prod.api('/metrics', { headers: { authorization: `Bearer ${token}x` } }), 401);
      await expectProblem(await prod.api('/metrics', { headers: { authorization: token } }), 401);
      const ok = await prod.api('/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('http_request_duration_seconds');
    } finally {
      await prod.stop();
    }
  });

  it('stays open outside production without a token (local development)', async () => {
    const res = await t.api('/metrics');
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
