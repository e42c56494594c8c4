import { toOpenApiPath } from '../../server/shared/http.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';

/**
 * OWASP API9:2023 Improper Inventory Management: every route the server answers is a route of the
 * registry and is documented in /openapi.json, every documented operation exists, and the few
 * non-API paths (the docs page's assets) are an explicit list. Old versions and stray endpoints
 * do not exist.
 */
let t: TestApp;
let u: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  u = await registerAndLogin(t);
});
afterAll(async () => {
  await t.stop();
});

/** Paths served outside the registry, each with why: static files of the docs page, no data. */
const OUTSIDE_REGISTRY: Record<string, string> = {
  'GET /docs/init.js': 'the docs page boot script (static)',
  'USE /docs/assets': 'Swagger UI files from node_modules (static)',
  'GET /dashboard': 'the live dashboard page (static; its data comes from the API with the user\'s token)',
  'USE /dashboard/assets': 'the live dashboard\'s built script, stylesheet and icon (static)',
  'ROUTER /admin': 'the AdminJS panel: admins only, its own PostgreSQL session, same-origin writes (test/api/admin.test.ts, test/security/api5)',
};

interface ListedRoute {
  path: string | RegExp;
  methods?: string[];
  router?: { listRoutes(): ListedRoute[] };
}
interface StackLayer {
  rawPath?: unknown;
  route?: unknown;
  handle: { stack?: unknown[] };
}

/** What Express really answers: every method+path of the app and its mounted routers. */
function expressInventory(): { registry: Set<string>; outside: Set<string> } {
  const appRouter = t.app.app.router as unknown as { listRoutes(): ListedRoute[]; stack: StackLayer[] };
  const registry = new Set<string>();
  const outside = new Set<string>();
  const registryRouter = t.app.registry.router as unknown;
  for (const r of appRouter.listRoutes()) {
    if (r.router && r.router !== registryRouter) {
      // Another mounted router (the admin panel): listed as a whole, by its mount path.
      outside.add(`ROUTER ${String(r.path)}`);
    } else if (r.router) {
      for (const inner of r.router.listRoutes()) for (const m of inner.methods ?? []) if (m.toLowerCase() !== 'head') registry.add(`${m.toUpperCase()} ${String(inner.path)}`);
    } else {
      for (const m of r.methods ?? []) if (m.toLowerCase() !== 'head') outside.add(`${m.toUpperCase()} ${String(r.path)}`);
    }
  }
  // Middleware mounted on a path (static files) is not a route, but it answers requests too.
  for (const layer of appRouter.stack) if (!layer.route && !Array.isArray(layer.handle.stack) && typeof layer.rawPath === 'string' && layer.rawPath !== '/') outside.add(`USE ${layer.rawPath}`);
  return { registry, outside };
}

describe('API9 inventory', () => {
  it('the registry is exactly what the router serves, and the rest is the explicit list', () => {
    const { registry, outside } = expressInventory();
    const declared = new Set(t.app.registry.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`));
    expect([...registry].sort()).toEqual([...declared].sort());
    expect([...outside].sort()).toEqual(Object.keys(OUTSIDE_REGISTRY).sort());
  });

  it('documents every registered route in /openapi.json, and documents nothing that does not exist', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${p}`));
    const registered = t.app.registry.routes.map((r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.path)}`);
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
  });

  it.each([
    '/.env',
    '/.git/config',
    '/api/v1/accounts',
    '/v1/accounts',
    '/debug',
    '/server-status',
    '/swagger.json',
    '/graphql',
    '/accounts.json',
    // Encoded so that the client does not resolve the dots itself: the static files stay in their folder.
    '/docs/assets/..%2f..%2fpackage.json',
    '/docs/assets/..%2f..%2f..%2f.env',
    '/dashboard/assets/..%2f..%2f..%2f..%2fpackage.json',
    '/dashboard/assets/..%2fsrc%2fmain.ts',
  ])('has no stray endpoint at %s (404 problem, even with a token)', async (path) => {
    await expectProblem(await t.api(path, { token: u.accessToken }), 404);
  });
});
