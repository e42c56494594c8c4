import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRealtime, type Realtime } from '../../realtime/index.js';
import { useTestApp } from '../helpers/app.js';
import { eventually } from '../helpers/eventually.js';
import { closeAllSockets, connect, connectError, connectLive, publish, type RecordingSocket } from '../helpers/sockets.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';

const t = useTestApp();
afterEach(() => closeAllSockets());

async function login(user: TestUser): Promise<string> {
  const res = await t.api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

const openMany = (n: number, token: string) => Promise.all(Array.from({ length: n }, () => connect(t, token)));

describe('sockets per login and per user (API.md: 20 and 50)', () => {
  it('refuses the 21st socket of one login with connect_error too_many_connections, and admits one again once a socket closes', async () => {
    const user = await registerAndLogin(t);
    const sockets = await openMany(20, user.accessToken);
    expect(await connectError(t, { token: user.accessToken })).toEqual({ message: 'too_many_connections', data: { code: 'too_many_connections' } });
    // Another login of the same user still has room.
    const other = await connect(t, await login(user));
    expect(other.socket.connected).toBe(true);

    sockets[0].close();
    const again = await eventually('a place to free up', () => connect(t, user.accessToken).catch(() => undefined));
    expect(again.socket.connected).toBe(true);
  });

  it('refuses the 51st socket of one user across logins', async () => {
    const user = await registerAndLogin(t);
    const tokens = [user.accessToken, await login(user), await login(user)];
    await openMany(20, tokens[0]);
    await openMany(20, tokens[1]);
    await openMany(10, tokens[2]);
    expect((await connectError(t, { token: tokens[2] })).data).toEqual({ code: 'too_many_connections' });
    // Another user is not affected.
    const bob = await registerAndLogin(t);
    expect((await connect(t, bob.accessToken)).socket.connected).toBe(true);
  });

  it('counts handshakes that race each other: 30 at once for a login with 15 sockets admits exactly 5', async () => {
    const user = await registerAndLogin(t);
    await openMany(15, user.accessToken);
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => connect(t, user.accessToken)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).message);
    expect(new Set(refused)).toEqual(new Set(['too_many_connections']));
  });
});

describe('handshakes per client address (API.md: 60 per minute, shared by all instances)', () => {
  const servers: { realtime: Realtime; server: http.Server }[] = [];
  afterAll(async () => {
    for (const s of servers) {
      await s.realtime.close();
      await new Promise((r) => s.server.close(r));
    }
  });

  /** Another realtime instance on this app's database, with the contract's limit and all clients seen at `address`. */
  async function instance(address: string): Promise<string> {
    const server = http.createServer();
    const realtime = await createRealtime(server, { ...t.app.realtime!, clientAddress: () => address, handshakesPerMinute: 60 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push({ realtime, server });
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('refuses the 61st handshake from one address with connect_error rate_limited, counted across two instances', async () => {
    const address = `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID()}`;
    const [one, two] = [await instance(address), await instance(address)];
    const user = await registerAndLogin(t);
    // Every handshake counts, admitted or not: 59 without a token, then one valid, split over both instances.
    for (let i = 0; i < 59; i++) expect((await connectError(i % 2 ? one : two)).message).toBe('unauthorized');
    const admitted = await connect(two, user.accessToken);
    expect(admitted.socket.connected).toBe(true);
    expect(await connectError(one, { token: user.accessToken })).toEqual({ message: 'rate_limited', data: { code: 'rate_limited' } });
    expect((await connectError(two, { token: user.accessToken })).message).toBe('rate_limited');
    // Another address is not affected.
    const elsewhere = await instance(`203.0.113.7-${randomUUID()}`);
    expect((await connect(elsewhere, user.accessToken)).socket.connected).toBe(true);
  });
});

describe('resume and auth per socket (API.md: 5 per 10 s, one resume in flight)', () => {
  it('answers 5 resumes, and ends the socket at the 6th with session.ended rate_limited', async () => {
    const user = await registerAndLogin(t);
    const socket = await connect(t, user.accessToken);
    for (let i = 0; i < 5; i++) expect(await socket.resume(0)).toEqual({ ok: true, lastSeq: 0, gap: false });
    socket.socket.emit('resume', { sinceSeq: 0 });
    expect(await socket.disconnected).toEqual({ reason: 'io server disconnect', ended: 'rate_limited' });
  });

  it('counts auth and resume together', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken); // 1 resume
    for (let i = 0; i < 4; i++) expect(await socket.socket.emitWithAck('auth', { token: user.accessToken })).toEqual({ ok: true });
    socket.socket.emit('auth', { token: user.accessToken });
    expect((await socket.disconnected).ended).toBe('rate_limited');
  });

  it('ends a socket that sends a second resume while one is in flight', async () => {
    const user = await registerAndLogin(t);
    const socket = await connect(t, user.accessToken);
    socket.socket.emit('resume', { sinceSeq: 0 });
    socket.socket.emit('resume', { sinceSeq: 0 });
    expect((await socket.disconnected).ended).toBe('rate_limited');
  });

  it('ends a socket that floods events the server does not serve', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    for (let i = 0; i < 30; i++) socket.socket.emit('subscribe', { room: 'user:someone-else' });
    expect((await socket.disconnected).ended).toBe('rate_limited');
  });
});

describe('a resume flood', () => {
  it('ends the flooding sockets after a bounded number of answers, while another user is served over HTTP and live', async () => {
    const attacker = await registerAndLogin(t);
    const bob = await registerAndLogin(t);
    const bobLive = await connectLive(t, bob.accessToken);
    const floods: RecordingSocket[] = await openMany(3, attacker.accessToken);
    const answered: unknown[] = [];
    for (const s of floods) for (let i = 0; i < 2000; i++) s.socket.emit('resume', { sinceSeq: i }, (ack: unknown) => answered.push(ack));

    const accounts = await t.api('/accounts', { token: bob.accessToken });
    expect(accounts.status).toBe(200);
    await publish(t, bob.id, 'balance.updated', { accountId: 'acc', balance: '1.00', currency: 'USD' });
    expect((await bobLive.waitForEvents(1)).map((e) => e.seq)).toEqual([1]);

    for (const s of floods) expect(await s.disconnected).toEqual({ reason: 'io server disconnect', ended: 'rate_limited' });
    // One resume in flight per socket: the server answered at most one per socket before ending it.
    expect(answered.length).toBeLessThanOrEqual(3);
    expect(bobLive.socket.connected).toBe(true);
    // The flooder is not locked out: a well-behaved socket connects and resumes.
    expect(await (await connect(t, attacker.accessToken)).resume(0)).toEqual({ ok: true, lastSeq: 0, gap: false });
  });
});
