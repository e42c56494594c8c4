import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { emulator } from '../../load-tests/k6-emulator.js';

/**
 * Every k6 script in load-tests/ loads and runs in an emulation of k6's stages (k6 itself is not
 * installable here): the top level as the init context, then iterations of the default function as
 * a VU, against a fake server that answers like the API. A metric made inside VU code, an HTTP call
 * at init, or a request name without a metric fails here as it would fail under `k6 run`.
 */
const scripts = readdirSync('load-tests').filter((f) => f.endsWith('.k6.ts'));

const list = (data: unknown[]) => ({ status: 200, body: { data, nextCursor: null } });

function fakeApi(method: string, url: string): { status: number; body?: unknown } {
  const path = new URL(url).pathname;
  if (method === 'POST' && path === '/auth/register') return { status: 201, body: { user: { id: randomUUID() } } };
  if (method === 'POST' && (path === '/auth/login' || path === '/auth/refresh')) return { status: 200, body: { accessToken: 'token', refreshToken: 'refresh', expiresIn: 900 } };
  if (method === 'POST' && path === '/transactions') {
    // As the server does: the write's event reaches the user's sockets after the commit.
    const id = randomUUID();
    emulator.pushToSockets(`42${JSON.stringify(['transaction.created', { seq: 1, type: 'transaction.created', data: { transaction: { id } } }])}`);
    return { status: 201, body: { id } };
  }
  if (method === 'POST') return { status: 201, body: { id: randomUUID() } };
  if (method === 'DELETE') return { status: 204 };
  if (method === 'GET' && path === '/accounts') return list([{ id: randomUUID(), currency: 'USD' }, { id: randomUUID(), currency: 'USD' }, { id: randomUUID(), currency: 'EUR' }]);
  if (method === 'GET' && ['/categories', '/budgets', '/goals'].includes(path)) return list([{ id: randomUUID() }, { id: randomUUID() }]);
  if (method === 'GET' && /^\/transactions\/[0-9a-f-]{36}$/.test(path)) return { status: 200, body: { id: path.split('/')[2] } };
  return { status: 200, body: { data: [], nextCursor: null } };
}

describe.each(scripts)('k6 script %s', (script) => {
  it('creates its metrics at init and runs VU iterations without k6 errors', async () => {
    const g = globalThis as Record<string, unknown>;
    g.__ENV = { BASE_URL: 'http://127.0.0.1:3000', THINK_MS: '0' };
    g.__VU = 1;
    g.__ITER = 0;
    emulator.respond = fakeApi;
    emulator.setStage('init');
    const mod = (await import(`../../load-tests/${script}`)) as { default: () => void; sockets?: () => void; options?: unknown };
    expect(mod.options).toBeDefined();
    const metricsAtInit = [...emulator.metrics.keys()];

    emulator.setStage('vu');
    for (let i = 0; i < 200; i++) {
      g.__ITER = i;
      mod.default();
    }
    // No metric appeared after init, and each one made at init was fed.
    expect([...emulator.metrics.keys()]).toEqual(metricsAtInit);
    const fed = [...emulator.metrics].filter(([, m]) => m.values.length > 0).map(([name]) => name);
    expect(fed.length).toBeGreaterThan(0);
    const failed = [...emulator.checks].filter(([, c]) => c.fails > 0).map(([name]) => name);
    expect(failed).toEqual([]);

    // The socket scenario: handshake, auth packet, its own writes timed by their events, clean close.
    if (mod.sockets) {
      const sent: string[] = [];
      emulator.socketServer = {
        onOpen: () => ['0{"sid":"e1","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'],
        onFrame: (frame) => {
          sent.push(frame);
          if (frame.startsWith('40')) return ['40{"sid":"s1"}', '2'];
          const ack = /^42(\d+)\["auth"/.exec(frame);
          return ack ? [`43${ack[1]}[{"ok":true}]`] : [];
        },
      };
      const latency = emulator.metrics.get('socket_commit_to_receive')!;
      const before = latency.values.length;
      mod.sockets();
      emulator.runTimers(20 * 60_000);
      expect(sent[0]).toBe('40{"token":"token"}');
      expect(sent).toContain('3'); // the pong
      expect(sent.slice(-2)).toEqual(['41', '1']);
      expect(latency.values.length).toBeGreaterThan(before);
      expect([...emulator.checks].filter(([, c]) => c.fails > 0).map(([name]) => name)).toEqual([]);
    }
  });
});

describe('the k6 emulator', () => {
  it('refuses a metric made in VU code, as k6 does', async () => {
    const { Trend } = await import('../../load-tests/k6-emulator.js');
    emulator.setStage('vu');
    expect(() => new Trend('late_metric')).toThrow(/init context/);
    emulator.setStage('init');
    expect(() => new Trend('early_metric')).not.toThrow();
  });
});
