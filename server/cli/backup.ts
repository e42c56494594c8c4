import { parseArgs } from 'node:util';
import { createBackup, OperatorError } from '../backup/index.js';
import { loadConfig } from '../shared/config.js';
import { startEmbeddedPostgres, type EmbeddedDb } from '../shared/embedded-postgres.js';

/**
 * `npm run backup -- --out <file>`: one consistent pg_dump (custom format) of DATABASE_URL (or the
 * embedded database under DATA_DIR) in a tar archive with manifest.json (schema version, per-table
 * row counts and checksums, created-at, server version). Exit 0 written, 2 operator error, 1 failure.
 */
let exitCode = 0;
let embedded: EmbeddedDb | undefined;
try {
  let values;
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' } }, strict: true }));
  } catch (err) {
    throw new OperatorError((err as Error).message);
  }
  if (!values.out) throw new OperatorError('usage: npm run backup -- --out <file>');
  const config = loadConfig({ ...process.env, PORT: '0' });
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
    url = embedded.url;
  }
  const { file, manifest } = await createBackup(url, values.out);
  const rows = Object.values(manifest.tables).reduce((n, t) => n + t.rows, 0);
  console.error(`backup: wrote ${file} (${Object.keys(manifest.tables).length} tables, ${rows} rows, schema ${manifest.schemaVersion}, PostgreSQL ${manifest.serverVersion})`);
} catch (err) {
  console.error(`backup: ${(err as Error).message}`);
  exitCode = err instanceof OperatorError ? 2 : 1;
} finally {
  await embedded?.stop();
}
// Explicit: embedded-postgres installs an exit hook that would otherwise end the process with 0.
process.exit(exitCode);
