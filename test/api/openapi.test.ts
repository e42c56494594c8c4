import { toOpenApiPath } from '../../server/shared/http.js';
import type { RouteSet } from '../../server/context.js';
import { startBareApp } from '../helpers/bare-app.js';
import { useTestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';

const t = useTestApp();

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every registered route', async () => {
    const res = await t.api('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const missing = t.app.registry.routes.filter((r) => !doc.paths[toOpenApiPath(r.path)]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
    expect(t.app.registry.routes.length).toBeGreaterThanOrEqual(5);
  });

  it('documents problem responses and bearer security on protected routes', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const r of t.app.registry.routes.filter((x) => x.access !== 'public')) {
      const op = doc.paths[toOpenApiPath(r.path)][r.method];
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(op.responses['401']).toBeDefined();
    }
  });
});

describe('operation names and feature tags', () => {
  it('names every operation uniquely and files it under a tag the document declares and describes', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as {
      tags: { name: string; description: string }[];
      paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
    };
    const declared = new Map(doc.tags.map((tag) => [tag.name, tag.description]));
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect({ route: `${method} ${path}`, operationId: typeof op.operationId }).toEqual({ route: `${method} ${path}`, operationId: 'string' });
        ids.push(op.operationId!);
        expect(op.tags?.length).toBeGreaterThan(0);
        for (const tag of op.tags!) expect(declared.get(tag)).toEqual(expect.any(String));
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/accounts/{id}'].get.operationId).toBe('getAccountsById');
  });

  it('refuses a route without a tag at start-up', async () => {
    const untagged: RouteSet = {
      register({ registry }) {
        registry.add({ method: 'get', path: '/untagged', access: 'public', summary: 'no tag', tags: [], responses: { 200: { description: 'ok' } }, handler: () => ({}) });
      },
    };
    await expect(startBareApp({ routes: [untagged] })).rejects.toThrow(/declares no tag/);
  });
});

describe('route access declarations', () => {
  it('refuses to start when a route does not declare who may call it', async () => {
    const careless: RouteSet = {
      register({ registry }) {
        registry.add({
          method: 'get',
          path: '/careless',
          access: undefined as unknown as 'public',
          summary: 'forgot access',
          tags: [],
          responses: { 200: { description: 'ok' } },
          handler: () => ({}),
        });
      },
    };
    await expect(startBareApp({ routes: [careless] })).rejects.toThrow(/does not declare who may call it/);
  });
});

describe('docs page', () => {
  // 127.0.0.1 is a "potentially trustworthy" origin to the browser; any other name over plain HTTP is
  // not, and is where an upgrade-insecure-requests policy turned /docs blank (scripts fetched over HTTPS).
  it.each([
    ['127.0.0.1', (port: string) => `http://127.0.0.1:${port}/docs`],
    ['a non-localhost name', (port: string) => `http://numina-api.test:${port}/docs`],
  ])('serves Swagger UI from node_modules and renders the API in a real browser via %s', async (_name, docsUrl) => {
    const asset = await t.api('/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    const csp = (await t.api('/docs')).headers.get('content-security-policy') ?? '';
    expect(csp).not.toContain('upgrade-insecure-requests');
    const browser = await launchChromium(['--host-resolver-rules=MAP numina-api.test 127.0.0.1']);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(docsUrl(new URL(t.url).port));
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 20000 });
      expect(await page.textContent('.swagger-ui .info .title')).toContain('Numina API');
      await page.waitForSelector('.opblock-summary-path', { timeout: 20000 });
      const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent));
      expect(paths).toContain('/healthz');
      expect(errors.filter((e) => /Content Security Policy|Refused|ERR_/.test(e))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
