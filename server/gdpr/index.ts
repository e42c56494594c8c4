import type { FeatureContext } from '../context.js';
import { registerGdprRoutes } from './gdpr.routes.js';

export { userTables, isSecretColumn, isCredentialTable, type UserTable } from './gdpr.catalog.js';
export { streamUserExport, EXPORT_FORMAT } from './gdpr.export.js';

/** GET /users/me/export (right of access and portability). */
export function registerGdpr(ctx: FeatureContext): void {
  registerGdprRoutes(ctx);
}
