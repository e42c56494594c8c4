import type { Knex } from 'knex';
import { sqlRows } from '../shared/db.js';

export interface LedgerCheckResult {
  ok: boolean;
  accountsChecked: number;
  transactionsChecked: number;
  /** Accounts whose stored balance is not opening balance + Σ entries. */
  balanceMismatches: { accountId: string; userId: string; currency: string; stored: string; expected: string }[];
  /** Transactions whose entries are not exactly what the header says (income +amount, expense −amount, transfer −amount / +toAmount). */
  entryMismatches: { transactionId: string; accountId: string | null; expected: string | null; actual: string | null }[];
}

/**
 * Proves the ledger's two invariants on one consistent snapshot (REPEATABLE READ, read-only):
 * every stored balance equals its opening balance plus the sum of its entries, and every
 * transaction's entries match its header (so a transfer's legs are the two amounts it names).
 * Used by `npm run ledger:verify` and by the tests. Reports at most `limit` of each kind.
 */
export async function checkLedger(db: Knex, opts: { userId?: string; limit?: number } = {}): Promise<LedgerCheckResult> {
  const limit = opts.limit ?? 100;
  return db.transaction(
    async (trx) => {
      const userFilter = opts.userId ? 'AND a.user_id = ?' : '';
      const userArgs = opts.userId ? [opts.userId] : [];
      const balances = await sqlRows<{ id: string; user_id: string; currency: string; stored: string; expected: string }>(
        trx,
        `SELECT a.id, a.user_id, a.currency, a.balance::text AS stored, (a.opening_balance + coalesce(e.total, 0))::text AS expected
           FROM accounts a
           LEFT JOIN (SELECT account_id, sum(amount) AS total FROM entries GROUP BY account_id) e ON e.account_id = a.id
          WHERE a.balance <> a.opening_balance + coalesce(e.total, 0) ${userFilter}
          LIMIT ?`,
        [...userArgs, limit],
      );
      const tFilter = opts.userId ? 'WHERE user_id = ?' : '';
      const entries = await sqlRows<{ transaction_id: string; account_id: string | null; expected: string | null; actual: string | null }>(
        trx,
        `WITH expected AS (
           SELECT id AS transaction_id, account_id, CASE WHEN type = 'income' THEN amount ELSE -amount END AS amount FROM transactions ${tFilter}
           UNION ALL
           SELECT id, to_account_id, to_amount FROM transactions ${tFilter ? `${tFilter} AND` : 'WHERE'} type = 'transfer'
         ), actual AS (
           SELECT transaction_id, account_id, amount FROM entries ${tFilter}
         )
         SELECT coalesce(x.transaction_id, e.transaction_id) AS transaction_id, coalesce(x.account_id, e.account_id) AS account_id,
                x.amount::text AS expected, e.amount::text AS actual
           FROM expected x FULL JOIN actual e ON e.transaction_id = x.transaction_id AND e.account_id = x.account_id
          WHERE x.amount IS DISTINCT FROM e.amount
          LIMIT ?`,
        [...userArgs, ...userArgs, ...userArgs, limit],
      );
      const counts = await sqlRows<{ accounts: string; transactions: string }>(
        trx,
        `SELECT (SELECT count(*) FROM accounts a WHERE true ${userFilter}) AS accounts, (SELECT count(*) FROM transactions ${tFilter}) AS transactions`,
        [...userArgs, ...userArgs],
      );
      const balanceMismatches = balances.map((r) => ({
        accountId: r.id,
        userId: r.user_id,
        currency: r.currency,
        stored: r.stored,
        expected: r.expected,
      }));
      const entryMismatches = entries.map((r) => ({
        transactionId: r.transaction_id,
        accountId: r.account_id,
        expected: r.expected,
        actual: r.actual,
      }));
      return {
        ok: balanceMismatches.length === 0 && entryMismatches.length === 0,
        accountsChecked: Number(counts[0].accounts),
        transactionsChecked: Number(counts[0].transactions),
        balanceMismatches,
        entryMismatches,
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
