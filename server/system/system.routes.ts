import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Express } from 'express';
import { z } from 'zod';
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteRegistry } from '../shared/http.js';
import { dbReady, type Db } from '../shared/db.js';
import type { Metrics } from './metrics.js';

const require = createRequire(import.meta.url);
const swaggerUiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** Builds the OpenAPI 3.1 document from every route registered so far. */
export function openApiDocument(registry: RouteRegistry, serverUrl?: string) {
  const generator = new OpenApiGeneratorV31(registry.openapi.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: { title: 'Numina API', version: '1.0.0', description: 'Personal finance: accounts, transactions, reports, goals, budgets. See API.md.' },
    servers: serverUrl ? [{ url: serverUrl }] : [],
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
export function registerSystemRoutes(app: Express, registry: RouteRegistry, deps: { db: Db; metrics: Metrics; publicUrl: string }): void {
  registry.add({
    method: 'get',
    path: '/healthz',
    access: 'public',
    noRateLimit: true,
    summary: 'Liveness: 200 while the process runs',
    tags: ['system'],
    responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: () => ({ status: 'ok' }),
  });
  registry.add({
    method: 'get',
    path: '/readyz',
    access: 'public',
    noRateLimit: true,
    summary: 'Readiness: 200 only while the database answers',
    tags: ['system'],
    responses: {
      200: { description: 'ready', schema: z.object({ status: z.literal('ok') }) },
      503: { description: 'database unavailable', schema: z.object({ status: z.literal('unavailable') }) },
    },
    handler: async ({ res }) => {
      if (await dbReady(deps.db)) return { status: 'ok' };
      res.status(503).json({ status: 'unavailable' });
    },
  });
  registry.add({
    method: 'get',
    path: '/metrics',
    access: 'public',
    noRateLimit: true,
    summary: 'Prometheus metrics',
    tags: ['system'],
    responses: { 200: { description: 'Prometheus text exposition', schema: z.string(), contentType: 'text/plain' } },
    handler: async ({ res }) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    },
  });
  registry.add({
    method: 'get',
    path: '/openapi.json',
    access: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    tags: ['system'],
    responses: { 200: { description: 'OpenAPI document', schema: z.object({ openapi: z.string() }).loose() } },
    handler: () => openApiDocument(registry, deps.publicUrl),
  });
  registry.add({
    method: 'get',
    path: '/docs',
    access: 'public',
    summary: 'Human-readable API documentation (Swagger UI, served locally)',
    tags: ['system'],
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
