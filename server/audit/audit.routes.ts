import { z } from 'zod';
import type { Feature, FeatureContext } from '../shared/feature.js';
import { decodeCursor, encodeCursor, isDigits } from '../shared/cursor.js';
import { ForbiddenError } from '../shared/errors.js';
import { listQuery, page } from '../shared/http.js';
import { AuditLog } from './audit.model.js';
import { toAuditView } from './audit.service.js';

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

export const auditLogsQuery = z
  .object({
    ...listQuery,
    from: instant.optional().meta({ description: 'Entries at or after this instant' }),
    to: instant.optional().meta({ description: 'Entries before this instant' }),
    action: z.string().min(1).max(100).optional(),
    entityType: z.string().min(1).max(100).optional(),
    userId: z.uuid({ message: 'must be a UUID' }).optional().meta({ description: 'Admins only: entries about this user' }),
  })
  .strict();

export const auditEntryView = z
  .object({
    id: z.uuid(),
    at: z.string(),
    actorId: z.string().nullable(),
    userId: z.string().nullable(),
    action: z.string(),
    entityType: z.string().nullable(),
    entityId: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const verifyView = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    firstBad: z.object({ id: z.string(), seq: z.string(), reason: z.string() }).optional(),
  })
  .meta({ id: 'AuditVerification' });

/**
 * Audit API. The log is read-only through every API: there is no route that changes or deletes
 * an entry (and the table refuses it). Users see entries about themselves; admins see all.
 */
export function registerAuditRoutes(ctx: FeatureContext): void {
  const tags = ['Audit'];
  ctx.registry.add({
    method: 'get',
    path: '/audit/logs',
    access: 'user',
    summary: 'Audit entries, newest first (own; admins: all or ?userId=)',
    tags,
    query: auditLogsQuery,
    responses: { 200: { description: 'A page of entries', schema: page(auditEntryView) } },
    handler: async ({ query, user }) => {
      const q = AuditLog.query(ctx.db).orderBy('seq', 'desc').limit(query.limit + 1);
      if (user.role === 'admin') {
        if (query.userId) q.where('user_id', query.userId);
      } else {
        if (query.userId && query.userId !== user.id) throw new ForbiddenError('Only admins may read other users\u2019 audit entries.');
        q.where('user_id', user.id);
      }
      if (query.from) q.where('at', '>=', new Date(query.from));
      if (query.to) q.where('at', '<', new Date(query.to));
      if (query.action) q.where('action', query.action);
      if (query.entityType) q.where('entity_type', query.entityType);
      if (query.cursor) {
        const [seq] = decodeCursor(query.cursor, [isDigits]);
        q.where('seq', '<', seq);
      }
      const rows = await q;
      const more = rows.length > query.limit;
      const pageRows = rows.slice(0, query.limit);
      const last = pageRows[pageRows.length - 1];
      return { data: pageRows.map(toAuditView), nextCursor: more && last ? encodeCursor([String(last.seq)]) : null };
    },
  });
  ctx.registry.add({
    method: 'get',
    path: '/audit/verify',
    access: 'admin',
    summary: 'Verify the audit hash chains (admin)',
    tags,
    responses: { 200: { description: '`ok` false names the first edited, reordered or removed entry', schema: verifyView } },
    handler: () => ctx.audit.verify(ctx.db),
  });
}

/** The audit API as a feature (the audit service itself is wired by server/app.ts). */
export const auditFeature: Feature = {
  name: 'audit',
  register(ctx) {
    registerAuditRoutes(ctx);
  },
};
