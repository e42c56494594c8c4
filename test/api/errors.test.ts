import { z } from 'zod';
import type { RouteSet } from '../../server/context.js';
import { startBareApp, useBareApp } from '../helpers/bare-app.js';

/** A feature with routes that provoke each kind of failure the error middleware must render. */
const probe: RouteSet = {
  register({ registry, db }) {
    registry.add({
      method: 'post',
      path: '/probe/echo',
      access: 'public',
      summary: 'echo',
      tags: ['probe'],
      body: z.object({ name: z.string().min(1) }).strict(),
      responses: { 200: { description: 'echo' } },
      handler: ({ body }) => body,
    });
    registry.add({
      method: 'get',
      path: '/probe/duplicate',
      access: 'public',
      summary: 'unique violation',
      tags: ['probe'],
      responses: { 409: { description: 'dup' } },
      handler: async () => {
        await db.raw("INSERT INTO users (email) VALUES ('dup-probe@example.com') ON CONFLICT DO NOTHING");
        await db.raw("INSERT INTO users (email) VALUES ('DUP-probe@example.com')");
      },
    });
    registry.add({
      method: 'get',
      path: '/probe/bad-uuid',
      access: 'public',
      summary: 'invalid text representation',
      tags: ['probe'],
      responses: { 400: { description: 'bad' } },
      handler: async () => db('users').where({ id: 'not-a-uuid' }).first(),
    });
    registry.add({
      method: 'get',
      path: '/probe/boom',
      access: 'public',
      summary: 'an unexpected failure',
      tags: ['probe'],
      responses: { 500: { description: 'boom' } },
      handler: async () => {
        await db.raw('SELECT * FROM table_that_does_not_exist');
      },
    });
    registry.add({
      method: 'get',
      path: '/probe/private',
      access: 'user',
      summary: 'needs a user',
      tags: ['probe'],
      responses: { 200: { description: 'ok' } },
      handler: () => ({ ok: true }),
    });
  },
};

const t = useBareApp({ routes: [probe], env: { CORS_ORIGINS: 'https://app.numina.test' } });

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { type: string; title: string; status: number; detail: string; code: string; errors?: { path: string; message: string }[] };
}

describe('error responses', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const res = await fetch(`${t.url}/no/such/route`);
    expect(res.status).toBe(404);
    const p = await problem(res);
    expect(p).toMatchObject({ status: 404, code: 'not_found', title: 'Not Found' });
    expect(typeof p.type).toBe('string');
    expect(typeof p.detail).toBe('string');
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await fetch(`${t.url}/probe/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('answers a body over 1 MB with a 413 problem', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
    const res = await fetch(`${t.url}/probe/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('lists each invalid field with its path', async () => {
    const res = await fetch(`${t.url}/probe/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '', role: 'admin' }) });
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(['body.name', 'body']));
  });

  it('maps a unique violation to 409 by SQLSTATE', async () => {
    const res = await fetch(`${t.url}/probe/duplicate`);
    expect(res.status).toBe(409);
    expect(await problem(res)).toMatchObject({ status: 409 });
  });

  it('maps invalid input syntax to 400 by SQLSTATE', async () => {
    const res = await fetch(`${t.url}/probe/bad-uuid`);
    expect(res.status).toBe(400);
  });

  it('never sends SQL or a stack to the client on a 500', async () => {
    const res = await fetch(`${t.url}/probe/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/table_that_does_not_exist|SELECT|at .*\.ts/);
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'internal_error' });
  });

  it('answers 401 on a user route without credentials', async () => {
    const res = await fetch(`${t.url}/probe/private`);
    expect(res.status).toBe(401);
    expect(await problem(res)).toMatchObject({ status: 401 });
  });
});

describe('security baseline', () => {
  it('sends helmet headers and no x-powered-by', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('relaxes the CSP only for /docs', async () => {
    const docs = await fetch(`${t.url}/docs`);
    expect(docs.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");
    const api = await fetch(`${t.url}/healthz`);
    expect(api.headers.get('content-security-policy')).not.toContain("'unsafe-inline'");
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await fetch(`${t.url}/healthz`, { headers: { origin: 'https://app.numina.test' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.numina.test');
    const other = await fetch(`${t.url}/healthz`, { headers: { origin: 'https://evil.test' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('honours a well-formed X-Request-Id, echoes it and logs with it', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'req-abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    expect(t.logs.some((l) => l.requestId === 'req-abc-123')).toBe(true);
  });

  it('generates a request id when none or a malformed one is sent', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('redacts authorization, cookies, passwords and tokens from logs', async () => {
    await fetch(`${t.url}/probe/private`, { headers: { authorization: 'Bearer secret-token-value', cookie: 'sid=secret-cookie' } });
    t.app.ctx.logger.info({ body: { password: 'hunter2-secret', refreshToken: 'secret-refresh' } }, 'probe');
    const all = JSON.stringify(t.logs);
    expect(all).toContain('[redacted]');
    expect(all).not.toContain('secret-token-value');
    expect(all).not.toContain('secret-cookie');
    expect(all).not.toContain('hunter2-secret');
    expect(all).not.toContain('secret-refresh');
  });
});

describe('readiness', () => {
  it('answers /readyz 503 while the database does not answer, /healthz still 200', async () => {
    const down = await startBareApp({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing' });
    try {
      expect((await fetch(`${down.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
    } finally {
      await down.stop();
    }
  });
});
