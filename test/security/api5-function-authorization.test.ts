import { useTestApp, useUsers } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';
import { concretePath, emptyBodyFor, routeLabel } from '../helpers/routes.js';
import { registerAndLogin } from '../helpers/users.js';

/**
 * OWASP API5:2023 Broken Function Level Authorization: every admin route of the route registry
 * answers 403 to a logged-in user, and the role is read from the database at every request, so a
 * promotion or demotion applies to tokens already issued. (The admin panel's own routes are
 * tested with the panel.)
 */
const t = useTestApp();
const [user, admin] = useUsers(t, 2);
beforeAll(async () => {
  await t.db('users').where({ id: admin.id }).update({ role: 'admin' });
});

const adminRoutes = () => t.app.registry.routes.filter((r) => r.access === 'admin');
const call = (r: ReturnType<typeof adminRoutes>[number], token: string) =>
  t.api(concretePath(r, '00000000-0000-4000-8000-000000000000'), { method: r.method.toUpperCase(), token, json: emptyBodyFor(r) });

describe('API5 broken function level authorization', () => {
  it('the registry has admin routes to test', () => {
    expect(adminRoutes().length).toBeGreaterThanOrEqual(1);
  });

  it('answers 403 forbidden to a user on every admin route, whatever the body', async () => {
    for (const r of adminRoutes()) {
      await expectProblem(await call(r, user.accessToken), 403, 'forbidden');
    }
  });

  it('lets an admin through the role check on every admin route', async () => {
    for (const r of adminRoutes()) {
      const res = await call(r, admin.accessToken);
      await res.arrayBuffer();
      expect([routeLabel(r), [401, 403].includes(res.status)]).toEqual([routeLabel(r), false]);
    }
  });

  it('takes the role from the database: a demoted admin\u2019s token is refused at once, a promoted user\u2019s admitted', async () => {
    const r = adminRoutes()[0];
    const former = await registerAndLogin(t);
    await t.db('users').where({ id: former.id }).update({ role: 'admin' });
    expect((await call(r, former.accessToken)).status).not.toBe(403);
    await t.db('users').where({ id: former.id }).update({ role: 'user' });
    await expectProblem(await call(r, former.accessToken), 403, 'forbidden');
  });

  it('ignores a role claimed in a user route\u2019s body or query', async () => {
    await expectProblem(await t.api('/audit/logs?role=admin', { token: user.accessToken }), 400);
    const own = (await (await t.api(`/audit/logs?userId=${admin.id}`, { token: user.accessToken })).json()) as { code: string };
    expect(own.code).toBe('forbidden');
  });
});
