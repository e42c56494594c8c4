import { randomUUID } from 'node:crypto';
import { createOutbox } from '../../server/shared/outbox.js';
import { systemClock } from '../../server/shared/clock.js';
import { createDb, type Db } from '../../server/shared/db.js';
import { testDatabaseUrl } from '../helpers/app.js';

let db: Db;
const outbox = createOutbox({ clock: systemClock });
beforeAll(() => {
  db = createDb(testDatabaseUrl(), 6);
});
afterAll(async () => {
  await db.destroy();
});

async function newUser(): Promise<string> {
  const [row] = await db('users').insert({ email: `outbox-${randomUUID()}@example.com` }).returning('id');
  return row.id;
}

describe('event outbox', () => {
  it('gives each user its own increasing seq, gap-free across concurrent publishers', async () => {
    const a = await newUser();
    const b = await newUser();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => db.transaction((trx) => outbox.publish(trx, i % 2 ? a : b, 'balance.updated', { i }))),
    );
    for (const user of [a, b]) {
      const seqs = (await db('events').where({ user_id: user }).orderBy('seq')).map((r) => Number(r.seq));
      expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    }
  });

  it('leaves no event when the publishing transaction rolls back', async () => {
    const user = await newUser();
    await expect(
      db.transaction(async (trx) => {
        await outbox.publish(trx, user, 'transaction.created', { transaction: { id: 'x' } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db('events').where({ user_id: user })).toEqual([]);
    const next = await db.transaction((trx) => outbox.publish(trx, user, 'balance.updated', {}));
    expect(next.seq).toBe(1);
  });

  it('notifies listeners only at commit', async () => {
    const user = await newUser();
    const conn = await db.client.acquireConnection();
    const seen: string[] = [];
    const onNotification = (m: { channel: string; payload?: string }) => {
      if (m.channel === 'numina_events') seen.push(m.payload ?? '');
    };
    conn.on('notification', onNotification);
    await conn.query('LISTEN numina_events');
    try {
      await expect(
        db.transaction(async (trx) => {
          await outbox.publish(trx, user, 'balance.updated', { n: 1 });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await db.transaction((trx) => outbox.publish(trx, user, 'balance.updated', { n: 2 }));
      const mine = () => seen.map((p) => JSON.parse(p)).filter((p) => p.userId === user);
      // Notifications arrive asynchronously: wait (bounded) for the committed one.
      for (let i = 0; i < 100 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(mine()).toEqual([{ userId: user, seq: 1 }]);
    } finally {
      await conn.query('UNLISTEN numina_events');
      conn.off('notification', onNotification);
      await db.client.releaseConnection(conn);
    }
  });
});
