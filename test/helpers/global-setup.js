// Plain ESM so jest imports it natively; the TypeScript it needs is loaded through tsx.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { tsImport } from 'tsx/esm/api';

/**
 * Creates this run's database (`numina_test_<random>`) on DATABASE_URL's server, or on an embedded
 * PostgreSQL when DATABASE_URL is unset, and migrates it once. Teardown drops it.
 */
export default async function globalSetup() {
  const { createDb, migrateLatest } = await tsImport('../../server/shared/db.ts', import.meta.url);
  const { startEmbeddedPostgres } = await tsImport('../../server/shared/embedded-postgres.ts', import.meta.url);
  let adminUrl = process.env.DATABASE_URL;
  let stopEmbedded;
  if (!adminUrl) {
    const embedded = await startEmbeddedPostgres({ dataDir: '.data/test', port: Number(process.env.TEST_EMBEDDED_PG_PORT ?? 54339) });
    adminUrl = embedded.adminUrl;
    stopEmbedded = embedded.stop;
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
  globalThis.__numinaTestDb = { adminUrl, name, stopEmbedded };
}
