// Plain ESM so jest imports it natively; the TypeScript it needs is loaded through tsx.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { tsImport } from 'tsx/esm/api';
import { ensureChromium, ensurePostgresUserCanEnter, ensureRedis, PrerequisiteError } from './prerequisites.js';

/**
 * Everything `npm test` needs, so that `npm ci && npm test` is the whole recipe: a browser
 * (CHROMIUM_PATH), a Redis at 127.0.0.1:6379, and this run's database (`numina_test_<random>`) on
 * DATABASE_URL's server, or on an embedded PostgreSQL when DATABASE_URL is unset, migrated once.
 * Teardown drops the database and stops what this setup started.
 */
export default async function globalSetup() {
  let redisChild;
  let stopEmbedded;
  try {
    ensureChromium();
    redisChild = await ensureRedis();
    const { createDb, migrateLatest } = await tsImport('../../server/shared/db.ts', import.meta.url);
    const { startEmbeddedPostgres, EmbeddedPostgresError } = await tsImport('../../server/shared/embedded-postgres.ts', import.meta.url);
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      ensurePostgresUserCanEnter('.data/test');
      try {
        const embedded = await startEmbeddedPostgres({
          dataDir: '.data/test',
          port: Number(process.env.TEST_EMBEDDED_PG_PORT ?? 54339),
          // Test data is disposable: a data dir from another PostgreSQL major is made anew.
          recreateOnVersionMismatch: true,
          log: (m) => m.startsWith('removing ') && process.stderr.write(`[test setup] ${m}\n`),
        });
        adminUrl = embedded.adminUrl;
        stopEmbedded = embedded.stop;
      } catch (err) {
        if (err instanceof EmbeddedPostgresError) throw new PrerequisiteError(err.message);
        throw err;
      }
    }
    const name = `numina_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const db = createDb(url.toString(), 2);
    try {
      await migrateLatest(db);
    } finally {
      await db.destroy();
    }
    process.env.TEST_DATABASE_URL = url.toString();
    globalThis.__numinaTestDb = { adminUrl, name, stopEmbedded, redisChild };
  } catch (err) {
    redisChild?.kill();
    await stopEmbedded?.();
    if (err instanceof PrerequisiteError) {
      // One line a newcomer can act on, not a stack.
      process.stderr.write(`\nnpm test: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
