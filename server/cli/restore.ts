import { parseArgs } from 'node:util';
import { OperatorError, restoreBackup } from '../backup/index.js';
import { loadConfig } from '../shared/config.js';
import { startEmbeddedPostgres, type EmbeddedDb } from '../shared/embedded-postgres.js';

/**
 * `npm run restore -- --in <file> [--target <url>] [--force]`: restores a `npm run backup` archive
 * into a temporary database, verifies every table's row count and checksum against the manifest,
 * then swaps it in as the target (DATABASE_URL, or the embedded database, when --target is absent).
 * Exit 0 restored, 1 a table differs (each named; target untouched), 2 operator error (bad or
 * foreign file, non-empty target without --force, client too old; target untouched).
 */
let exitCode = 0;
let embedded: EmbeddedDb | undefined;
try {
  let values;
  try {
    ({ values } = parseArgs({ options: { in: { type: 'string' }, target: { type: 'string' }, force: { type: 'boolean', default: false } }, strict: true }));
  } catch (err) {
    throw new OperatorError((err as Error).message);
  }
  if (!values.in) throw new OperatorError('usage: npm run restore -- --in <file> [--target <postgres url>] [--force]');
  let target = values.target;
  if (!target) {
    const config = loadConfig({ ...process.env, PORT: '0' });
    target = config.databaseUrl;
    if (!target) {
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
      target = embedded.url;
    }
  }
  const result = await restoreBackup({ inFile: values.in, targetUrl: target, force: values.force });
  if (result.ok) {
    console.error(`restore: ${values.in} restored and verified (${result.tables} tables, ${result.rows} rows)`);
  } else {
    for (const d of result.differing) {
      console.error(`restore: table ${d.table} differs: backup ${d.expected ? `${d.expected.rows} rows ${d.expected.checksum}` : 'absent'}, restored ${d.actual ? `${d.actual.rows} rows ${d.actual.checksum}` : 'absent'}`);
    }
    console.error(`restore: ${result.differing.length} table(s) differ; the target was left untouched`);
    exitCode = 1;
  }
} catch (err) {
  console.error(`restore: ${(err as Error).message}`);
  exitCode = err instanceof OperatorError ? 2 : 1;
} finally {
  await embedded?.stop();
}
process.exit(exitCode);
