import type { FeatureContext } from '../context.js';
import { purgeExpiredIdempotencyKeys } from '../shared/idempotency.js';
import { registerTransactionRoutes } from './transactions.routes.js';
import type { TransactionService } from './transactions.service.js';

export { Transaction, Entry, TransactionVersion, TRANSACTION_TYPES } from './transactions.model.js';
export type { TransactionType } from './transactions.model.js';
export { createTransactionService, lockCategoryExpenses, netChangeByAccount, toTransactionView } from './transactions.service.js';
export type { TransactionService, BalanceChange, LedgerChange, LedgerSeries, LedgerEvent, LedgerListener, LedgerPosting, LedgerSide } from './transactions.service.js';
export type { TransactionInput, TransactionView } from './transactions.schemas.js';
export { transactionBody } from './transactions.schemas.js';
export { checkLedger } from './ledger-check.js';
export { dailyTotalsInserts, rebuildDailyTotals } from './daily-totals.js';
export { categoryHasTransactions } from './ledger-usage.js';
export type { LedgerCheckResult } from './ledger-check.js';
export { neutraliseFormula } from './transactions.export.js';

/**
 * Transactions: the ledger's write path and its reads. The service (`createInTrx`,
 * `uncategoriseInTrx`, `accountHasTransactions`) is built by the composition root and handed to
 * the features that post on a user's behalf or ask about the ledger.
 */
export function registerTransactions(ctx: FeatureContext, deps: { ledger: TransactionService }): void {
  // GDPR erase: the user's whole ledger goes (children before parents). The rows also cascade
  // from users(id); this hook covers an erase that keeps an anonymised user row.
  ctx.hooks.userErased.push(async (trx, userId) => {
    await trx('ledger_daily_accounts').where({ user_id: userId }).del();
    await trx('ledger_daily_categories').where({ user_id: userId }).del();
    await trx('transactions').where({ user_id: userId }).del();
    await trx('transaction_versions').where({ user_id: userId }).del();
    await trx('idempotency_keys').where({ user_id: userId }).del();
    await trx('accounts').where({ user_id: userId }).del();
    await trx('categories').where({ user_id: userId }).del();
  });
  // Expired Idempotency-Keys are only taken over on reuse; this keeps the table from growing.
  ctx.jobs.schedule('idempotency.purge', '37 * * * *', () => purgeExpiredIdempotencyKeys(ctx.db, ctx.clock));
  registerTransactionRoutes(ctx, deps.ledger);
}
