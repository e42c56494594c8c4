import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startInstance, type Running } from '../../server/runtime.js';
import { loadConfig } from '../../server/shared/config.js';
import { createDb, migrateLatest } from '../../server/shared/db.js';
import { startEmbeddedPostgres, type EmbeddedDb } from '../../server/shared/embedded-postgres.js';
import { createLogger } from '../../server/shared/logger.js';
import { eventually } from '../helpers/eventually.js';
import { captureLogs } from '../helpers/logs.js';

/**
 * A real PostgreSQL (an embedded one of this test's own, on its own port and data dir) is stopped
 * while the app runs, then started again: requests answer 503 with Retry-After meanwhile (not 500),
 * the outage is logged once, and the app serves again without a restart.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'numina-outage-'));
const pgPort = 56000 + Math.floor(Math.random() * 3000);
let pg: EmbeddedDb;
let app: Running;
const { entries: logs, stream: sink } = captureLogs<{ level: number; msg?: string }>();

const startPg = () => startEmbeddedPostgres({ dataDir, port: pgPort });

beforeAll(async () => {
  pg = await startPg();
  const db = createDb(pg.url, 2);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: pg.url,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    RATE_LIMIT_USER_PER_MINUTE: '100000',
    SHUTDOWN_TIMEOUT_MS: '2000',
  });
  app = await startInstance(config, createLogger('info', sink), { migrate: false });
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function api(p: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Response> {
  const { json, token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(app.url + p, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : undefined });
}

const outageLines = () => logs.filter((l) => String(l.msg ?? '').startsWith('database unavailable'));
const errorLines = () => logs.filter((l) => l.level >= 50);

describe('a database outage while the app runs', () => {
  it('answers 503 with Retry-After (never 500), logs it once, and serves again when PostgreSQL is back', async () => {
    const email = `outage-${randomBytes(4).toString('hex')}@example.com`;
    const password = `Outage-proof-${randomBytes(6).toString('hex')}`;
    expect((await api('/auth/register', { method: 'POST', json: { email, password, name: 'O' } })).status).toBe(201);
    const login = await api('/auth/login', { method: 'POST', json: { email, password } });
    const { accessToken: token } = (await login.json()) as { accessToken: string };
    const account = (await (await api('/accounts', { method: 'POST', token, json: { name: 'Cash', type: 'cash', currency: 'USD' } })).json()) as { id: string };

    await pg.stop();

    const during = [
      await api('/accounts', { token }),
      await api('/transactions', { method: 'POST', token, json: { accountId: account.id, type: 'income', amount: '1.00', date: '2026-01-02' } }),
      await api('/auth/login', { method: 'POST', json: { email, password } }),
      await api('/accounts', { token }),
    ];
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ status: 503, code: 'unavailable' });
    }
    expect((await api('/readyz')).status).toBe(503);
    expect(outageLines()).toHaveLength(1);
    expect(errorLines()).toEqual([]);

    pg = await startPg();
    // The pool reconnects on the next request; bounded poll of readiness.
    await eventually('/readyz to answer 200 again', async () => (await api('/readyz')).status === 200);
    const list = await api('/accounts', { token });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { data: { id: string }[] }).data.map((a) => a.id)).toEqual([account.id]);
    const created = await api('/transactions', { method: 'POST', token, json: { accountId: account.id, type: 'income', amount: '1.00', date: '2026-01-02' } });
    expect(created.status).toBe(201);
    expect(logs.filter((l) => l.msg === 'database available again')).toHaveLength(1);
    expect(outageLines()).toHaveLength(1);
    expect(errorLines()).toEqual([]);
  }, 120_000);
});
