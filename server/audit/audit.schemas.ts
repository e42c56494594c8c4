import { z } from 'zod';
import { listQuery } from '../shared/http.js';

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

export type AuditLogsQuery = z.output<typeof auditLogsQuery>;
