/**
 * Every use of oslo lives here, behind small interfaces (PasswordHasher, AccessTokens, Totp), so
 * the library can be replaced without touching the service. The clock is always passed in: oslo's
 * own expiry checks read the real clock, which tests cannot move.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TimeSpan } from 'oslo';
import { generateRandomString } from 'oslo/crypto';
import { base32, base64url } from 'oslo/encoding';
import { parseJWT } from 'oslo/jwt';
import { createTOTPKeyURI, generateHOTP } from 'oslo/otp';
import { Argon2id } from 'oslo/password';

// ---------------------------------------------------------------- passwords

export interface Argon2Params {
  memorySize: number;
  iterations: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1. */
export const OWASP_ARGON2: Argon2Params = { memorySize: 19456, iterations: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies against the parameters stored in the hash itself (older hashes keep working). */
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters than the current ones: rehash at login. */
  needsRehash(hash: string): boolean;
}

export function createPasswordHasher(params: Argon2Params = OWASP_ARGON2): PasswordHasher {
  const argon = new Argon2id({ memorySize: params.memorySize, iterations: params.iterations, parallelism: params.parallelism });
  return {
    hash: (password) => argon.hash(password),
    async verify(hash, password) {
      try {
        return await argon.verify(hash, password);
      } catch {
        return false;
      }
    },
    needsRehash(hash) {
      const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
      if (!m) return true;
      return Number(m[1]) !== params.memorySize || Number(m[2]) !== params.iterations || Number(m[3]) !== params.parallelism;
    },
  };
}

// ---------------------------------------------------------------- access tokens (JWT)

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const JWT_ISSUER = 'numina';
export const JWT_AUDIENCE = 'numina-api';
const JWT_ALG = 'HS256';
/** How far ahead of our clock an `iat` may be (instances' clocks differ slightly). */
const CLOCK_SKEW_MS = 60_000;

export interface AccessClaims {
  sub: string;
  role: 'user' | 'admin';
  sid: string;
}

export interface AccessTokens {
  sign(claims: AccessClaims, now: Date): Promise<string>;
  /** The claims of a valid token, or null: bad form, other algorithm (incl. none), bad signature, expired, wrong iss/aud. */
  verify(token: string, now: Date): Promise<AccessClaims | null>;
}

export function createAccessTokens(secret: string, ttlSeconds = ACCESS_TOKEN_TTL_SECONDS): AccessTokens {
  const key = Buffer.from(secret, 'utf8');
  // HMAC-SHA256 from node:crypto, synchronous: ~2 µs on the calling thread, where WebCrypto's
  // promise-based HMAC (oslo's) costs a round trip through the libuv pool — on every request.
  const mac = (input: string) => createHmac('sha256', key).update(input).digest();
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
  return {
    sign(claims, now) {
      const iat = Math.floor(now.getTime() / 1000);
      const head = b64({ alg: JWT_ALG, typ: 'JWT' });
      const body = b64({ ...claims, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat, exp: iat + ttlSeconds });
      return Promise.resolve(`${head}.${body}.${mac(`${head}.${body}`).toString('base64url')}`);
    },
    verify(token, now) {
      return Promise.resolve(verifyToken(token, now));
    },
  };

  function verifyToken(token: string, now: Date): AccessClaims | null {
    if (typeof token !== 'string' || token.length > 4096) return null;
    let parsed: ReturnType<typeof parseJWT>;
    try {
      parsed = parseJWT(token);
    } catch {
      return null;
    }
    // Only the one algorithm we sign with: `none` and every other algorithm are refused.
    if (!parsed || parsed.algorithm !== JWT_ALG) return null;
    let signature: Uint8Array;
    try {
      signature = base64url.decode(parsed.parts[2], { strict: false });
    } catch {
      return null;
    }
    const expected = mac(`${parsed.parts[0]}.${parsed.parts[1]}`);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
    const nowMs = now.getTime();
    if (!parsed.expiresAt || parsed.expiresAt.getTime() <= nowMs) return null;
    // A token must say when it was made, not in the future, and live no longer than we issue
    // them for: a forged or mis-issued long-lived token is refused even with a valid signature.
    if (!parsed.issuedAt || parsed.issuedAt.getTime() > nowMs + CLOCK_SKEW_MS) return null;
    if (parsed.expiresAt.getTime() - parsed.issuedAt.getTime() > ttlSeconds * 1000) return null;
    if (parsed.notBefore && parsed.notBefore.getTime() > nowMs) return null;
    if (parsed.issuer !== JWT_ISSUER || !parsed.audiences?.includes(JWT_AUDIENCE)) return null;
    const p = parsed.payload as Record<string, unknown>;
    if (typeof p.sub !== 'string' || typeof p.sid !== 'string' || (p.role !== 'user' && p.role !== 'admin')) return null;
    return { sub: p.sub, sid: p.sid, role: p.role };
  }
}

// ---------------------------------------------------------------- TOTP (RFC 6238: SHA-1, 6 digits, 30 s)

export const TOTP_PERIOD_SECONDS = 30;
const TOTP_DIGITS = 6;

export interface Totp {
  newSecret(): Uint8Array;
  toBase32(secret: Uint8Array): string;
  keyUri(issuer: string, account: string, secret: Uint8Array): string;
  /**
   * The time step the code belongs to (one step of drift either way), or null. Steps at or before
   * `lastStep` are refused, so an accepted code can never be replayed.
   */
  verify(secret: Uint8Array, code: string, now: Date, lastStep: number | null): Promise<number | null>;
}

export const totp: Totp = {
  newSecret: () => new Uint8Array(randomBytes(20)),
  toBase32: (secret) => base32.encode(secret, { includePadding: false }),
  keyUri: (issuer, account, secret) =>
    createTOTPKeyURI(issuer, account, secret, { digits: TOTP_DIGITS, period: new TimeSpan(TOTP_PERIOD_SECONDS, 's') }),
  async verify(secret, code, now, lastStep) {
    if (!/^\d{6}$/.test(code)) return null;
    const current = Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
    let found: number | null = null;
    for (const step of [current - 1, current, current + 1]) {
      const expected = await generateHOTP(secret, step, TOTP_DIGITS);
      if (safeEqual(expected, code) && (lastStep === null || step > lastStep)) found = step;
    }
    return found;
  },
};

// ---------------------------------------------------------------- secrets at rest, opaque tokens

/** AES-256-GCM with a random 96-bit IV; the output is `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function encryptSecret(key: Buffer, plain: Uint8Array): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function decryptSecret(key: Buffer, boxed: string): Uint8Array {
  const [v, iv, tag, ct] = boxed.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown secret format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return new Uint8Array(Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]));
}

/** A random opaque token (256 bits) for refresh and reset links. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens and recovery codes carry enough entropy that a fast hash (SHA-256) is the right one to store. */
export { sha256Hex } from '../shared/hash.js';

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** `xxxxx-xxxxx` from a 31-letter alphabet without look-alikes (~49 bits each). */
export function newRecoveryCode(): string {
  const s = generateRandomString(10, RECOVERY_ALPHABET);
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
