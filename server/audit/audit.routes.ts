import type { Db } from '../shared/db.js';
import { ForbiddenError } from '../shared/errors.js';
import { page, type RouteRegistry } from '../shared/http.js';
import { auditEntryView, auditLogsQuery, verifyView } from './audit.schemas.js';
import { listAuditEntries, type AuditService } from './audit.service.js';

/** What the audit routes need (not the whole FeatureContext: the context itself holds the audit service). */
export interface AuditRoutesDeps {
  registry: RouteRegistry;
  db: Db;
  audit: AuditService;
}

/**
 * Audit API. The log is read-only through every API: there is no route that changes or deletes
 * an entry (and the table refuses it). Users see entries about themselves; admins see all.
 */
export function registerAuditRoutes({ registry, db, audit }: AuditRoutesDeps): void {
  const tags = ['Audit'];
  registry.add({
    method: 'get',
    path: '/audit/logs',
    access: 'user',
    summary: 'Audit entries, newest first (own; admins: all or ?userId=)',
    tags,
    query: auditLogsQuery,
    responses: { 200: { description: 'A page of entries', schema: page(auditEntryView) } },
    handler: ({ query, user }) => {
      if (user.role !== 'admin' && query.userId && query.userId !== user.id) throw new ForbiddenError('Only admins may read other users\u2019 audit entries.');
      // Users read their own entries only; admins all, or one user's.
      return listAuditEntries(db, { ...query, userId: user.role === 'admin' ? query.userId : user.id });
    },
  });
  registry.add({
    method: 'get',
    path: '/audit/verify',
    access: 'admin',
    summary: 'Verify the audit hash chains (admin)',
    tags,
    responses: { 200: { description: '`ok` false names the first edited, reordered or removed entry', schema: verifyView } },
    handler: () => audit.verify(db),
  });
}
