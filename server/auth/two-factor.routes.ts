import type { RequestHandler } from 'express';
import type { FeatureContext } from '../context.js';
import type { AuthUser } from '../shared/http.js';
import { createLimiter } from '../shared/rate-limit.js';
import { disable2faBody, enable2faBody, recoveryCodesResponse, totpSetupResponse } from './auth.schemas.js';
import type { TwoFactorService } from './two-factor.service.js';

/**
 * Wrong second-factor codes on a signed-in route: 10 per user per 15 minutes (wrong passwords also
 * count in the password failure limit). Every route that takes a code uses this one budget (one
 * store key per user), so spreading guesses over routes gains nothing.
 */
export function secondFactorCodeLimiter(ctx: Pick<FeatureContext, 'db' | 'redis'>): RequestHandler {
  return createLimiter(
    { db: ctx.db, redis: ctx.redis },
    { prefix: '2fa-fail', windowMs: 15 * 60_000, limit: 10, key: (req) => `user:${(req.res?.locals.user as AuthUser).id}`, skipSuccessfulRequests: true },
  );
}

/** TOTP setup, enable (password + code) and disable (password + code). */
export function registerTwoFactorRoutes(ctx: FeatureContext, { twoFactor }: { twoFactor: TwoFactorService }): void {
  const codeLimiter = secondFactorCodeLimiter(ctx);
  const r = ctx.registry;
  const tags = ['Auth'];

  r.add({
    method: 'post',
    path: '/auth/2fa/setup',
    access: 'user',
    summary: 'Start TOTP setup (RFC 6238, SHA-1, 6 digits, 30 s); nothing is on until /auth/2fa/enable',
    tags,
    responses: { 200: { description: 'Secret to add to an authenticator', schema: totpSetupResponse }, 409: { description: '2FA already on' } },
    handler: async ({ write }) => twoFactor.setup(write),
  });

  r.add({
    method: 'post',
    path: '/auth/2fa/enable',
    access: 'user',
    summary: 'Turn 2FA on with a current code and the current password; returns 10 single-use recovery codes; the owner is mailed',
    tags,
    body: enable2faBody,
    middleware: [codeLimiter],
    responses: {
      200: { description: '2FA on', schema: recoveryCodesResponse },
      400: { description: 'Invalid input, a wrong password (`invalid_password`) or a wrong code (`invalid_code`)' },
      409: { description: 'Already on, or setup not started' },
    },
    handler: async ({ body, user, write }) => twoFactor.enable(write, user.sessionId, body),
  });

  r.add({
    method: 'post',
    path: '/auth/2fa/disable',
    access: 'user',
    summary: 'Turn 2FA off (password and a TOTP or recovery code); the owner is mailed',
    tags,
    body: disable2faBody,
    middleware: [codeLimiter],
    status: 204,
    responses: { 204: { description: '2FA off' }, 409: { description: '2FA is not on' } },
    handler: async ({ body, write }) => {
      await twoFactor.disable(write, body);
    },
  });
}
