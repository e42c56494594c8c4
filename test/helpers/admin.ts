import { createAuditService } from '../../server/audit/index.js';
import { systemActor } from '../../server/shared/write-context.js';
import { changeRole } from '../../server/users/index.js';
import type { TestApp } from './app.js';
import { registerAndLogin, type TestUser } from './users.js';

/** A registered user given the admin role (as `npm run admin:promote` does). */
export async function registerAdmin(t: TestApp): Promise<TestUser> {
  const u = await registerAndLogin(t, { name: 'Ada Admin' });
  await changeRole(t.db, createAuditService({ clock: t.clock }), t.clock, { email: u.email, role: 'admin', via: 'test' }, systemActor());
  return u;
}

export interface PanelSignIn {
  status: number;
  location: string | null;
  /** `numina_admin=...` when a session cookie was set. */
  cookie: string | null;
  html: string;
}

/** Submits the panel's sign-in form as a browser on the panel's origin does. */
export async function panelSignIn(t: TestApp, email: string, password: string, code?: string): Promise<PanelSignIn> {
  const body = new URLSearchParams({ email, password, ...(code ? { code } : {}) });
  const res = await fetch(`${t.url}/admin/login`, {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { origin: t.url, 'content-type': 'application/x-www-form-urlencoded' },
  });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('numina_admin='));
  return { status: res.status, location: res.headers.get('location'), cookie: set ? set.split(';')[0] : null, html: await res.text() };
}

/** A request to the panel with a session cookie, from the panel's own origin unless `origin` says otherwise. */
export function panel(t: TestApp, path: string, cookie: string | null, init: RequestInit & { json?: unknown; origin?: string | null } = {}): Promise<Response> {
  const { json, origin, headers, ...rest } = init;
  const h = new Headers(headers);
  if (cookie) h.set('cookie', cookie);
  if (origin !== null) h.set('origin', origin ?? t.url);
  if (json !== undefined) h.set('content-type', 'application/json');
  return fetch(`${t.url}${path}`, { redirect: 'manual', ...rest, headers: h, body: json !== undefined ? JSON.stringify(json) : rest.body });
}
