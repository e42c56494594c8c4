import http from 'node:http';
import { createRealtime } from '../../realtime/index.js';
import { useTestApp } from '../helpers/app.js';
import { closeAllSockets, connect, connectLive, publish, publishWithoutSignal } from '../helpers/sockets.js';
import { registerAndLogin } from '../helpers/users.js';

const t = useTestApp();
afterEach(() => closeAllSockets());

const balance = (n: number) => ({ accountId: 'acc', balance: `${n}.00`, currency: 'USD' });

describe('a lost signal delays an event, never loses it', () => {
  it('delivers an event whose signal was never sent, through the per-user catch-up', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    await publishWithoutSignal(t, user.id, 'balance.updated', balance(1));
    expect((await socket.waitForEvents(1)).map((e) => [e.seq, e.data.balance])).toEqual([[1, '1.00']]);
  });

  it('keeps seq order when signalled and unsignalled events interleave, with no duplicate', async () => {
    const user = await registerAndLogin(t);
    const tab1 = await connectLive(t, user.accessToken);
    const tab2 = await connect(t, user.accessToken, { sinceSeq: 0 });
    await publishWithoutSignal(t, user.id, 'balance.updated', balance(1));
    await publish(t, user.id, 'balance.updated', balance(2));
    await publishWithoutSignal(t, user.id, 'balance.updated', balance(3));
    await publishWithoutSignal(t, user.id, 'balance.updated', balance(4));
    for (const s of [tab1, tab2]) expect((await s.waitForEvents(4)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    // A barrier: nothing else (no duplicate from the catch-up) arrived before the next event.
    await publish(t, user.id, 'balance.updated', balance(5));
    for (const s of [tab1, tab2]) expect((await s.waitForEvents(5)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('ends the sockets of a login whose revocation signal was lost, at the next session check', async () => {
    const server = http.createServer();
    const realtime = await createRealtime(server, t.app.realtime!, { sessionCheckIntervalMs: 200 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const user = await registerAndLogin(t);
      const socket = await connectLive(`http://127.0.0.1:${(server.address() as { port: number }).port}`, user.accessToken);
      // The login is deleted without any signal (as if the revoking instance crashed right after its commit).
      const sid = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString()).sid as string;
      expect(await t.db('auth_sessions').where({ id: sid }).delete()).toBe(1);
      expect(await socket.disconnected).toEqual({ reason: 'io server disconnect', ended: 'session_revoked' });
    } finally {
      await realtime.close();
      await new Promise((r) => server.close(r));
    }
  });
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe.each([
  ['PostgreSQL NOTIFY', {}],
  ['Redis pub/sub (REDIS_URL set)', { REDIS_URL }],
])('signals over %s', (_transport, env: Record<string, string>) => {
  const a = useTestApp(env);

  it('reach a second instance that has no catch-up: it delivers a change committed on the first, and ends a login revoked there', async () => {
    const server = http.createServer();
    // Its own hooks (the first instance's in-process hook must not end its sockets) and no timers
    // that would find the change or the revocation without the signal.
    const realtime = await createRealtime(
      server,
      { ...a.app.realtime!, hooks: { userCreated: [], userErased: [], sessionsRevoked: [] } },
      { catchUpIntervalMs: 3_600_000, sessionCheckIntervalMs: 3_600_000 },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const user = await registerAndLogin(a);
      const onB = await connectLive(`http://127.0.0.1:${(server.address() as { port: number }).port}`, user.accessToken);
      await publish(a, user.id, 'balance.updated', balance(7));
      expect((await onB.waitForEvents(1)).map((e) => e.data)).toEqual([balance(7)]);
      const res = await a.api('/auth/logout', { method: 'POST', token: user.accessToken, json: { refreshToken: user.refreshToken } });
      expect(res.status).toBe(204);
      expect(await onB.disconnected).toEqual({ reason: 'io server disconnect', ended: 'session_revoked' });
    } finally {
      await realtime.close();
      await new Promise((r) => server.close(r));
    }
  });
});
