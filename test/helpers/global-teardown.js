import pg from 'pg';

/** Drops this run's database and stops the embedded server if the setup started one. */
export default async function globalTeardown() {
  const state = globalThis.__numinaTestDb;
  if (!state) return;
  try {
    const admin = new pg.Client({ connectionString: state.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${state.name} WITH (FORCE)`);
    await admin.end();
  } finally {
    await state.stopEmbedded?.();
  }
}
