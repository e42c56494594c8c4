import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDatabaseUrl, useTestApp, type TestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { eventually } from '../helpers/eventually.js';
import { closeAllSockets, connect, connectLive, publish, publishIn } from '../helpers/sockets.js';
import { freePort } from '../helpers/net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const a = useTestApp({}, { beforeStop: () => stopSecondInstance() });
let b: { url: string; child: ChildProcess; output: string[] };

/** Starts instance B as its own process (`node --import tsx server/main.ts`) on the same database and secrets as A. */
async function startSecondInstance(t: TestApp): Promise<typeof b> {
  const port = await freePort();
  const output: string[] = [];
  // One node process (as `npm start` runs it), so SIGTERM reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: testDatabaseUrl(),
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: t.config.jwtSecret,
      ENCRYPTION_KEY: t.config.encryptionKey.toString('hex'),
      LOG_LEVEL: 'info',
      RATE_LIMIT_IP_PER_MINUTE: '100000',
      RATE_LIMIT_USER_PER_MINUTE: '100000',
      RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    'instance B to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`instance B exited with ${child.exitCode}:\n${output.join('')}`);
      return (await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)) || undefined;
    },
    25_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}:\n${output.join('')}`);
  });
  return { url, child, output };
}

async function stopSecondInstance(): Promise<void> {
  const child = b?.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  b = await startSecondInstance(a);
}, 40_000);
afterEach(() => closeAllSockets());

const balance = (n: number) => ({ accountId: 'acc', balance: `${n}.00`, currency: 'USD' });

describe('two server processes on one database', () => {
  it('delivers a change committed through instance A to a socket held by instance B', async () => {
    const user = await registerAndLogin(a);
    const onB = await connectLive(b.url, user.accessToken);
    await publish(a, user.id, 'balance.updated', balance(42));
    const [event] = await onB.waitForEvents(1);
    expect(event).toEqual({ seq: 1, type: 'balance.updated', at: expect.any(String), data: balance(42) });
  });

  it('delivers to sockets on both instances, each only its own user\'s events, in order', async () => {
    const alice = await registerAndLogin(a);
    const bob = await registerAndLogin(a);
    const aliceOnA = await connectLive(a, alice.accessToken);
    const aliceOnB = await connectLive(b.url, alice.accessToken);
    const bobOnB = await connectLive(b.url, bob.accessToken);
    for (let n = 1; n <= 5; n++) {
      await publish(a, alice.id, 'balance.updated', balance(n));
      await publish(a, bob.id, 'balance.updated', balance(100 + n));
    }
    expect((await aliceOnA.waitForEvents(5)).map((e) => e.data.balance)).toEqual(['1.00', '2.00', '3.00', '4.00', '5.00']);
    expect((await aliceOnB.waitForEvents(5)).map((e) => e.data.balance)).toEqual(['1.00', '2.00', '3.00', '4.00', '5.00']);
    expect((await bobOnB.waitForEvents(5)).map((e) => e.data.balance)).toEqual(['101.00', '102.00', '103.00', '104.00', '105.00']);
  });

  it('sends nothing to instance B for a change rolled back on instance A', async () => {
    const user = await registerAndLogin(a);
    const onB = await connectLive(b.url, user.accessToken);
    await expect(
      a.db.transaction(async (trx) => {
        await publishIn(a, trx, user.id, 'balance.updated', { ...balance(666), rolledBack: true });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await publish(a, user.id, 'balance.updated', balance(1));
    expect(await onB.waitForEvents(1)).toEqual([expect.objectContaining({ seq: 1, data: balance(1) })]);
  });

  it('resumes on instance B after a disconnect from instance A, in order and without duplicates', async () => {
    const user = await registerAndLogin(a);
    const onA = await connectLive(a, user.accessToken);
    await publish(a, user.id, 'balance.updated', balance(1));
    await onA.waitForEvents(1);
    onA.close();
    for (let n = 2; n <= 6; n++) await publish(a, user.id, 'balance.updated', balance(n));
    const onB = await connect(b.url, user.accessToken);
    expect(await onB.resume(1)).toMatchObject({ ok: true, gap: false });
    await publish(a, user.id, 'balance.updated', balance(7));
    expect((await onB.waitForEvents(6)).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('disconnects a socket on instance B when its login logs out through instance A', async () => {
    const user = await registerAndLogin(a);
    const onB = await connectLive(b.url, user.accessToken);
    const res = await a.api('/auth/logout', { method: 'POST', token: user.accessToken, json: { refreshToken: user.refreshToken } });
    expect(res.status).toBe(204);
    expect(await onB.disconnected).toEqual({ reason: 'io server disconnect', ended: 'session_revoked' });
  });
});
