import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { createRealtime, pruneEvents } from '../../realtime/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { eventually } from '../helpers/eventually.js';
import { closeAllSockets, connect, connectLive, publish, publishIn, type WireEvent } from '../helpers/sockets.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(() => {
  closeAllSockets();
  t.clock.set(new Date());
});
afterAll(async () => {
  await t.stop();
});

const balance = (n: number) => ({ accountId: 'acc', balance: `${n}.00`, currency: 'USD' });
const seqs = (events: WireEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('delivery', () => {
  it('sends each user only their own events', async () => {
    const alice = await registerAndLogin(t);
    const bob = await registerAndLogin(t);
    const a = await connectLive(t, alice.accessToken);
    const b = await connectLive(t, bob.accessToken);
    await publish(t, alice.id, 'balance.updated', { ...balance(1), owner: 'alice' });
    await publish(t, bob.id, 'balance.updated', { ...balance(2), owner: 'bob' });
    await publish(t, alice.id, 'transaction.created', { transaction: { id: 't1', owner: 'alice' } });
    await publish(t, bob.id, 'budget.alert', { budgetId: 'b1', owner: 'bob' });

    const aliceEvents = await a.waitForEvents(2);
    const bobEvents = await b.waitForEvents(2);
    expect(aliceEvents.map((e) => [e.seq, e.type, e.data.owner ?? (e.data.transaction as { owner: string }).owner])).toEqual([
      [1, 'balance.updated', 'alice'],
      [2, 'transaction.created', 'alice'],
    ]);
    expect(bobEvents.map((e) => [e.seq, e.type, e.data.owner])).toEqual([
      [1, 'balance.updated', 'bob'],
      [2, 'budget.alert', 'bob'],
    ]);
    // A barrier event for each: nothing else arrived before it.
    await publish(t, alice.id, 'goal.progress', { owner: 'alice' });
    await publish(t, bob.id, 'goal.progress', { owner: 'bob' });
    expect((await a.waitForEvents(3)).every((e) => JSON.stringify(e.data).includes('alice'))).toBe(true);
    expect((await b.waitForEvents(3)).every((e) => JSON.stringify(e.data).includes('bob'))).toBe(true);
  });

  it('never sends an event whose transaction rolled back', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    await expect(
      t.db.transaction(async (trx) => {
        await publishIn(t, trx, user.id, 'balance.updated', { ...balance(666), rolledBack: true });
        await publishIn(t, trx, user.id, 'transaction.created', { transaction: { id: 'ghost' }, rolledBack: true });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await publish(t, user.id, 'balance.updated', balance(1));

    const events = await socket.waitForEvents(1);
    expect(events).toEqual([expect.objectContaining({ seq: 1, type: 'balance.updated', data: balance(1) })]);
    expect(await t.db('events').where({ user_id: user.id }).count({ n: '*' })).toEqual([{ n: '1' }]);
  });

  it('delivers every socket of the same user, each in seq order', async () => {
    const user = await registerAndLogin(t);
    const tab1 = await connectLive(t, user.accessToken);
    const tab2 = await connectLive(t, user.accessToken);
    await Promise.all(range(1, 20).map((n) => publish(t, user.id, 'balance.updated', balance(n))));
    expect(seqs(await tab1.waitForEvents(20))).toEqual(range(1, 20));
    expect(seqs(await tab2.waitForEvents(20))).toEqual(range(1, 20));
  });
});

describe('resume', () => {
  it('after a disconnect, sends the missed events in order after `resume`, then live ones, without duplicates', async () => {
    const user = await registerAndLogin(t);
    const first = await connectLive(t, user.accessToken);
    for (const n of range(1, 3)) await publish(t, user.id, 'balance.updated', balance(n));
    expect(seqs(await first.waitForEvents(3))).toEqual([1, 2, 3]);
    first.close();

    for (const n of range(4, 8)) await publish(t, user.id, 'balance.updated', balance(n));
    const second = await connect(t, user.accessToken);
    // Writes keep coming while the client reconnects and resumes: the switch to live must be seamless.
    const concurrent = Promise.all(range(9, 15).map((n) => publish(t, user.id, 'balance.updated', balance(n))));
    const ack = await second.resume(3);
    expect(ack).toEqual({ ok: true, lastSeq: expect.any(Number), gap: false });
    await concurrent;
    await publish(t, user.id, 'transaction.deleted', { transaction: { id: 'last' } });

    const events = await second.waitForEvents(13);
    expect(seqs(events)).toEqual(range(4, 16));
    expect(events[12].type).toBe('transaction.deleted');
  });

  it('replays from seq 0 for a client that has nothing yet', async () => {
    const user = await registerAndLogin(t);
    for (const n of range(1, 4)) await publish(t, user.id, 'balance.updated', balance(n));
    const socket = await connectLive(t, user.accessToken, 0);
    expect((await socket.waitForEvents(4)).map((e) => e.data.balance)).toEqual(['1.00', '2.00', '3.00', '4.00']);
  });

  it('accepts the resume point in the handshake too (`auth.sinceSeq`)', async () => {
    const user = await registerAndLogin(t);
    for (const n of range(1, 3)) await publish(t, user.id, 'balance.updated', balance(n));
    const socket = await connect(t, user.accessToken, { sinceSeq: 1 });
    await publish(t, user.id, 'balance.updated', balance(4));
    expect(seqs(await socket.waitForEvents(3))).toEqual([2, 3, 4]);
  });

  it('rejects a malformed resume with validation_failed', async () => {
    const user = await registerAndLogin(t);
    const socket = await connect(t, user.accessToken);
    expect(await socket.socket.emitWithAck('resume', { sinceSeq: -1 })).toMatchObject({ ok: false, code: 'validation_failed' });
    expect(await socket.socket.emitWithAck('resume', { sinceSeq: '3' })).toMatchObject({ ok: false, code: 'validation_failed' });
    expect(await socket.socket.emitWithAck('resume', null)).toMatchObject({ ok: false, code: 'validation_failed' });
  });

  it('tells a client resuming from before the retention window that it missed pruned events', async () => {
    const user = await registerAndLogin(t);
    t.clock.set(new Date(Date.now() - 8 * 24 * 3600_000));
    for (const n of range(1, 3)) await publish(t, user.id, 'balance.updated', balance(n));
    t.clock.set(new Date());
    await publish(t, user.id, 'balance.updated', balance(4));
    await pruneEvents({ db: t.db, clock: t.clock });
    const socket = await connect(t, user.accessToken);
    expect(await socket.resume(1)).toEqual({ ok: true, lastSeq: 4, gap: true });
    expect(seqs(await socket.waitForEvents(1))).toEqual([4]);
  });
});

describe('event retention', () => {
  it('prunes events older than the retention and keeps the last 7 days', async () => {
    const user = await registerAndLogin(t);
    t.clock.set(new Date('2026-01-01T00:00:00Z'));
    await publish(t, user.id, 'balance.updated', balance(1));
    t.clock.set(new Date('2026-01-05T00:00:00Z'));
    await publish(t, user.id, 'balance.updated', balance(2));
    t.clock.set(new Date('2026-01-09T12:00:00Z'));
    await publish(t, user.id, 'balance.updated', balance(3));

    // 2026-01-01 is more than 7 days before 2026-01-09T12:00; 2026-01-05 is not.
    const deleted = await pruneEvents({ db: t.db, clock: t.clock, batchSize: 1 });
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await t.db('events').where({ user_id: user.id }).orderBy('seq').select('seq');
    expect(left.map((r) => Number(r.seq))).toEqual([2, 3]);

    // Seqs keep increasing after a prune.
    expect((await publish(t, user.id, 'balance.updated', balance(4))).seq).toBe(4);
  });

  it('prunes with a configurable retention', async () => {
    const user = await registerAndLogin(t);
    await publish(t, user.id, 'balance.updated', balance(1));
    t.clock.advance(2 * 3600_000);
    await publish(t, user.id, 'balance.updated', balance(2));
    await pruneEvents({ db: t.db, clock: t.clock, retentionMs: 3600_000 });
    const left = await t.db('events').where({ user_id: user.id }).select('seq');
    expect(left.map((r) => Number(r.seq))).toEqual([2]);
  });
});

describe('scheduled prune', () => {
  it('deletes events beyond the retention on its own schedule', async () => {
    const server = http.createServer();
    const realtime = await createRealtime(server, t.app.realtime!, { pruneIntervalMs: 50, retentionMs: 7 * 24 * 3600_000 });
    try {
      const user = await registerAndLogin(t);
      t.clock.set(new Date(Date.now() - 8 * 24 * 3600_000));
      await publish(t, user.id, 'balance.updated', balance(1));
      t.clock.set(new Date(Date.now() - 6 * 24 * 3600_000));
      await publish(t, user.id, 'balance.updated', balance(2));
      t.clock.set(new Date());
      const left = async () => (await t.db('events').where({ user_id: user.id }).orderBy('seq').select('seq')).map((r) => Number(r.seq));
      expect(await eventually('the old event to be pruned', async () => {
        const seqs = await left();
        return !seqs.includes(1) && seqs;
      })).toEqual([2]);
    } finally {
      await realtime.close();
    }
  });
});

/** A WebSocket client frame (masked text), so the slow client below needs nothing but node:http. */
function wsTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([header, mask, masked]);
}

/** A Socket.IO client that connects, resumes, and then stops reading from its TCP connection. */
function slowClient(port: number, token: string): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/socket.io/?EIO=4&transport=websocket',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') },
    });
    req.on('upgrade', (_res, socket: NetSocket, head: Buffer) => {
      let seen = head.toString('latin1');
      const onData = (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (!seen.includes('40{"sid"')) return;
        socket.off('data', onData);
        socket.write(wsTextFrame('42["resume",{"sinceSeq":0}]'));
        socket.pause();
        resolve(socket);
      };
      socket.on('data', onData);
      socket.write(wsTextFrame(`40${JSON.stringify({ token })}`));
    });
    req.on('error', reject);
    req.end();
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await t.api('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('back-pressure', () => {
  it('drops a client that stops reading, while the user\'s other socket and the API keep going', async () => {
    const server = http.createServer();
    const realtime = await createRealtime(server, t.app.realtime!, {
      maxBufferedPackets: 20,
      maxBufferedBytes: 512 * 1024,
      fetchBatchSize: 50,
      slowConsumerTimeoutMs: 1000,
      checkIntervalMs: 100,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    const raw: NetSocket[] = [];
    try {
      const user = await registerAndLogin(t);
      const before = await metric('realtime_server_disconnects_total{reason="slow_consumer"}');
      raw.push(await slowClient(port, user.accessToken));
      const fast = await connectLive(url, user.accessToken);

      const big = 'x'.repeat(100_000);
      const total = 300;
      for (let i = 0; i < total; i += 50) {
        await t.db.transaction(async (trx) => {
          for (let n = i + 1; n <= i + 50; n++) await publishIn(t, trx, user.id, 'balance.updated', { ...balance(n), note: big });
        });
      }
      expect(seqs(await fast.waitForEvents(total))).toEqual(range(1, total));
      expect((await t.api('/healthz')).status).toBe(200);
      await eventually('the slow client to be dropped', async () => (await metric('realtime_server_disconnects_total{reason="slow_consumer"}')) > before);
      expect(realtime.socketCount()).toBe(1);
      expect(fast.socket.connected).toBe(true);
    } finally {
      for (const s of raw) s.destroy();
      closeAllSockets();
      await realtime.close();
      await new Promise((r) => server.close(r));
    }
    // 30 MB through two sockets: a generous bound (not a speed check), so a loaded machine (the
    // whole suite under other work) cannot time it out; a real stall still fails.
  }, 180_000);
});

describe('metrics', () => {
  it('exposes connected sockets, delivered events and the delivery lag on /metrics', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    await publish(t, user.id, 'balance.updated', balance(1));
    await socket.waitForEvents(1);
    const text = await (await t.api('/metrics')).text();
    expect(text).toMatch(/^realtime_connected_sockets [1-9]\d*$/m);
    expect(text).toMatch(/^realtime_events_delivered_total\{type="balance\.updated"\} [1-9]\d*$/m);
    expect(text).toMatch(/^realtime_delivery_lag_seconds_count [1-9]\d*$/m);
    expect(text).toContain('realtime_delivery_lag_seconds_bucket{le="0.05"}');
  });
});

describe('losing the LISTEN connection', () => {
  it('reconnects and delivers the events committed while it was down', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    const killed = await t.db.raw(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'numina-realtime'`,
    );
    expect(killed.rows.length).toBeGreaterThanOrEqual(1);
    // Committed while no instance listens: its notification is lost, the re-read after reconnect finds it.
    await publish(t, user.id, 'balance.updated', balance(1));
    expect(seqs(await socket.waitForEvents(1))).toEqual([1]);
    await publish(t, user.id, 'balance.updated', balance(2));
    expect(seqs(await socket.waitForEvents(2))).toEqual([1, 2]);
  });
});
