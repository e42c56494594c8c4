import type { Request } from 'express';
import { ipKeyGenerator, type Options } from 'express-rate-limit';
import { z } from 'zod';
import { UnauthorizedError } from '../shared/errors.js';
import type { FeatureContext } from '../context.js';
import { listQuery, uuidParam, type Authenticator, type AuthUser } from '../shared/http.js';
import { createLimiter, makeStore, type LimiterBackends } from '../shared/rate-limit.js';
import { requestFacts } from '../shared/write-context.js';
import type { AuthService } from './auth.service.js';
import {
  codeBody,
  disable2faBody,
  forgotBody,
  loginBody,
  logoutBody,
  recoveryCodesResponse,
  refreshBody,
  registerBody,
  resetBody,
  sessionList,
  tokenResponse,
  totpSetupResponse,
  userResponse,
} from './auth.schemas.js';

const MINUTE = 60_000;


/** The bucket key of an email: limits are per account, not per address. */
const emailBucket = (email: string) => `email:${email.trim().toLowerCase().slice(0, 254)}`;

/** The email a request is about, as the bucket key. */
function emailKey(req: Request): string {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.trim() ? emailBucket(email) : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

/** Failed logins per email: 10 per 15 minutes, shared by every way in (API, admin panel) and every instance. */
export const LOGIN_FAILURES = { prefix: 'login-fail', windowMs: 15 * MINUTE, limit: 10 } as const;

export interface LoginFailureGate {
  /** True when this email has used up its failed logins for the window. */
  blocked(email: string): Promise<boolean>;
  /** Counts one failed login of this email. */
  fail(email: string): Promise<void>;
}

/** The per-email failed-login bucket of `POST /auth/login`, for sign-ins that are not that route (the admin panel). */
export function loginFailureGate(backends: LimiterBackends): LoginFailureGate {
  const store = makeStore(backends, LOGIN_FAILURES.prefix);
  void store.init?.({ windowMs: LOGIN_FAILURES.windowMs } as Options);
  return {
    async blocked(email) {
      const hits = await store.get?.(emailBucket(email));
      return !!hits && hits.totalHits >= LOGIN_FAILURES.limit && (!hits.resetTime || hits.resetTime.getTime() > Date.now());
    },
    async fail(email) {
      await store.increment(emailBucket(email));
    },
  };
}

export function registerAuthRoutes(ctx: FeatureContext, { auth, authenticate }: { auth: AuthService; authenticate: Authenticator }): void {
  const backends = { db: ctx.db, redis: ctx.redis };
  // 10 failed logins per email per 15 minutes; successful ones do not count. Shared by all instances.
  const loginLimiter = createLimiter(backends, { ...LOGIN_FAILURES, key: emailKey, skipSuccessfulRequests: true });
  const forgotLimiter = createLimiter(backends, { prefix: 'pw-forgot', windowMs: 60 * MINUTE, limit: 5, key: emailKey });
  const resetLimiter = createLimiter(backends, { prefix: 'pw-reset', windowMs: 15 * MINUTE, limit: 20, skipSuccessfulRequests: true });
  const twoFactorLimiter = createLimiter(backends, {
    prefix: '2fa-fail',
    windowMs: 15 * MINUTE,
    limit: 10,
    key: (req) => `user:${(req.res?.locals.user as AuthUser).id}`,
    skipSuccessfulRequests: true,
  });
  const r = ctx.registry;
  const tags = ['Auth'];

  r.add({
    method: 'post',
    path: '/auth/register',
    access: 'public',
    summary: 'Create an account',
    tags,
    body: registerBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: userResponse }, 409: { description: 'Email already registered (case-insensitive)' } },
    handler: async ({ body, req }) => ({ user: await auth.register(body, requestFacts(req)) }),
  });

  r.add({
    method: 'post',
    path: '/auth/login',
    access: 'public',
    summary: 'Log in: returns an access token and a refresh token',
    tags,
    body: loginBody,
    middleware: [loginLimiter],
    responses: {
      200: { description: 'Logged in', schema: tokenResponse },
      401: { description: 'Wrong email or password (same body either way), `mfa_required`, `mfa_invalid` or `account_disabled`' },
    },
    handler: async ({ body, req }) => auth.login(body, requestFacts(req)),
  });

  r.add({
    method: 'post',
    path: '/auth/refresh',
    access: 'public',
    summary: 'Exchange a refresh token for new tokens (the old one is spent; reusing it revokes the login)',
    tags,
    body: refreshBody,
    responses: { 200: { description: 'New tokens', schema: tokenResponse }, 401: { description: 'Unknown, spent or revoked refresh token, or disabled user' } },
    handler: async ({ body, req }) => auth.refresh(body.refreshToken, requestFacts(req)),
  });

  r.add({
    method: 'post',
    path: '/auth/logout',
    // Public so that a client whose access token expired can still end its login with the
    // refresh token; with a bearer token it ends the caller's current login.
    access: 'public',
    summary: 'End this login (its refresh token stops working); bearer token, refresh token, or both',
    tags,
    body: logoutBody,
    status: 204,
    responses: { 204: { description: 'Logged out' }, 401: { description: 'Neither a valid bearer token nor a live refresh token' } },
    handler: async ({ body, req }) => {
      if (req.get('authorization')) {
        try {
          const user = await authenticate(req);
          await auth.logout(user, body.refreshToken, requestFacts(req));
          return;
        } catch (err) {
          if (!(err instanceof UnauthorizedError) || !body.refreshToken) throw err;
        }
      }
      if (!body.refreshToken) throw new UnauthorizedError();
      await auth.logoutWithRefreshToken(body.refreshToken, requestFacts(req));
    },
  });

  r.add({
    method: 'post',
    path: '/auth/password/forgot',
    access: 'public',
    summary: 'Mail a password-reset link (always 202)',
    tags,
    body: forgotBody,
    middleware: [forgotLimiter],
    status: 202,
    responses: { 202: { description: 'Accepted, whether or not the email is known' } },
    handler: async ({ body, req }) => {
      auth.forgotPassword(body.email, requestFacts(req));
    },
  });

  r.add({
    method: 'post',
    path: '/auth/password/reset',
    access: 'public',
    summary: 'Set a new password with a reset token; every login is revoked',
    tags,
    body: resetBody,
    middleware: [resetLimiter],
    status: 204,
    responses: { 204: { description: 'Password changed' } },
    handler: async ({ body, req }) => {
      await auth.resetPassword(body.token, body.newPassword, requestFacts(req));
    },
  });

  r.add({
    method: 'post',
    path: '/auth/2fa/setup',
    access: 'user',
    summary: 'Start TOTP setup (RFC 6238, SHA-1, 6 digits, 30 s)',
    tags,
    responses: { 200: { description: 'Secret to add to an authenticator', schema: totpSetupResponse }, 409: { description: '2FA already on' } },
    handler: async ({ user }) => auth.setupTotp(user),
  });

  r.add({
    method: 'post',
    path: '/auth/2fa/enable',
    access: 'user',
    summary: 'Turn 2FA on with a current code; returns 10 single-use recovery codes',
    tags,
    body: codeBody,
    middleware: [twoFactorLimiter],
    responses: { 200: { description: '2FA on', schema: recoveryCodesResponse }, 409: { description: 'Already on, or setup not started' } },
    handler: async ({ body, user, req }) => auth.enableTotp(user, body.code, requestFacts(req)),
  });

  r.add({
    method: 'post',
    path: '/auth/2fa/disable',
    access: 'user',
    summary: 'Turn 2FA off (password and a TOTP or recovery code)',
    tags,
    body: disable2faBody,
    middleware: [twoFactorLimiter],
    status: 204,
    responses: { 204: { description: '2FA off' }, 409: { description: '2FA is not on' } },
    handler: async ({ body, user, req }) => {
      await auth.disableTotp(user, body.password, body.code, requestFacts(req));
    },
  });

  r.add({
    method: 'get',
    path: '/auth/sessions',
    access: 'user',
    summary: "The caller's active logins",
    tags,
    query: z.object(listQuery).strict(),
    responses: { 200: { description: 'Active logins, newest first', schema: sessionList } },
    handler: async ({ user, query }) => auth.listSessions(user, query),
  });

  r.add({
    method: 'delete',
    path: '/auth/sessions/:id',
    access: 'user',
    summary: 'Revoke one of your logins',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Revoked' } },
    handler: async ({ params, user, req }) => {
      await auth.revokeSession(user, params.id, requestFacts(req));
    },
  });
}
