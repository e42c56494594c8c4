import type { FeatureContext } from '../context.js';
import type { EraseService } from './gdpr.erase.js';
import { registerGdprRoutes } from './gdpr.routes.js';

export { userTables, isSecretColumn, isCredentialTable, ownedTables, KEPT_ON_ERASE, type UserTable, type OwnedTable } from './gdpr.catalog.js';
export { createEraseService, type EraseService, type EraseDeps, type EraseProof } from './gdpr.erase.js';
export { streamUserExport, EXPORT_FORMAT } from './gdpr.export.js';

/** GET /users/me/export (right of access and portability) and DELETE /users/me (right to erasure). */
export function registerGdpr(ctx: FeatureContext, deps: { erase: EraseService }): void {
  registerGdprRoutes(ctx, deps.erase);
}
