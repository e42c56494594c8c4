import type { Request } from 'express';
import { UnauthorizedError } from '../shared/errors.js';
import type { Feature } from '../shared/feature.js';
import type { AuthUser } from '../shared/http.js';
import { createMailer } from '../shared/mailer.js';
import { registerAuthRoutes } from './auth.routes.js';
import { createAuthService, type AuthService } from './auth.service.js';

export { notifySessionsRevoked, revokeSessions, SESSIONS_REVOKED_CHANNEL, RESET_TOKEN_TTL_MS } from './auth.service.js';
export type { AuthService, TokenPair, SessionInfo } from './auth.service.js';
export { createPasswordHasher, OWASP_ARGON2, ACCESS_TOKEN_TTL_SECONDS, type PasswordHasher, type Argon2Params } from './crypto.js';
export { emailInput, newPassword } from './auth.schemas.js';

/** Reads `Authorization: Bearer <token>`; anything else is a 401. */
export function bearerToken(req: Request): string {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(req.get('authorization') ?? '');
  if (!m) throw new UnauthorizedError();
  return m[1];
}

/**
 * Auth: registration, login, refresh, logout, sessions, 2FA, password reset. Registers first: it
 * sets `ctx.services.authenticate` (HTTP) and `ctx.services.verifyAccessToken` (realtime), and
 * `ctx.services.auth` (the service, for the users feature).
 */
export const authFeature: Feature = {
  name: 'auth',
  register(ctx) {
    const mailer = createMailer(ctx.config, ctx.logger);
    const auth = createAuthService({ db: ctx.db, clock: ctx.clock, config: ctx.config, logger: ctx.logger, audit: ctx.audit, hooks: ctx.hooks, mailer });
    const verifyAccessToken = (token: string): Promise<AuthUser> => auth.verifyAccessToken(token);
    ctx.services.auth = auth satisfies AuthService;
    ctx.services.verifyAccessToken = verifyAccessToken;
    ctx.services.authenticate = async (req: Request): Promise<AuthUser> => verifyAccessToken(bearerToken(req));
    registerAuthRoutes(ctx, auth);
  },
};
