import { z } from 'zod';
import type { FeatureContext } from '../context.js';
import { UnauthorizedError } from '../shared/errors.js';
import { listQuery, uuidParam, type Authenticator } from '../shared/http.js';
import { loginBody, logoutBody, refreshBody, registerBody, sessionList, tokenResponse, userResponse } from './auth.schemas.js';
import type { TokensService } from './tokens.service.js';

/** Registration, login, refresh, logout and the sessions list. */
export function registerTokenRoutes(ctx: FeatureContext, { tokens, authenticate }: { tokens: TokensService; authenticate: Authenticator }): void {
  const r = ctx.registry;
  const tags = ['Auth'];

  r.add({
    method: 'post',
    path: '/auth/register',
    access: 'public',
    summary: 'Create an account (a link to verify the address is mailed)',
    tags,
    body: registerBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: userResponse }, 409: { description: 'Email already registered (case-insensitive)' } },
    handler: async ({ body, facts }) => ({ user: await tokens.register(body, facts) }),
  });

  r.add({
    method: 'post',
    path: '/auth/login',
    access: 'public',
    summary: 'Log in: returns an access token and a refresh token',
    tags,
    body: loginBody,
    responses: {
      200: { description: 'Logged in', schema: tokenResponse },
      401: { description: 'Wrong email or password (same body either way), `mfa_required`, `mfa_invalid` or `account_disabled`' },
      429: { description: 'Too many failed attempts for this email from this address (10 per 15 min) or from all addresses (100 per 15 min)' },
    },
    handler: async ({ body, facts }) => tokens.login(body, facts),
  });

  r.add({
    method: 'post',
    path: '/auth/refresh',
    access: 'public',
    summary: 'Exchange a refresh token for new tokens (the old one is spent; reusing it revokes the login)',
    tags,
    body: refreshBody,
    responses: { 200: { description: 'New tokens', schema: tokenResponse }, 401: { description: 'Unknown, spent or revoked refresh token, or disabled user' } },
    handler: async ({ body, facts }) => tokens.refresh(body.refreshToken, facts),
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
    handler: async ({ body, req, facts }) => {
      if (req.get('authorization')) {
        try {
          const user = await authenticate(req);
          await tokens.logout({ userId: user.id, actorId: user.id, audit: facts }, user.sessionId, body.refreshToken);
          return;
        } catch (err) {
          if (!(err instanceof UnauthorizedError) || !body.refreshToken) throw err;
        }
      }
      if (!body.refreshToken) throw new UnauthorizedError();
      await tokens.logoutWithRefreshToken(body.refreshToken, facts);
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
    handler: async ({ user, query }) => tokens.listSessions(user, query),
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
    handler: async ({ params, write }) => {
      await tokens.revokeSession(write, params.id);
    },
  });
}
