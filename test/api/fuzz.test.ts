import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { useTestApp, useUsers } from '../helpers/app.js';

/**
 * docs/api.md, Errors: "No input, however malformed, produces a 5xx." Every registered route gets random
 * path ids, query strings and JSON bodies (wrong types, nulls, NUL bytes, huge numbers, deep
 * nesting) from a logged-in user, and must answer below 500.
 */
// The fuzzed requests fill per-address buckets (e.g. forgot-password without an email is keyed
// by address); later test files must start from empty counters, as they would on their own.
const t = useTestApp({}, { beforeStop: (app) => app.db('rate_limits').delete() });
const [u] = useUsers(t, 1);

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', '%00', '../../etc/passwd', "' OR 1=1 --", '1e309', '-0', 'NaN', '9'.repeat(400), '2026-02-30', '00000000-0000-0000-0000-000000000000'),
  fc.uuid(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, nasty, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 4 })),
})).value;
const fieldNames = fc.constantFrom(
  'email', 'password', 'name', 'currency', 'timeZone', 'accountId', 'toAccountId', 'categoryId', 'type', 'amount', 'toAmount',
  'date', 'notes', 'openingBalance', 'archived', 'kind', 'refreshToken', 'token', 'newPassword', 'currentPassword', 'code', 'totp',
  'recoveryCode', 'role', 'limit', 'cursor', 'from', 'to', 'q', 'format', 'action', 'entityType', 'userId', '__proto__', 'constructor',
);
const body = fc.oneof(fc.dictionary(fieldNames, jsonValue, { maxKeys: 6 }), jsonValue);
const query = fc.dictionary(fieldNames, fc.oneof(fc.string(), fc.constantFrom('-1', '0', '501', '1e3', '%zz', 'x'.repeat(600))), { maxKeys: 4 });

describe('malformed input', () => {
  it('never gets a 5xx from any registered route', async () => {
    const routes = t.app.registry.routes.filter((r) => !['/metrics', '/docs', '/openapi.json'].includes(r.path));
    expect(routes.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const route of routes) {
      // A fresh login per route: a fuzzed logout must not leave later routes testing only the 401 path.
      const login = await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } });
      expect(login.status).toBe(200);
      const token = ((await login.json()) as { accessToken: string }).accessToken;
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 })), query, body, async (id, q, b) => {
          const path = route.path.replace(/:[A-Za-z]+/g, encodeURIComponent(id));
          const qs = new URLSearchParams(q as Record<string, string>).toString();
          const res = await t.api(`${path}${qs ? `?${qs}` : ''}`, {
            method: route.method.toUpperCase(),
            token,
            ...(route.method === 'get' ? {} : { json: b }),
          });
          await res.arrayBuffer();
          if (res.status >= 500) failures.push(`${route.method.toUpperCase()} ${path}?${qs} ${JSON.stringify(b)} → ${res.status}`);
          return res.status < 500;
        }),
        { numRuns: 15, endOnFailure: true },
      ).catch(() => undefined);
    }
    expect(failures).toEqual([]);
  }, 180_000);

  it('answers a body in a broken gzip, deflate or br encoding with 400 (not 500) on every route that takes one', async () => {
    const valid = gzipSync(Buffer.from('{"email":"a@example.com"}'));
    const broken: [string, Buffer][] = [
      ['gzip', Buffer.from('this is not gzip at all')],
      ['gzip', valid.subarray(0, valid.length - 6)], // truncated stream
      ['deflate', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0x00, 0x01, 0x02])],
      ['br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x13, 0x37])],
    ];
    const routes = t.app.registry.routes.filter((r) => r.hasBody);
    expect(routes.length).toBeGreaterThan(10);
    const got: string[] = [];
    for (const route of routes) {
      const path = route.path.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      for (const [encoding, bytes] of broken) {
        const res = await t.api(path, {
          method: route.method.toUpperCase(),
          token: u.accessToken,
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body: new Uint8Array(bytes),
        });
        const problem = (await res.json()) as { status: number };
        if (res.status !== 400 || problem.status !== 400) got.push(`${route.method.toUpperCase()} ${path} ${encoding} → ${res.status}`);
      }
    }
    expect(got).toEqual([]);
  });

  it('answers a body that is not JSON at all with 400 on every route that takes one', async () => {
    for (const route of t.app.registry.routes.filter((r) => r.method !== 'get')) {
      const path = route.path.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      const res = await t.api(path, { method: route.method.toUpperCase(), token: u.accessToken, headers: { 'content-type': 'application/json' }, body: '{"unterminated' });
      expect([path, res.status]).toEqual([path, 400]);
    }
  });
});
