import { randomUUID } from 'node:crypto';
import { useTestApp, useUsers } from '../helpers/app.js';
import { type TestUser } from '../helpers/users.js';
import { createAccount, expectProblem } from '../helpers/ledger.js';

const t = useTestApp();
const [alice, bob, admin] = useUsers(t, 3);
type Entry = { id: string; at: string; actorId: string | null; userId: string | null; action: string; entityType: string | null; entityId: string | null; before: unknown; after: unknown };
type Page = { data: Entry[]; nextCursor: string | null };

beforeAll(async () => {
  await t.db('users').where({ id: admin.id }).update({ role: 'admin' });
  for (const name of ['One', 'Two', 'Three']) await createAccount(t, alice, { name });
  await createAccount(t, bob, { name: 'Bobs' });
});

const logs = async (u: TestUser, qs = ''): Promise<Response> => t.api(`/audit/logs${qs}`, { token: u.accessToken });

describe('GET /audit/logs', () => {
  it('shows a user their own entries, newest first, with the contract fields', async () => {
    const res = await logs(alice, '?limit=500');
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as Page;
    expect(data.length).toBeGreaterThanOrEqual(3);
    expect(data.every((e) => e.userId === alice.id)).toBe(true);
    const creates = data.filter((e) => e.action === 'account.create');
    expect(creates.map((e) => (e.after as { name: string }).name)).toEqual(['Three', 'Two', 'One']);
    expect(creates[0]).toEqual(
      expect.objectContaining({ id: expect.any(String), at: expect.any(String), actorId: alice.id, entityType: 'account', entityId: expect.any(String), before: null, ip: expect.any(String), requestId: expect.any(String) }),
    );
    expect(creates[0]).toHaveProperty('userAgent');
  });

  it('filters by action, entity type and time, and pages with a cursor', async () => {
    const byAction = (await (await logs(alice, '?action=account.create&limit=2')).json()) as Page;
    expect(byAction.data).toHaveLength(2);
    expect(byAction.data.every((e) => e.action === 'account.create')).toBe(true);
    const rest = (await (await logs(alice, `?action=account.create&limit=2&cursor=${byAction.nextCursor}`)).json()) as Page;
    expect(rest.data.map((e) => (e.after as { name: string }).name)).toEqual(['One']);
    expect(rest.nextCursor).toBeNull();
    const byType = (await (await logs(alice, '?entityType=account&limit=500')).json()) as Page;
    expect(byType.data.every((e) => e.entityType === 'account')).toBe(true);
    const future = new Date(t.clock.now().getTime() + 3600_000).toISOString();
    expect(((await (await logs(alice, `?from=${future}`)).json()) as Page).data).toEqual([]);
    const past = new Date(t.clock.now().getTime() - 3600_000).toISOString();
    expect(((await (await logs(alice, `?to=${past}`)).json()) as Page).data).toEqual([]);
  });

  it('never shows another user\u2019s entries; asking for them is 403', async () => {
    const { data } = (await (await logs(bob, '?limit=500')).json()) as Page;
    expect(data.some((e) => e.userId === alice.id)).toBe(false);
    await expectProblem(await logs(bob, `?userId=${alice.id}`), 403);
    expect((await logs(bob, `?userId=${bob.id}`)).status).toBe(200);
  });

  it('lets an admin see everyone\u2019s entries, or one user\u2019s with ?userId=', async () => {
    const all = (await (await logs(admin, '?limit=500')).json()) as Page;
    const users = new Set(all.data.map((e) => e.userId));
    expect(users.has(alice.id) && users.has(bob.id)).toBe(true);
    const onlyBob = (await (await logs(admin, `?userId=${bob.id}&limit=500`)).json()) as Page;
    expect(onlyBob.data.length).toBeGreaterThan(0);
    expect(onlyBob.data.every((e) => e.userId === bob.id)).toBe(true);
  });

  it.each([['?limit=1000'], ['?from=yesterday'], ['?userId=nope'], ['?cursor=%%%'], ['?sort=asc']])('rejects %s with 400', async (qs) => {
    await expectProblem(await logs(alice, qs), 400);
  });

  it('requires a bearer token', async () => {
    await expectProblem(await t.api('/audit/logs'), 401);
  });

  it('offers no way to change or delete an entry through the API', async () => {
    const [entry] = ((await (await logs(alice)).json()) as Page).data;
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      expect((await t.api(`/audit/logs/${entry.id}`, { method, token: admin.accessToken, json: {} })).status).toBe(404);
    }
    expect((await t.api('/audit/logs', { method: 'DELETE', token: admin.accessToken })).status).toBe(404);
  });
});

describe('GET /audit/verify', () => {
  it('is for admins only (403 for a user, 401 without a token)', async () => {
    await expectProblem(await t.api('/audit/verify', { token: alice.accessToken }), 403);
    await expectProblem(await t.api('/audit/verify'), 401);
  });

  it('answers ok with the number of entries checked', async () => {
    const res = await t.api('/audit/verify', { token: admin.accessToken });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; checked: number };
    expect(body.ok).toBe(true);
    expect(body.checked).toBeGreaterThanOrEqual(4);
  });

  it('answers ok:false naming the first bad entry when a row was edited in the table behind the API', async () => {
    const row = await t.db('audit_logs').where({ user_id: alice.id, action: 'account.create' }).orderBy('seq').first();
    const edit = async (after: unknown) => {
      await t.db.raw('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_change');
      try {
        await t.db('audit_logs').where({ seq: row.seq }).update({ after: JSON.stringify(after) });
      } finally {
        await t.db.raw('ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_change');
      }
    };
    // The table itself refuses the edit while the trigger is on.
    await expect(t.db('audit_logs').where({ seq: row.seq }).update({ action: 'nothing.happened' })).rejects.toThrow(/audit_logs is append-only/);
    await edit({ ...row.after, name: `Forged ${randomUUID()}` });
    try {
      const body = (await (await t.api('/audit/verify', { token: admin.accessToken })).json()) as { ok: boolean; checked: number; firstBad: { id: string } };
      expect(body.ok).toBe(false);
      expect(body.firstBad).toEqual(expect.objectContaining({ id: row.id }));
    } finally {
      await edit(row.after);
    }
    expect(((await (await t.api('/audit/verify', { token: admin.accessToken })).json()) as { ok: boolean }).ok).toBe(true);
  });
});
