import WebSocket from 'ws';
import { SocketIoClient, socketIoUrl, type SocketIoInput } from '../../load-tests/socketio.js';
import { useTestApp, useUsers } from '../helpers/app.js';

/**
 * The framing helper the k6 scripts and the Node runner use instead of socket.io-client, spoken by
 * a plain `ws` WebSocket against the real server: handshake, auth refusal, events, acks, ping/pong.
 */
const t = useTestApp();
const [alice] = useUsers(t, 1);
const open: WebSocket[] = [];
afterAll(() => open.forEach((w) => w.close()));

/** A raw connection whose decoded inputs queue up; replies (pong, CONNECT) are sent as the helper says. */
function rawSocket(auth: Record<string, unknown>) {
  const client = new SocketIoClient(auth);
  const ws = new WebSocket(socketIoUrl(t.url));
  open.push(ws);
  const inputs: SocketIoInput[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const r = client.receive(data.toString());
    if (r.reply) ws.send(r.reply);
    inputs.push(r.input);
    waiters.splice(0).forEach((w) => w());
  });
  ws.on('close', () => {
    inputs.push({ kind: 'close' });
    waiters.splice(0).forEach((w) => w());
  });
  /** The next input matching `pred` (inputs before it are dropped). */
  const next = async <K extends SocketIoInput['kind']>(kind: K, pred: (i: Extract<SocketIoInput, { kind: K }>) => boolean = () => true): Promise<Extract<SocketIoInput, { kind: K }>> => {
    for (;;) {
      const i = inputs.findIndex((x) => x.kind === kind && pred(x as Extract<SocketIoInput, { kind: K }>));
      if (i >= 0) return inputs.splice(0, i + 1)[i] as Extract<SocketIoInput, { kind: K }>;
      if (inputs.some((x) => x.kind === 'close') && kind !== 'close') throw new Error(`closed before ${kind}: ${JSON.stringify(inputs)}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { client, ws, next };
}

async function createExpense(token: string): Promise<string> {
  const acc = await t.api('/accounts', { method: 'POST', token, json: { name: `Framing ${Date.now()}`, type: 'bank', currency: 'USD', openingBalance: '10.00' } });
  const accountId = ((await acc.json()) as { id: string }).id;
  const tx = await t.api('/transactions', { method: 'POST', token, json: { accountId, type: 'expense', amount: '1.25', date: '2026-11-20' } });
  expect(tx.status).toBe(201);
  return ((await tx.json()) as { id: string }).id;
}

describe('Socket.IO framing over a bare WebSocket', () => {
  it('is refused with "unauthorized" for a forged token', async () => {
    const s = rawSocket({ token: 'not-a-token' });
    expect((await s.next('open')).pingInterval).toBeGreaterThan(0);
    expect(await s.next('refused')).toEqual({ kind: 'refused', message: 'unauthorized' });
  });

  it('connects with the auth packet, receives the user’s own event, and gets the ack of an emit', async () => {
    const s = rawSocket({ token: alice.accessToken, sinceSeq: 0 });
    await s.next('connected');
    const id = await createExpense(alice.accessToken);
    const event = await s.next('event', (e) => e.name === 'transaction.created');
    expect((event.data[0] as { data: { transaction: { id: string; amount: string } } }).data.transaction).toMatchObject({ id, amount: '1.25' });
    const { frame, ackId } = s.client.emit('resume', { sinceSeq: 0 }, true);
    s.ws.send(frame);
    const ack = await s.next('ack', (a) => a.id === ackId);
    expect(ack.data[0]).toMatchObject({ ok: true, gap: false });
  });

  it('answers the server’s ping with a pong and stays connected past it', async () => {
    const s = rawSocket({ token: alice.accessToken });
    await s.next('connected');
    // The server pings every pingInterval (25 s) and closes a socket that has not answered within
    // pingTimeout (20 s): a second ping comes only if the helper's pong answered the first.
    await s.next('ping');
    await s.next('ping');
    const id = await createExpense(alice.accessToken);
    const event = await s.next('event', (e) => e.name === 'transaction.created' && (e.data[0] as { data: { transaction: { id: string } } }).data.transaction.id === id);
    expect(event.name).toBe('transaction.created');
    for (const f of s.client.disconnectFrames()) s.ws.send(f);
    s.ws.close();
    await s.next('close');
  }, 90_000);
});
