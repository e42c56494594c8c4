import type { AuthUser } from '../server/shared/http.js';

/** How sockets check an access token (the auth service's verifyAccessToken, handed over by server/app.ts). */
export type VerifyAccessToken = (token: string) => Promise<AuthUser>;

/**
 * The `exp` claim of a JWT the auth feature has already verified, in ms since the epoch; null
 * when the token carries none (then the periodic check re-verifies the token instead).
 */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** The bearer token of a handshake: `auth.token` (the contract), or an Authorization header. */
export function handshakeToken(auth: unknown, authorization: string | undefined): string | null {
  const fromAuth = (auth as { token?: unknown } | undefined)?.token;
  if (typeof fromAuth === 'string' && fromAuth.length > 0 && fromAuth.length <= 4096) return fromAuth;
  const m = /^Bearer ([^\s]{1,4096})$/i.exec(authorization ?? '');
  return m ? m[1] : null;
}
