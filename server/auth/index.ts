import type { Request } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import type { FeatureContext, UserHooks } from '../context.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import type { Db } from '../shared/db.js';
import { UnauthorizedError } from '../shared/errors.js';
import type { AuthenticateOptions, Authenticator, AuthUser } from '../shared/http.js';
import { enforceLimit, type LimitSpec } from '../shared/rate-limit.js';
import type { Mailer } from '../shared/mailer.js';
import { createPasswordFailureLimit, createReenteredPasswordCheck, type PasswordFailureLimit, type VerifyReenteredPassword } from './credentials.js';
import { createPasswordHasher, type PasswordHasher } from './crypto.js';
import { registerEmailRoutes } from './email.routes.js';
import { createEmailService, type EmailService } from './email.service.js';
import { registerPasswordRoutes } from './passwords.routes.js';
import { createPasswordsService, type PasswordsService } from './passwords.service.js';
import { registerTokenRoutes } from './tokens.routes.js';
import { createTokensService, type TokensService } from './tokens.service.js';
import { registerTwoFactorRoutes } from './two-factor.routes.js';
export { secondFactorCodeLimiter } from './two-factor.routes.js';
import { createTwoFactorService, type TwoFactorService } from './two-factor.service.js';
import { purgeExpiredEmailTokens, purgeExpiredRefreshTokens, purgeExpiredResetTokens, purgeExpiredSessions } from './auth.purge.js';

export { afterRevoke, revokeSessions } from './revocation.js';
export { wrongCode, wrongPassword } from './credentials.js';
export { RESET_TOKEN_TTL_MS } from './passwords.service.js';
export { EMAIL_TOKEN_TTL_MS } from './email.service.js';
export { PASSWORD_FAILURE_LIMITS, type PasswordFailureLimit, type VerifyReenteredPassword } from './credentials.js';
export type { TokensService, TokenPair, SessionInfo } from './tokens.service.js';
export type { PasswordsService } from './passwords.service.js';
export type { TwoFactorService } from './two-factor.service.js';
export type { EmailService } from './email.service.js';
export { createPasswordHasher, OWASP_ARGON2, ACCESS_TOKEN_TTL_SECONDS, type PasswordHasher, type Argon2Params } from './crypto.js';
export { emailInput, newPassword } from './auth.schemas.js';
export type { LoginInput } from './tokens.service.js';

export interface AuthDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'jwtSecret' | 'encryptionKey' | 'publicUrl'>;
  logger: Logger;
  audit: AuditService;
  hooks: UserHooks;
  mailer: Mailer;
  /** Where failure limits are counted (shared by all instances). */
  redis?: Redis;
  hasher?: PasswordHasher;
}

/** The auth services, each usable on its own (admin panel, CLI, tests, other features). */
export interface AuthServices {
  /** Registration, login, refresh, logout, sessions, access-token verification, disabling a user. */
  tokens: TokensService;
  /** Forgot, reset and change a password. */
  passwords: PasswordsService;
  /** TOTP setup, enable, disable; `clearTwoFactor` for an admin. */
  twoFactor: TwoFactorService;
  /** Email verification and change. */
  email: EmailService;
  /**
   * Verifies a password the signed-in user typed again, under the login failure limit, auditing
   * a wrong one: for every feature that asks for the password before a sensitive write.
   */
  verifyPassword: VerifyReenteredPassword;
  /** The failure limit itself (10 per account and address, 100 per account, per 15 minutes). */
  passwordFailures: PasswordFailureLimit;
}

/** Builds the auth services in plain order: each after the ones it uses. */
export function createAuth(deps: AuthDeps): AuthServices {
  const { db, clock, config, logger, audit, hooks, mailer } = deps;
  const hasher = deps.hasher ?? createPasswordHasher();
  const passwordFailures = createPasswordFailureLimit({ db, redis: deps.redis });
  const verifyPassword = createReenteredPasswordCheck({ db, audit, hasher, limit: passwordFailures });
  const twoFactor = createTwoFactorService({ db, clock, config, logger, audit, hooks, mailer, verifyPassword });
  const email = createEmailService({ db, clock, config, logger, audit, mailer, verifyPassword });
  const passwords = createPasswordsService({ db, clock, config, logger, audit, hooks, mailer, hasher, verifyPassword });
  const tokens = createTokensService({ db, clock, config, logger, audit, hooks, hasher, limit: passwordFailures, twoFactor, email });
  return { tokens, passwords, twoFactor, email, verifyPassword, passwordFailures };
}

/** Reads `Authorization: Bearer <token>`; anything else is a 401. */
export function bearerToken(req: Request): string {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(req.get('authorization') ?? '');
  if (!m) throw new UnauthorizedError();
  return m[1];
}

/**
 * The HTTP authenticator the route registry runs for `user` and `admin` routes. With `userLimit`
 * (counters in PostgreSQL), a request the registry asks to count is counted against the caller's
 * limit in the statement that checks the session, and answered like the limiter middleware would.
 */
export function bearerAuthenticator(tokens: Pick<TokensService, 'verifyAccessToken'>, userLimit?: LimitSpec): Authenticator {
  return async (req: Request, opts?: AuthenticateOptions): Promise<AuthUser> => {
    const token = bearerToken(req);
    if (!userLimit || !opts?.countRequest) return tokens.verifyAccessToken(token);
    const { hit, ...user } = await tokens.verifyAccessToken(token, { prefix: userLimit.prefix, windowMs: userLimit.windowMs, adminOnly: opts.adminOnly });
    if (hit && req.res) enforceLimit(req.res, hit, userLimit);
    return user;
  };
}

export interface AuthFeatureDeps {
  auth: AuthServices;
  authenticate: Authenticator;
}

/**
 * Auth routes: registration, login, refresh, logout, sessions, passwords (forgot, reset, and
 * POST /users/me/password), 2FA, and email change/verification under /users/me.
 */
export function registerAuth(ctx: FeatureContext, { auth, authenticate }: AuthFeatureDeps): void {
  registerTokenRoutes(ctx, { tokens: auth.tokens, authenticate });
  registerPasswordRoutes(ctx, { passwords: auth.passwords });
  registerTwoFactorRoutes(ctx, { twoFactor: auth.twoFactor });
  registerEmailRoutes(ctx, { email: auth.email });
  // Expired rows are refused on read; these purges only keep the tables small.
  ctx.jobs.schedule('auth.sessions.purge', '7 * * * *', () => purgeExpiredSessions(ctx.db, ctx.clock));
  ctx.jobs.schedule('auth.refresh-tokens.purge', '17 * * * *', () => purgeExpiredRefreshTokens(ctx.db, ctx.clock));
  ctx.jobs.schedule('auth.reset-tokens.purge', '27 * * * *', () => purgeExpiredResetTokens(ctx.db, ctx.clock));
  ctx.jobs.schedule('auth.email-tokens.purge', '37 * * * *', () => purgeExpiredEmailTokens(ctx.db, ctx.clock));
}
