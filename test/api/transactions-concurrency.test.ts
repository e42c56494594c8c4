import { randomUUID } from 'node:crypto';
import { useTestApp } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { Decimal } from '../../server/shared/money.js';
import { checkLedger } from '../../server/transactions/index.js';
import { balanceOf, createAccount, createTransaction, expectProblem, postTransaction, type Json } from '../helpers/ledger.js';
import { eventually } from '../helpers/eventually.js';

const t = useTestApp();

describe('concurrent writes', () => {
  it('100 concurrent writes on one account over HTTP end at the exact balance, with no 5xx', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { openingBalance: '1000.00' });
    const bodies = Array.from({ length: 100 }, (_, i) => ({
      accountId: a.id,
      type: i % 2 === 0 ? 'income' : 'expense',
      amount: `${(i % 7) + 1}.${String(i % 100).padStart(2, '0')}`,
      date: '2026-11-01',
    }));
    const statuses = await Promise.all(bodies.map(async (b) => (await postTransaction(t, u, b)).status));
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const expected = bodies.reduce((sum, b) => (b.type === 'income' ? sum.plus(b.amount) : sum.minus(b.amount)), new Decimal('1000.00'));
    expect(await balanceOf(t, u, a.id)).toBe(expected.toFixed(2));
    expect((await checkLedger(t.db, { userId: u.id })).ok).toBe(true);
  });

  it('opposite transfers, updates and deletes racing on two accounts never deadlock into a 5xx and keep the ledger exact', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { name: 'A', openingBalance: '500.00' });
    const b = await createAccount(t, u, { name: 'B', openingBalance: '500.00' });
    const seeded: Json[] = [];
    for (let i = 0; i < 10; i++) seeded.push(await createTransaction(t, u, { accountId: i % 2 ? a.id : b.id, type: 'transfer', amount: '1.00', toAccountId: i % 2 ? b.id : a.id }));
    const ops: Promise<Response>[] = [];
    for (let i = 0; i < 30; i++) {
      ops.push(postTransaction(t, u, { accountId: a.id, type: 'transfer', amount: '2.00', toAccountId: b.id, date: '2026-11-02' }));
      ops.push(postTransaction(t, u, { accountId: b.id, type: 'transfer', amount: '3.00', toAccountId: a.id, date: '2026-11-02' }));
    }
    for (const [i, s] of seeded.entries()) {
      ops.push(
        i % 2
          ? t.api(`/transactions/${s.id}`, { method: 'DELETE', token: u.accessToken })
          : t.api(`/transactions/${s.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: a.id, type: 'transfer', amount: '5.00', toAccountId: b.id, date: '2026-11-03' } }),
      );
    }
    const statuses = (await Promise.all(ops)).map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([201, 200, 204]));
    // 30×(−2 +3) on A; the 5 updated seeds now move 5.00 A→B; the 5 deleted ones are gone.
    expect(await balanceOf(t, u, a.id)).toBe((500 + 30 - 25).toFixed(2));
    expect(await balanceOf(t, u, b.id)).toBe((500 - 30 + 25).toFixed(2));
    expect((await checkLedger(t.db, { userId: u.id })).ok).toBe(true);
  });
});

describe('an account archived while a transaction waits for it', () => {
  it('answers 409 account_archived and writes nothing once the archive commits (the row lock is taken, not a stale read)', async () => {
    const u = await registerAndLogin(t);
    const a = await createAccount(t, u, { openingBalance: '100.00' });
    // Archive inside an open transaction: the row stays locked until it commits.
    const trx = await t.db.transaction();
    let pending: Promise<Response> | undefined;
    try {
      await trx('accounts').where({ id: a.id }).update({ archived: true });
      pending = postTransaction(t, u, { accountId: a.id, type: 'expense', amount: '10.00', date: '2026-11-01' });
      // Wait, with a bound, until the request is blocked on that row's lock.
      await eventually('POST /transactions to wait on the account row', async () => {
        const [{ waiting }] = (
          await t.db.raw(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          )
        ).rows as { waiting: number }[];
        return waiting > 0;
      });
    } finally {
      await trx.commit();
    }
    await expectProblem(await pending!, 409, 'account_archived');
    expect(await t.db('entries').where({ account_id: a.id }).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
    expect(await t.db('transactions').where({ account_id: a.id }).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
    expect(await balanceOf(t, u, a.id)).toBe('100.00');
  });
});

describe('Idempotency-Key on POST /transactions', () => {
  let u: TestUser;
  let a: Json;
  beforeAll(async () => {
    u = await registerAndLogin(t);
    a = await createAccount(t, u, { openingBalance: '100.00' });
  });
  const body = (amount = '10.00') => ({ accountId: a.id, type: 'expense', amount, date: '2026-11-05', notes: 'idem' });
  /** Access tokens live 15 minutes: after moving the clock, log in again. */
  const relogin = async () => {
    const res = await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } });
    u = { ...u, accessToken: ((await res.json()) as { accessToken: string }).accessToken };
  };

  it('replays the first response for the same key and body, and creates nothing new', async () => {
    const key = randomUUID();
    const first = await postTransaction(t, u, body(), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const created = await first.json();
    const again = await postTransaction(t, u, body(), { 'Idempotency-Key': key });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(created);
    expect(await balanceOf(t, u, a.id)).toBe('90.00');
  });

  it('answers 409 when the key is reused with another body', async () => {
    const key = randomUUID();
    expect((await postTransaction(t, u, body('1.00'), { 'Idempotency-Key': key })).status).toBe(201);
    await expectProblem(await postTransaction(t, u, body('2.00'), { 'Idempotency-Key': key }), 409, 'idempotency_key_reused');
  });

  it('creates exactly one transaction when 20 requests with one key race', async () => {
    const key = randomUUID();
    const before = await balanceOf(t, u, a.id);
    const responses = await Promise.all(Array.from({ length: 20 }, () => postTransaction(t, u, body('0.50'), { 'Idempotency-Key': key })));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as Json).id)));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(await t.db('transactions').where({ user_id: u.id, id }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
    expect(await balanceOf(t, u, a.id)).toBe(new Decimal(before).minus('0.50').toFixed(2));
    expect(await t.db('audit_logs').where({ entity_id: id, action: 'transaction.create' }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
  });

  it('keeps a key for one user only: another user may use the same key', async () => {
    const key = randomUUID();
    const other = await registerAndLogin(t);
    const b = await createAccount(t, other);
    expect((await postTransaction(t, u, body('1.00'), { 'Idempotency-Key': key })).status).toBe(201);
    expect((await postTransaction(t, other, { accountId: b.id, type: 'income', amount: '1.00', date: '2026-11-05' }, { 'Idempotency-Key': key })).status).toBe(201);
    expect(await balanceOf(t, other, b.id)).toBe('1.00');
  });

  it('does not spend the key on a rejected request, so a corrected retry goes through', async () => {
    const key = randomUUID();
    await expectProblem(await postTransaction(t, u, body('1.001'), { 'Idempotency-Key': key }), 400);
    expect((await postTransaction(t, u, body('1.00'), { 'Idempotency-Key': key })).status).toBe(201);
  });

  it('keeps the key for at least 24 hours and frees it afterwards', async () => {
    const key = randomUUID();
    const first = (await (await postTransaction(t, u, body('3.00'), { 'Idempotency-Key': key })).json()) as Json;
    t.clock.advance(23 * 3600_000);
    await relogin();
    const replay = (await (await postTransaction(t, u, body('3.00'), { 'Idempotency-Key': key })).json()) as Json;
    expect(replay.id).toBe(first.id);
    t.clock.advance(2 * 3600_000);
    await relogin();
    const fresh = await postTransaction(t, u, body('3.00'), { 'Idempotency-Key': key });
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(((await fresh.json()) as Json).id).not.toBe(first.id);
  });

  it('purges expired keys in the scheduled housekeeping job, and only those', async () => {
    const oldKey = randomUUID();
    const newKey = randomUUID();
    await postTransaction(t, u, body('4.00'), { 'Idempotency-Key': oldKey });
    t.clock.advance(25 * 3600_000);
    await relogin();
    await postTransaction(t, u, body('4.00'), { 'Idempotency-Key': newKey });
    const purged = await t.app.ctx.jobs.runNow('idempotency.purge');
    expect(purged).toBeGreaterThanOrEqual(1);
    const keys = (await t.db('idempotency_keys').where({ user_id: u.id }).select('key')).map((r) => r.key);
    expect(keys).toContain(newKey);
    expect(keys).not.toContain(oldKey);
  });

  it('rejects a malformed key with 400', async () => {
    await expectProblem(await postTransaction(t, u, body(), { 'Idempotency-Key': 'x'.repeat(256) }), 400);
  });
});
