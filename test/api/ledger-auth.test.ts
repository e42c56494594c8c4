import { randomUUID } from 'node:crypto';
import { toOpenApiPath, type RegisteredRoute } from '../../server/shared/http.js';
import { useTestApp, useUsers } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';

/**
 * Every protected route of the route registry (not a hand-kept list, so a new route cannot
 * escape): 401 without a token and with a forged one, documented with bearer security, and every
 * admin route 403 for a logged-in user who is not an admin.
 */
const t = useTestApp();
const [user] = useUsers(t, 1);

const id = randomUUID();
const concrete = (r: RegisteredRoute) => r.path.replace(/:[A-Za-z]+/g, id);
const label = (r: RegisteredRoute) => `${r.method.toUpperCase()} ${r.path}`;
const bodyFor = (r: RegisteredRoute) => (r.method === 'get' || r.method === 'delete' ? undefined : {});
const FORGED = [
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  // HS256 with a key that is not the server's.
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLW9mLWEtc3RyYW5nZXI',
];

describe('every protected route of the registry needs credentials', () => {
  it('covers the registry, admin routes included', () => {
    const protectedRoutes = t.app.registry.routes.filter((r) => r.access !== 'public');
    expect(protectedRoutes.length).toBeGreaterThan(20);
    expect(protectedRoutes.some((r) => r.access === 'admin')).toBe(true);
  });

  it('answers 401 without a token and with a forged one, on every user and admin route', async () => {
    const wrong: string[] = [];
    for (const r of t.app.registry.routes.filter((x) => x.access !== 'public')) {
      for (const token of [undefined, ...FORGED]) {
        const res = await t.api(concrete(r), { method: r.method.toUpperCase(), json: bodyFor(r), token });
        const body = await res.text();
        if (res.status !== 401 || !res.headers.get('content-type')?.includes('application/problem+json')) wrong.push(`${label(r)} token=${token ? 'forged' : 'none'} → ${res.status} ${body.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 to a logged-in user on every admin route', async () => {
    const admins = t.app.registry.routes.filter((r) => r.access === 'admin');
    for (const r of admins) {
      const res = await t.api(concrete(r), { method: r.method.toUpperCase(), json: bodyFor(r), token: user.accessToken });
      expect([label(r), res.status]).toEqual([label(r), 403]);
      await expectProblem(res, 403, 'forbidden');
    }
  });

  it('documents every one of them in /openapi.json with bearer security', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const r of t.app.registry.routes.filter((x) => x.access !== 'public')) {
      const op = doc.paths[toOpenApiPath(r.path)]?.[r.method];
      expect({ route: label(r), documented: Boolean(op), secured: (op?.security ?? []).length > 0 }).toEqual({ route: label(r), documented: true, secured: true });
    }
  });
});
