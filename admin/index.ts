/**
 * The admin panel (AdminJS) at /admin: admins only, over users and audit logs. server/app.ts calls
 * `mountAdmin(app, deps)` once, before the API router.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditService } from '../server/audit/index.js';
import type { AuthServices } from '../server/auth/index.js';
import type { Clock } from '../server/shared/clock.js';
import type { Config } from '../server/shared/config.js';
import type { Db } from '../server/shared/db.js';
import type { Jobs } from '../server/shared/jobs.js';
import type { EraseService } from '../server/gdpr/index.js';

export interface AdminDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  audit: AuditService;
  jobs: Jobs;
  redis?: Redis;
  auth: AuthServices;
  /** The GDPR erasure the "Erase user data" action runs (the same service as DELETE /users/me). */
  erase: EraseService;
}

/**
 * Mounts the panel at /admin. AdminJS reads its bundle directory and mode from the environment
 * when its modules load, so they are set here and the panel is imported after:
 * - the components bundle goes to a directory under the OS temp dir named by its content hash,
 *   with no dot-folder in the path (Express 5's `sendFile` refuses dot-folders: the bundle would 404);
 * - AdminJS's own start-time bundling is skipped: `buildPanel` builds once, before serving.
 */
export async function mountAdmin(app: Express, deps: AdminDeps): Promise<void> {
  const { bundleKey } = await import('./admin.bundle-key.js');
  process.env.ADMIN_JS_TMP_DIR = path.join(tmpdir(), 'numina-adminjs', await bundleKey());
  process.env.ADMIN_JS_SKIP_BUNDLE = 'true';
  const { buildPanel, ROOT } = await import('./admin.panel.js');
  app.use(ROOT, await buildPanel(deps));
}
