import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { AppError } from '../shared/errors.js';

/**
 * The built live dashboard (realtime/dashboard/bundle.ts): `<root>/realtime/dashboard/build` in
 * development (`npm start` builds it), `dist/realtime/dashboard/build` in the built server
 * (`npm run build` writes it). Same relative place from this file in both trees.
 */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../realtime/dashboard/build/', import.meta.url));

/**
 * `GET /dashboard` (the page) and `/dashboard/assets/*` (its script, stylesheet, source map): static
 * files, no data — everything the page shows comes from the API with the user's token. Outside the
 * route registry like the /docs assets; the CSP for these paths is in security-headers.ts.
 */
export function mountDashboard(app: Express, dir: string = DASHBOARD_DIR): void {
  app.get('/dashboard', (_req, res, next) => {
    const page = path.join(dir, 'index.html');
    if (!existsSync(page)) {
      next(new AppError(404, 'not_found', 'The dashboard is not built: `npm start` builds it in development, `npm run build` for production.'));
      return;
    }
    res.sendFile(page, { headers: { 'Cache-Control': 'no-cache' } });
  });
  // Revalidated on every load (ETag): a rebuilt bundle is picked up without a hard reload.
  app.use('/dashboard/assets', express.static(dir, { index: false, cacheControl: true, maxAge: 0, fallthrough: true }));
}
