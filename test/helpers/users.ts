import { randomUUID } from 'node:crypto';
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
