export { AuditLog } from './audit.model.js';
export { createAuditService, auditContext, toAuditView } from './audit.service.js';
export type { AuditService, AuditEntry, AuditContext, AuditView, VerifyResult } from './audit.service.js';
export { auditFeature } from './audit.routes.js';
