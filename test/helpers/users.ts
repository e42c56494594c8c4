import { createHmac, randomUUID } from 'node:crypto';
import type { TestApp } from './app.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  user: Record<string, unknown>;
}

/** A unique email, so tests never depend on each other's users. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

/** Registers a new user through the API and logs in. */
export async function registerAndLogin(
  t: TestApp,
  overrides: { email?: string; password?: string; name?: string; currency?: string; timeZone?: string } = {},
): Promise<TestUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? `Correct-horse-${randomUUID()}`;
  const reg = await t.api('/auth/register', { method: 'POST', json: { name: 'Test User', ...overrides, email, password } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
  const login = await t.api('/auth/login', { method: 'POST', json: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const body = (await login.json()) as { accessToken: string; refreshToken: string; user: { id: string } & Record<string, unknown> };
  return { id: body.user.id, email, password, accessToken: body.accessToken, refreshToken: body.refreshToken, user: body.user };
}

/**
 * The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret at `at`, computed independently of
 * the server's TOTP code, as an authenticator app would.
 */
export function totpCode(secretBase32: string, at: Date, stepOffset = 0): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 1000 / 30) + stepOffset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}
