import { loadConfig } from '../shared/config.js';
import { createDb, type Db } from '../shared/db.js';
import { startEmbeddedPostgres, type EmbeddedDb } from '../shared/embedded-postgres.js';
import { checkLedger } from '../transactions/index.js';

/**
 * `npm run ledger:verify`: proves every stored account balance equals its opening balance plus the
 * sum of its entries, and every transaction's entries match its header, on one consistent snapshot.
 * Prints the result as JSON; exits 1 when anything disagrees (2 when it could not check).
 * Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR when unset. `--user <id>` limits it.
 */
const args = process.argv.slice(2);
const userIdx = args.indexOf('--user');
const userId = userIdx >= 0 ? args[userIdx + 1] : undefined;

const config = loadConfig({ ...process.env, PORT: '0' });
let embedded: EmbeddedDb | undefined;
let db: Db | undefined;
let exitCode = 0;
try {
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
    url = embedded.url;
  }
  db = createDb(url, 2);
  const result = await checkLedger(db, { userId });
  console.log(JSON.stringify(result, null, 2));
  if (!result.ok) {
    console.error(`ledger:verify: ${result.balanceMismatches.length} balance and ${result.entryMismatches.length} entry mismatches`);
    exitCode = 1;
  } else {
    console.error(`ledger:verify: ok (${result.accountsChecked} accounts, ${result.transactionsChecked} transactions)`);
  }
} catch (err) {
  console.error(`ledger:verify: could not check: ${(err as Error).message}`);
  exitCode = 2;
} finally {
  await db?.destroy();
  await embedded?.stop();
}
// Explicit: embedded-postgres installs an exit hook that would otherwise end the process with 0.
process.exit(exitCode);
