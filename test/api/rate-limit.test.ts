import { z } from 'zod';
import type { RouteSet } from '../../server/context.js';
import { startBareApp } from '../helpers/bare-app.js';
import { startTestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';

const open: RouteSet = {
  register({ registry }) {
    registry.add({
      method: 'get',
      path: '/open',
      access: 'public',
      summary: 'an unauthenticated route',
      tags: ['Test'],
      responses: { 200: { description: 'ok', schema: z.object({ ok: z.boolean() }) } },
      handler: () => ({ ok: true }),
    });
  },
};

describe.each([
  ['PostgreSQL', {}],
  ['Redis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
])('request limits with counters in %s', (_name, extra: Record<string, string>) => {
  it('answers 429 with Retry-After past RATE_LIMIT_IP_PER_MINUTE on unauthenticated routes, for every instance together', async () => {
    const env = { RATE_LIMIT_IP_PER_MINUTE: '3', ...extra };
    const redis = extra.REDIS_URL ? new (await import('ioredis')).Redis(extra.REDIS_URL) : undefined;
    // Two instances on the same counters: the limit is shared, not per process.
    const a = await startBareApp({ routes: [open], env });
    const b = await startBareApp({ routes: [open], env });
    try {
      // Each test run starts clean: a fresh key space for this client address.
      await a.db('rate_limits').delete();
      if (redis) await redis.eval("for _,k in ipairs(redis.call('keys','rl:ip*')) do redis.call('del',k) end", 0);
      const statuses: number[] = [];
      for (const t of [a, b, a]) statuses.push((await fetch(`${t.url}/open`)).status);
      expect(statuses).toEqual([200, 200, 200]);
      const limited = await fetch(`${b.url}/open`);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await limited.json()).toMatchObject({ status: 429, code: 'rate_limited' });
      // Health checks are never limited.
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      await a.stop();
      await b.stop();
      redis?.disconnect();
    }
  });
});

describe('per-user limit', () => {
  it('answers 429 past RATE_LIMIT_USER_PER_MINUTE for that user only', async () => {
    const t = await startTestApp({ RATE_LIMIT_USER_PER_MINUTE: '3' });
    try {
      const alice = await registerAndLogin(t);
      const bob = await registerAndLogin(t);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await t.api('/users/me', { token: alice.accessToken })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await t.api('/users/me', { token: bob.accessToken })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
