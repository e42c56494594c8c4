import { randomUUID } from 'node:crypto';
import { createOutbox, type Outbox } from '../../server/shared/outbox.js';
import { createSignals, type Signals } from '../../server/shared/realtime-signals.js';
import { systemClock } from '../../server/shared/clock.js';
import { createDb, type Db } from '../../server/shared/db.js';
import { createLogger } from '../../server/shared/logger.js';
import { testDatabaseUrl } from '../helpers/app.js';
import { eventually } from '../helpers/eventually.js';

let db: Db;
/** Signals go out through a pool of their own here, so a NOTIFY's sender can never be the writer's connection. */
let signalDb: Db;
let signals: Signals;
let outbox: Outbox;
beforeAll(() => {
  db = createDb(testDatabaseUrl(), 6);
  signalDb = createDb(testDatabaseUrl(), 1);
  signals = createSignals({ db: signalDb, logger: createLogger('silent') });
  outbox = createOutbox({ clock: systemClock, signals });
});
afterAll(async () => {
  await db.destroy();
  await signalDb.destroy();
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
      Array.from({ length: 30 }, (_, i) => db.transaction((trx) => outbox.publish(trx, i % 2 ? a : b, 'balance.updated', { accountId: `acc-${i}`, balance: '1.00', currency: 'USD' }))),
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
    const next = await db.transaction((trx) => outbox.publish(trx, user, 'balance.updated', { accountId: 'a', balance: '0.00', currency: 'USD' }));
    expect(next.seq).toBe(1);
  });

  it('signals listeners only after commit, outside the writing transaction', async () => {
    const user = await newUser();
    const conn = await db.client.acquireConnection();
    const seen: string[] = [];
    const senders: number[] = [];
    const onNotification = (m: { channel: string; payload?: string; processId: number }) => {
      if (m.channel !== 'numina_events') return;
      seen.push(m.payload ?? '');
      senders.push(m.processId);
    };
    conn.on('notification', onNotification);
    await conn.query('LISTEN numina_events');
    try {
      await expect(
        db.transaction(async (trx) => {
          await outbox.publish(trx, user, 'balance.updated', { accountId: 'a', balance: '1.00', currency: 'USD' });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      let writer = 0;
      await db.transaction(async (trx) => {
        writer = (await trx.raw('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        await outbox.publish(trx, user, 'balance.updated', { accountId: 'a', balance: '2.00', currency: 'USD' });
      });
      const mine = () => seen.map((p) => JSON.parse(p)).filter((p) => p.userId === user);
      expect(await eventually('the committed event\'s signal', () => mine().length > 0 && mine())).toEqual([{ userId: user, seq: 1 }]);
      await signals.flush();
      expect(mine()).toEqual([{ userId: user, seq: 1 }]);
      // Sent by the signalling connection, not by the writer's commit (which carried no NOTIFY).
      const signaller = (await signalDb.raw('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      expect(senders[seen.findIndex((p) => JSON.parse(p).userId === user)]).toBe(signaller);
      expect(signaller).not.toBe(writer);
    } finally {
      await conn.query('UNLISTEN numina_events');
      conn.off('notification', onNotification);
      await db.client.releaseConnection(conn);
    }
  });
});
