import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Express } from 'express';
import { z } from 'zod';
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Config } from '../shared/config.js';
import { AppError, UnauthorizedError } from '../shared/errors.js';
import { reply, type RouteRegistry } from '../shared/http.js';
import { dbReady, type Db } from '../shared/db.js';
import type { Metrics } from './metrics.js';

const require = createRequire(import.meta.url);
const swaggerUiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** What each feature's tag groups, for the document's tag list (a feature without one gets a plain line). */
const TAG_DESCRIPTIONS: Record<string, string> = {
  System: 'Health, readiness, metrics and this document',
  Auth: 'Registration, login, tokens, sessions, two-factor, password reset',
  Users: 'The caller’s profile, and roles (admin)',
  Accounts: 'Money accounts with exact balances',
  Categories: 'Income and expense categories',
  Transactions: 'Income, expenses and transfers; history and export',
  Audit: 'The hash-chained audit log',
  'Exchange rates': 'Daily exchange rates used to convert between currencies',
  Reports: 'Spending, income and balance reports in the user’s currency',
};

/** Builds the OpenAPI 3.1 document from every route registered so far. */
export function openApiDocument(registry: RouteRegistry, serverUrl?: string) {
  const generator = new OpenApiGeneratorV31(registry.openapi.definitions);
  const tags = [...new Set(registry.routes.flatMap((r) => r.tags))].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? `${name} endpoints` }));
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Numina API',
      version: '1.0.0',
      description:
        'Personal finance: accounts, categories, transactions with exact decimal money, an audit trail and live updates. ' +
        'The client guide (conventions, money, errors, pagination, idempotency, auth flow, realtime protocol) is docs/api.md in the repository.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : [],
    tags,
  });
}

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Numina API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

/** Health, readiness, metrics, the OpenAPI document and its docs page. */
/** Constant-time comparison of a bearer credential with the expected token (compared as digests, so lengths leak nothing). */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(header ?? '');
  if (!m) return false;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(m[1]), digest(expected));
}

export interface SystemRoutesDeps {
  db: Db;
  metrics: Metrics;
  publicUrl: string;
  env: Config['env'];
  metricsToken?: string;
}

export function registerSystemRoutes(app: Express, registry: RouteRegistry, deps: SystemRoutesDeps): void {
  registry.add({
    method: 'get',
    path: '/healthz',
    access: 'public',
    noRateLimit: true,
    summary: 'Liveness: 200 while the process runs',
    tags: ['System'],
    responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: () => ({ status: 'ok' }),
  });
  registry.add({
    method: 'get',
    path: '/readyz',
    access: 'public',
    noRateLimit: true,
    summary: 'Readiness: 200 only while the database answers',
    tags: ['System'],
    responses: {
      200: { description: 'ready', schema: z.object({ status: z.literal('ok') }) },
      503: { description: 'database unavailable', schema: z.object({ status: z.literal('unavailable') }) },
    },
    handler: async () => ((await dbReady(deps.db)) ? { status: 'ok' } : reply(503, { status: 'unavailable' })),
  });
  registry.add({
    method: 'get',
    path: '/metrics',
    access: 'public',
    noRateLimit: true,
    summary: 'Prometheus metrics (production: `Authorization: Bearer $METRICS_TOKEN`; 404 when it is unset)',
    tags: ['System'],
    responses: {
      200: { description: 'Prometheus text exposition', schema: z.string(), contentType: 'text/plain' },
      401: { description: 'METRICS_TOKEN is set and the request does not carry it as a bearer token' },
      404: { description: 'Production without METRICS_TOKEN: metrics are not served' },
    },
    handler: async ({ req, res }) => {
      // Pool state and failed-login counts are for the operator's scraper, not the public: in
      // production /metrics exists only with METRICS_TOKEN set, and then only for its bearer.
      if (!deps.metricsToken) {
        if (deps.env === 'production') throw new AppError(404, 'not_found', 'No such route.');
      } else if (!bearerMatches(req.get('authorization'), deps.metricsToken)) {
        throw new UnauthorizedError();
      }
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    },
  });
  registry.add({
    method: 'get',
    path: '/openapi.json',
    access: 'public',
    cacheable: true,
    summary: 'This API as an OpenAPI 3.1 document',
    tags: ['System'],
    responses: { 200: { description: 'OpenAPI document', schema: z.object({ openapi: z.string() }).loose() } },
    handler: () => openApiDocument(registry, deps.publicUrl),
  });
  registry.add({
    method: 'get',
    path: '/docs',
    access: 'public',
    cacheable: true,
    summary: 'Human-readable API documentation (Swagger UI, served locally)',
    tags: ['System'],
    responses: { 200: { description: 'HTML page', schema: z.string(), contentType: 'text/html' } },
    handler: ({ res }) => {
      res.type('html').send(DOCS_HTML);
    },
  });
  app.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT);
  });
  app.use('/docs/assets', express.static(swaggerUiDir, { index: false, maxAge: '1h' }));
}
