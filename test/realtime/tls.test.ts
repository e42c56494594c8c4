import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { writeDevCert } from '../../server/shared/dev-cert.js';
import { useTestApp } from '../helpers/app.js';
import { publish, type WireEvent } from '../helpers/sockets.js';

let ca: string;
const sockets: Socket[] = [];
const t = useTestApp(
  async () => {
    const pair = await writeDevCert(mkdtempSync(path.join(tmpdir(), 'numina-rt-tls-')));
    ca = pair.cert;
    return { TLS_CERT_FILE: pair.certFile, TLS_KEY_FILE: pair.keyFile };
  },
  { beforeStop: () => sockets.forEach((s) => s.close()) },
);

/** POST JSON over HTTPS, trusting only the test certificate. */
function post(pathname: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${t.url}${pathname}`, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('realtime over HTTPS', () => {
  it('serves Socket.IO on the same HTTPS server as the API, with auth and delivery', async () => {
    const email = `tls-${randomUUID()}@example.com`;
    const password = `Correct-horse-${randomUUID()}`;
    expect((await post('/auth/register', { email, password, name: 'TLS' })).status).toBe(201);
    const login = await post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    const token = String(login.json.accessToken);
    const userId = (login.json.user as { id: string }).id;

    const socket = ioClient(t.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ca });
    sockets.push(socket);
    const got = new Promise<WireEvent>((resolve) => socket.on('balance.updated', resolve));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.emitWithAck('resume', { sinceSeq: 0 })).toMatchObject({ ok: true });
    await publish(t, userId, 'balance.updated', { accountId: 'a', balance: '5.00', currency: 'EUR' });
    expect(await got).toMatchObject({ seq: 1, type: 'balance.updated', data: { accountId: 'a', balance: '5.00', currency: 'EUR' } });

    const refused = ioClient(t.url, { auth: { token: 'nope' }, transports: ['websocket'], reconnection: false, forceNew: true, ca });
    sockets.push(refused);
    const err = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    expect(err.message).toBe('unauthorized');
  });
});
