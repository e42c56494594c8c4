import { randomUUID } from 'node:crypto';
import { createAuditService } from '../../server/audit/index.js';
import { systemClock } from '../../server/shared/clock.js';
import { createDb, type Db } from '../../server/shared/db.js';
import { tombstoneUser } from '../../server/users/index.js';
import { testDatabaseUrl } from '../helpers/app.js';

let db: Db;
const audit = createAuditService({ clock: systemClock });
beforeAll(() => {
  db = createDb(testDatabaseUrl(), 4);
});
afterAll(async () => {
  await db.destroy();
});

async function newUser(): Promise<string> {
  const [row] = await db('users').insert({ email: `audit-${randomUUID()}@example.com` }).returning('id');
  return row.id;
}

/** Runs `fn` with the append-only trigger off: how an attacker with table access would tamper. */
async function tamper(fn: (trx: Db) => Promise<unknown>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_change');
    await fn(trx);
    await trx.raw('ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_change');
  });
}

describe('audit log', () => {
  it('records entries inside the caller transaction, and a rollback leaves none', async () => {
    const userId = await newUser();
    await db.transaction((trx) => audit.record(trx, { action: 'test.kept', actorId: userId, entityType: 'thing', entityId: '1', after: { a: 1 } }));
    await expect(
      db.transaction(async (trx) => {
        await audit.record(trx, { action: 'test.rolledback', actorId: userId });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const actions = (await db('audit_logs').where({ user_id: userId }).orderBy('seq')).map((r) => r.action);
    expect(actions).toEqual(['test.kept']);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on entries', async () => {
    const userId = await newUser();
    await db.transaction((trx) => audit.record(trx, { action: 'test.locked', actorId: userId, after: { x: 'y' } }));
    await expect(db('audit_logs').where({ user_id: userId }).update({ action: 'test.changed' })).rejects.toThrow(/append-only/);
    await expect(db('audit_logs').where({ user_id: userId }).delete()).rejects.toThrow(/append-only/);
    await expect(db.raw('TRUNCATE audit_logs')).rejects.toThrow(/append-only/);
    expect((await db('audit_logs').where({ user_id: userId }).first()).action).toBe('test.locked');
  });

  it('verifies an untouched chain, including concurrent writers', async () => {
    const userId = await newUser();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => db.transaction((trx) => audit.record(trx, { action: 'test.concurrent', actorId: userId, after: { i } }))),
    );
    const result = await audit.verify(db);
    expect(result.ok).toBe(true);
    expect(result.checked).toBeGreaterThanOrEqual(20);
  });

  it('names the first edited entry', async () => {
    const userId = await newUser();
    for (const i of [1, 2, 3]) await db.transaction((trx) => audit.record(trx, { action: `test.edit${i}`, actorId: userId, after: { amount: '10.00' } }));
    const second = await db('audit_logs').where({ user_id: userId, action: 'test.edit2' }).first();
    await tamper((trx) => trx('audit_logs').where({ seq: second.seq }).update({ after: JSON.stringify({ amount: '99.00' }) }));
    const result = await audit.verify(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.id).toBe(second.id);
    await tamper((trx) => trx('audit_logs').where({ seq: second.seq }).update({ after: JSON.stringify({ amount: '10.00' }) }));
    expect((await audit.verify(db)).ok).toBe(true);
  });

  it('detects a removed entry', async () => {
    const userId = await newUser();
    for (const i of [1, 2, 3]) await db.transaction((trx) => audit.record(trx, { action: `test.rm${i}`, actorId: userId }));
    const rows = await db('audit_logs').where({ user_id: userId }).orderBy('seq');
    await tamper((trx) => trx('audit_logs').where({ seq: rows[1].seq }).delete());
    const result = await audit.verify(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.id).toBe(rows[2].id);
    // Put it back so other tests see a clean chain.
    await tamper((trx) => trx('audit_logs').insert({ ...rows[1], before: rows[1].before, after: rows[1].after }));
    expect((await audit.verify(db)).ok).toBe(true);
  });

  it('detects entries deleted from the end of a chain (the anchor remembers its length)', async () => {
    const userId = await newUser();
    for (const i of [1, 2, 3, 4]) await db.transaction((trx) => audit.record(trx, { action: `test.tail${i}`, actorId: userId }));
    const rows = await db('audit_logs').where({ user_id: userId }).orderBy('seq');
    // The tail is removed with the trigger off: every remaining entry still links to the previous one.
    await tamper((trx) => trx('audit_logs').whereIn('seq', [rows[2].seq, rows[3].seq]).delete());
    const result = await audit.verify(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toEqual({ id: rows[2].id, seq: String(rows[2].seq), reason: expect.stringMatching(/newest entries of the chain were removed \(anchored length 4, found 2\)/) });
    await tamper((trx) => trx('audit_logs').insert(rows.slice(2)));
    expect((await audit.verify(db)).ok).toBe(true);
  });

  it('detects a chain whose every entry was deleted', async () => {
    const userId = await newUser();
    await db.transaction((trx) => audit.record(trx, { action: 'test.only', actorId: userId }));
    const [row] = await db('audit_logs').where({ user_id: userId });
    await tamper((trx) => trx('audit_logs').where({ seq: row.seq }).delete());
    const result = await audit.verify(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.id).toBe(row.id);
    await tamper((trx) => trx('audit_logs').insert(row));
    expect((await audit.verify(db)).ok).toBe(true);
  });

  it('keeps the anchors append-only too', async () => {
    const userId = await newUser();
    await db.transaction((trx) => audit.record(trx, { action: 'test.anchor', actorId: userId }));
    await expect(db('audit_chain_anchors').where({ chain: userId }).delete()).rejects.toThrow(/audit_chain_anchors is append-only/);
    await expect(db('audit_chain_anchors').where({ chain: userId }).update({ length: 9 })).rejects.toThrow(/audit_chain_anchors is append-only/);
    await expect(db.raw('TRUNCATE audit_chain_anchors')).rejects.toThrow(/audit_chain_anchors is append-only/);
    expect(await db('audit_chain_anchors').where({ chain: userId }).pluck('length')).toEqual(['1']);
  });

  it('lets the GDPR erase clear personal fields once, for an erased user only, while the chain still verifies', async () => {
    const userId = await newUser();
    await db.transaction((trx) =>
      audit.record(trx, { action: 'test.pii', actorId: userId, after: { email: 'someone@example.com' }, ip: '203.0.113.9', userAgent: 'Firefox' }),
    );
    // Not erased: the trigger refuses the redaction itself.
    await expect(db.transaction((trx) => audit.redactUser(trx, userId))).rejects.toThrow(/only entries of an erased user may be redacted/);
    expect(await db('audit_logs').where({ user_id: userId }).first()).toMatchObject({ ip: '203.0.113.9', redacted_at: null });
    // An erased row holds no personal data: setting erased_at alone is refused by the database.
    await expect(db('users').where({ id: userId }).update({ erased_at: new Date() })).rejects.toThrow(/users_erased_holds_no_personal_data/);
    const cleared = await db.transaction(async (trx) => {
      await tombstoneUser(trx, userId, new Date());
      return audit.redactUser(trx, userId);
    });
    expect(cleared).toBe(1);
    const row = await db('audit_logs').where({ user_id: userId }).first();
    expect(row).toMatchObject({ action: 'test.pii', after: null, ip: null, user_agent: null });
    expect((await audit.verify(db)).ok).toBe(true);
    // Redaction is the only change allowed, and only towards empty personal fields.
    await expect(db('audit_logs').where({ user_id: userId }).update({ ip: '198.51.100.1' })).rejects.toThrow(/audit_logs is append-only/);
    // An erase is final.
    await expect(db('users').where({ id: userId }).update({ erased_at: null })).rejects.toThrow(/cannot be changed once set/);
  });

  it('detects a faked redaction of a user who was never erased', async () => {
    const userId = await newUser();
    await db.transaction((trx) => audit.record(trx, { action: 'test.fake', actorId: userId, after: { amount: '5.00' }, ip: '203.0.113.7', userAgent: 'curl' }));
    const row = await db('audit_logs').where({ user_id: userId }).first();
    // With the trigger off, the row is made to look exactly like a GDPR redaction.
    await tamper((trx) => trx('audit_logs').where({ seq: row.seq }).update({ before: null, after: null, ip: null, user_agent: null, redacted_at: new Date() }));
    const result = await audit.verify(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toEqual({ id: row.id, seq: String(row.seq), reason: 'redacted although its user was never erased' });
    await tamper((trx) =>
      trx('audit_logs').where({ seq: row.seq }).update({ after: JSON.stringify(row.after), ip: row.ip, user_agent: row.user_agent, redacted_at: null }),
    );
    expect((await audit.verify(db)).ok).toBe(true);
  });
});
