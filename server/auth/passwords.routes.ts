import type { Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { FeatureContext } from '../context.js';
import { createLimiter } from '../shared/rate-limit.js';
import { changePasswordBody, forgotBody, resetBody } from './auth.schemas.js';
import type { PasswordsService } from './passwords.service.js';

const MINUTE = 60_000;

/** The email a request is about, as the bucket key: limits are per account, not per address. */
function emailKey(req: Request): string {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.trim() ? `email:${email.trim().toLowerCase().slice(0, 254)}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

/** Forgotten password, reset, and the signed-in user's password change (POST /users/me/password). */
export function registerPasswordRoutes(ctx: FeatureContext, { passwords }: { passwords: PasswordsService }): void {
  const backends = { db: ctx.db, redis: ctx.redis };
  const forgotLimiter = createLimiter(backends, { prefix: 'pw-forgot', windowMs: 60 * MINUTE, limit: 5, key: emailKey });
  const resetLimiter = createLimiter(backends, { prefix: 'pw-reset', windowMs: 15 * MINUTE, limit: 20, skipSuccessfulRequests: true });
  const r = ctx.registry;

  r.add({
    method: 'post',
    path: '/auth/password/forgot',
    access: 'public',
    summary: 'Mail a password-reset link (always 202)',
    tags: ['Auth'],
    body: forgotBody,
    middleware: [forgotLimiter],
    status: 202,
    responses: { 202: { description: 'Accepted, whether or not the email is known' } },
    handler: ({ body, facts }) => {
      passwords.forgot(body.email, facts);
    },
  });

  r.add({
    method: 'post',
    path: '/auth/password/reset',
    access: 'public',
    summary: 'Set a new password with a reset token; every login is revoked',
    tags: ['Auth'],
    body: resetBody,
    middleware: [resetLimiter],
    status: 204,
    responses: { 204: { description: 'Password changed' } },
    handler: async ({ body, facts }) => {
      await passwords.reset(body.token, body.newPassword, facts);
    },
  });

  r.add({
    method: 'post',
    path: '/users/me/password',
    access: 'user',
    summary: 'Change your password; your other logins are revoked',
    tags: ['Users'],
    body: changePasswordBody,
    status: 204,
    responses: {
      204: { description: 'Changed' },
      400: { description: 'Invalid input, a weak new password, or a wrong current password (`invalid_password`, audited)' },
      429: { description: 'Too many wrong passwords (the failure limit of login)' },
    },
    handler: async ({ body, user, write }) => {
      await passwords.change(write, user.sessionId, body);
    },
  });
}
