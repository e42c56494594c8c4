import { z } from 'zod';
import { secondFactorCodeLimiter } from '../auth/index.js';
import type { FeatureContext } from '../context.js';
import type { AuthUser } from '../shared/http.js';
import { createLimiter } from '../shared/rate-limit.js';
import type { EraseService } from './gdpr.erase.js';
import { streamUserExport } from './gdpr.export.js';
import { eraseBody, exportQuery } from './gdpr.schemas.js';

const HOUR = 60 * 60 * 1000;

export function registerGdprRoutes(ctx: FeatureContext, erase: EraseService): void {
  const tags = ['Users'];
  // Right of access: 3 exports per hour per user (an export reads every row the user has).
  const exportLimiter = createLimiter(
    { db: ctx.db, redis: ctx.redis },
    { prefix: 'gdpr-export', windowMs: HOUR, limit: 3, key: (req) => (req.res?.locals.user as AuthUser).id },
  );
  ctx.registry.add({
    method: 'get',
    path: '/users/me/export',
    access: 'user',
    summary: 'Download everything held about the caller (JSON, or a zip of one CSV per table plus the JSON)',
    tags,
    query: exportQuery,
    middleware: [exportLimiter],
    responses: {
      200: {
        description: 'An attachment: `{format, exportedAt, userId, tables: {<table>: [rows]}}` with every table holding the caller’s data (credentials excluded), or with `format=zip` a zip archive',
        schema: z.object({ format: z.string(), exportedAt: z.string(), userId: z.string(), tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))) }),
        contentType: 'application/json',
        alternatives: [{ contentType: 'application/zip', schema: z.string() }],
      },
      429: { description: 'More than 3 exports in an hour, 2 downloads of yours already running, or the instance at its download limit (see Retry-After)' },
    },
    handler: async ({ query, user, write, res }) => {
      // The shared download slot (per user and per instance), taken before the first await and given
      // back when the response closes; the export reads from the downloads pool, never the API's.
      const release = ctx.downloads.acquire(user.id, res);
      try {
        // An export is an audited event, recorded before the first byte leaves.
        await ctx.db.transaction((trx) => ctx.audit.recordWrite(trx, write, { action: 'user.export', entityType: 'user', entityId: user.id, after: { format: query.format } }));
        await streamUserExport(ctx.downloads.db(), ctx.logger, res, { userId: user.id, format: query.format, now: ctx.clock.now() });
      } finally {
        release();
      }
      return undefined;
    },
  });

  // Wrong second-factor codes share the 2FA routes' budget: 10 per user per 15 minutes.
  const codeLimiter = secondFactorCodeLimiter(ctx);
  ctx.registry.add({
    method: 'delete',
    path: '/users/me',
    access: 'user',
    summary:
      'Erase your account and every record of yours (password, and a TOTP or recovery code with 2FA on). Audit entries stay without personal data; the email is free to register again',
    tags,
    body: eraseBody,
    middleware: [codeLimiter],
    status: 204,
    responses: {
      204: { description: 'Erased: every login is revoked, live connections are closed, and nothing of yours is left but a tombstone with no personal data' },
      400: { description: 'Invalid input, a wrong password (`invalid_password`), a missing (`mfa_required`) or wrong (`invalid_code`) second factor; nothing changes' },
      409: { description: 'You are the last admin (`last_admin`): make another user admin first' },
      429: { description: 'Too many wrong passwords or codes (see Retry-After)' },
    },
    handler: async ({ body, write }) => {
      await erase.eraseSelf(write, body);
    },
  });
}
