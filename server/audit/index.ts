export { AuditLog } from './audit.model.js';
export { createAuditService, listAuditEntries, toAuditView } from './audit.service.js';
export type { AuditService, AuditEntry, AuditView, VerifyResult, WriteAuditEntry } from './audit.service.js';
export { registerAuditRoutes, type AuditRoutesDeps } from './audit.routes.js';
