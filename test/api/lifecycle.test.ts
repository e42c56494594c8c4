import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RouteSet } from '../../server/context.js';
import { createDb, migrateLatest, migrateRollback } from '../../server/shared/db.js';
import { startBareApp } from '../helpers/bare-app.js';
import { testDatabaseUrl } from '../helpers/app.js';

describe('graceful shutdown', () => {
  it('finishes a request in flight, then stops accepting', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const slow: RouteSet = {
      register({ registry }) {
        registry.add({
          method: 'get',
          path: '/slow',
          access: 'public',
          summary: 'waits for the test',
          tags: ['Test'],
          responses: { 200: { description: 'ok' } },
          handler: async () => {
            entered();
            await gate;
            return { finished: true };
          },
        });
      },
    };
    const t = await startBareApp({ routes: [slow] });
    const inflight = fetch(`${t.url}/slow`);
    await inside;
    const stopped = t.stop();
    release();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await stopped;
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });
});

describe('migrations', () => {
  it('run once when two instances start together on an empty database', async () => {
    const base = new URL(testDatabaseUrl());
    const name = `numina_mig_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(base.toString());
    url.pathname = `/${name}`;
    const a = createDb(url.toString(), 2);
    const b = createDb(url.toString(), 2);
    try {
      const [ranA, ranB] = await Promise.all([migrateLatest(a), migrateLatest(b)]);
      // One instance applied everything; the other waited on the lock and found nothing to do.
      expect([ranA.length, ranB.length].sort((x, y) => x - y)[0]).toBe(0);
      const total = ranA.length + ranB.length;
      const rows = await a('knex_migrations').select('name');
      expect(rows.length).toBe(total);
      expect(new Set(rows.map((r) => r.name)).size).toBe(total);
    } finally {
      await a.destroy();
      await b.destroy();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('migration rollback', () => {
  it('undoes every migration back to an empty schema, and they apply again', async () => {
    const base = new URL(testDatabaseUrl());
    const name = `numina_rb_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(base.toString());
    url.pathname = `/${name}`;
    const db = createDb(url.toString(), 2);
    const tables = async () =>
      (await db.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex_%' ORDER BY 1")).rows.map((r: { tablename: string }) => r.tablename);
    try {
      const applied = await migrateLatest(db);
      expect(await tables()).toEqual(expect.arrayContaining(['users', 'audit_logs', 'events', 'accounts', 'transactions']));
      const undone = await migrateRollback(db, true);
      expect(undone.length).toBe(applied.length);
      expect(await tables()).toEqual([]);
      expect((await migrateLatest(db)).length).toBe(applied.length);
    } finally {
      await db.destroy();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('overload', () => {
  it('answers 503 with Retry-After, not 500, when no database connection comes free in time', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const hog: RouteSet = {
      register({ registry, db }) {
        registry.add({
          method: 'post',
          path: '/hog',
          access: 'public',
          noRateLimit: true,
          summary: 'holds the only connection',
          tags: ['Test'],
          responses: { 200: { description: 'ok' } },
          handler: () =>
            db.transaction(async (trx) => {
              await trx.raw('SELECT 1');
              entered();
              await gate;
              return { done: true };
            }),
        });
        registry.add({
          method: 'get',
          path: '/needs-db',
          access: 'public',
          noRateLimit: true,
          summary: 'needs a connection',
          tags: ['Test'],
          responses: { 200: { description: 'ok' } },
          handler: async () => (await db.raw('SELECT 1 AS one')).rows[0],
        });
      },
    };
    const t = await startBareApp({ routes: [hog], env: { DATABASE_POOL_MAX: '1', DATABASE_ACQUIRE_TIMEOUT_MS: '300' } });
    try {
      const held = fetch(`${t.url}/hog`, { method: 'POST' });
      await inside;
      const res = await fetch(`${t.url}/needs-db`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ status: 503, code: 'unavailable' });
      release();
      expect((await held).status).toBe(200);
      expect((await fetch(`${t.url}/needs-db`)).status).toBe(200);
    } finally {
      release();
      await t.stop();
    }
  });
});
