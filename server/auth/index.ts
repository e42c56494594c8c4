import type { Request } from 'express';
import type { FeatureContext } from '../context.js';
import { UnauthorizedError } from '../shared/errors.js';
import type { Authenticator, AuthUser } from '../shared/http.js';
import { purgeExpiredRefreshTokens, purgeExpiredResetTokens, purgeExpiredSessions } from './auth.purge.js';
import { registerAuthRoutes } from './auth.routes.js';
import type { AuthService } from './auth.service.js';

export { createAuthService, notifySessionsRevoked, revokeSessions, SESSIONS_REVOKED_CHANNEL, RESET_TOKEN_TTL_MS } from './auth.service.js';
export type { AuthService, AuthDeps, TokenPair, SessionInfo } from './auth.service.js';
export { createPasswordHasher, OWASP_ARGON2, ACCESS_TOKEN_TTL_SECONDS, type PasswordHasher, type Argon2Params } from './crypto.js';
export { emailInput, newPassword } from './auth.schemas.js';
export { loginFailureGate, LOGIN_FAILURES, type LoginFailureGate } from './auth.routes.js';
export type { LoginInput } from './auth.service.js';

/** Reads `Authorization: Bearer <token>`; anything else is a 401. */
export function bearerToken(req: Request): string {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(req.get('authorization') ?? '');
  if (!m) throw new UnauthorizedError();
  return m[1];
}

/** The HTTP authenticator the route registry runs for `user` and `admin` routes. */
export function bearerAuthenticator(auth: AuthService): Authenticator {
  return (req: Request): Promise<AuthUser> => auth.verifyAccessToken(bearerToken(req));
}

export interface AuthFeatureDeps {
  auth: AuthService;
  authenticate: Authenticator;
}

/** Auth routes: registration, login, refresh, logout, sessions, 2FA, password reset. */
export function registerAuth(ctx: FeatureContext, deps: AuthFeatureDeps): void {
  registerAuthRoutes(ctx, deps);
  // Expired rows are refused on read; these purges only keep the tables small.
  ctx.jobs.schedule('auth.sessions.purge', '7 * * * *', () => purgeExpiredSessions(ctx.db, ctx.clock));
  ctx.jobs.schedule('auth.refresh-tokens.purge', '17 * * * *', () => purgeExpiredRefreshTokens(ctx.db, ctx.clock));
  ctx.jobs.schedule('auth.reset-tokens.purge', '27 * * * *', () => purgeExpiredResetTokens(ctx.db, ctx.clock));
}
