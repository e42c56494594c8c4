import type { TestApp } from './app.js';
import type { TestUser } from './users.js';

/** Small HTTP helpers shared by the ledger's API tests (accounts, categories, transactions, audit). */

export type Json = Record<string, unknown> & { id: string };

export async function createAccount(t: TestApp, u: TestUser, body: Record<string, unknown> = {}): Promise<Json> {
  const res = await t.api('/accounts', { method: 'POST', token: u.accessToken, json: { name: 'Checking', type: 'bank', currency: 'USD', ...body } });
  if (res.status !== 201) throw new Error(`create account: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

export function postTransaction(t: TestApp, u: TestUser, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return t.api('/transactions', { method: 'POST', token: u.accessToken, json: body, headers });
}

export async function createTransaction(t: TestApp, u: TestUser, body: Record<string, unknown>): Promise<Json> {
  const res = await postTransaction(t, u, { date: '2026-11-01', ...body });
  if (res.status !== 201) throw new Error(`create transaction: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

export async function balanceOf(t: TestApp, u: TestUser, accountId: string): Promise<string> {
  const res = await t.api(`/accounts/${accountId}`, { token: u.accessToken });
  if (res.status !== 200) throw new Error(`get account: ${res.status}`);
  return ((await res.json()) as { balance: string }).balance;
}

export async function categoryNamed(t: TestApp, u: TestUser, name: string): Promise<Json> {
  const res = await t.api('/categories?limit=500', { token: u.accessToken });
  const { data } = (await res.json()) as { data: Json[] };
  const c = data.find((x) => x.name === name);
  if (!c) throw new Error(`no category ${name}`);
  return c;
}

/** Asserts an RFC 9457 problem with `status` (and `code` when given); returns the body. */
export async function expectProblem(res: Response, status: number, code?: string): Promise<{ code: string; errors?: { path: string; message: string }[] }> {
  const body = await res.text();
  expect({ status: res.status, body }).toEqual({ status, body: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  const parsed = JSON.parse(body);
  if (code) expect(parsed.code).toBe(code);
  return parsed;
}

/** Events the outbox stored for a user, oldest first. */
export async function eventsOf(t: TestApp, userId: string): Promise<{ seq: string; type: string; data: Record<string, unknown> }[]> {
  return t.db('events').where({ user_id: userId }).orderBy('seq').select('seq', 'type', 'data');
}
