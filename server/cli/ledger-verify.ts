import { loadConfig } from '../shared/config.js';
import { createDb, type Db } from '../shared/db.js';
import { startEmbeddedPostgres, type EmbeddedDb } from '../shared/embedded-postgres.js';
import { checkBudgetTotals } from '../budgets/index.js';
import { checkLedger } from '../transactions/index.js';

/**
 * `npm run ledger:verify`: proves every stored account balance equals its opening balance plus the
 * sum of its entries, every transaction's entries match its header, and every budget's running
 * totals equal a recomputation from the ledger, on one consistent snapshot.
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
  const ledger = await checkLedger(db, { userId });
  const budgets = await db.transaction((trx) => checkBudgetTotals(trx, { userId }), { isolationLevel: 'repeatable read', readOnly: true });
  const result = { ...ledger, ok: ledger.ok && budgets.ok, budgetsChecked: budgets.budgetsChecked, budgetTotalMismatches: budgets.mismatches };
  console.log(JSON.stringify(result, null, 2));
  if (!result.ok) {
    console.error(
      `ledger:verify: ${result.balanceMismatches.length} balance, ${result.entryMismatches.length} entry and ${budgets.mismatches.length} budget-total mismatches`,
    );
    exitCode = 1;
  } else {
    console.error(`ledger:verify: ok (${result.accountsChecked} accounts, ${result.transactionsChecked} transactions, ${budgets.budgetsChecked} budgets)`);
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
