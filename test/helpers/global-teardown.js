import pg from 'pg';

/** Drops this run's database and stops what the setup started (embedded server, Redis). */
export default async function globalTeardown() {
  const state = globalThis.__numinaTestDb;
  if (!state) return;
  try {
    const admin = new pg.Client({ connectionString: state.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${state.name} WITH (FORCE)`);
    await admin.end();
  } finally {
    state.redisChild?.kill();
    await state.stopEmbedded?.();
  }
}
