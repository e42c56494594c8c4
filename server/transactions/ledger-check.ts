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
  /**
   * Rows of the daily totals the reports read (`ledger_daily_accounts`: key = account|day, sum of
   * entries / count; `ledger_daily_categories`: key = type|category|currency|day, sum / count) that
   * differ from a recomputation from the transactions — missing, extra or wrong. `expected` and
   * `actual` are `sum/count`, null when the row should not exist or does not.
   */
  dailyTotalMismatches: { table: 'ledger_daily_accounts' | 'ledger_daily_categories'; userId: string; key: string; expected: string | null; actual: string | null }[];
}

/**
 * Proves the ledger's two invariants on one consistent snapshot (REPEATABLE READ, read-only):
 * every stored balance equals its opening balance plus the sum of its entries, and every
 * transaction's entries match its header (so a transfer's legs are the two amounts it names) — and
 * the daily totals the reports read equal the transactions they sum, row for row.
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
      const daily = await sqlRows<{ table: 'ledger_daily_accounts' | 'ledger_daily_categories'; user_id: string; key: string; expected: string | null; actual: string | null }>(
        trx,
        `WITH xa AS (
           SELECT t.user_id, l.account_id, t.date, sum(l.amount) AS amount, count(*)::int AS n
             FROM transactions t
             CROSS JOIN LATERAL (VALUES (t.account_id, CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END), (t.to_account_id, t.to_amount)) AS l(account_id, amount)
            WHERE l.account_id IS NOT NULL ${tFilter ? 'AND t.user_id = ?' : ''}
            GROUP BY t.user_id, l.account_id, t.date
         ), da AS (
           SELECT user_id, account_id, date, amount, entries AS n FROM ledger_daily_accounts ${tFilter}
         ), xc AS (
           SELECT user_id, type, category_id, currency, date, sum(amount) AS amount, count(*)::int AS n
             FROM transactions WHERE type <> 'transfer' ${tFilter ? 'AND user_id = ?' : ''}
            GROUP BY user_id, type, category_id, currency, date
         ), dc AS (
           SELECT user_id, type, category_id, currency, date, amount, transactions AS n FROM ledger_daily_categories ${tFilter}
         )
         (SELECT 'ledger_daily_accounts' AS table, coalesce(x.user_id, d.user_id) AS user_id,
                 concat_ws('|', coalesce(x.account_id, d.account_id), coalesce(x.date, d.date)) AS key,
                 x.amount || '/' || x.n AS expected, d.amount || '/' || d.n AS actual
            FROM xa x FULL JOIN da d ON d.user_id = x.user_id AND d.account_id = x.account_id AND d.date = x.date
           WHERE x.amount IS DISTINCT FROM d.amount OR x.n IS DISTINCT FROM d.n
           LIMIT ?)
         UNION ALL
         (SELECT 'ledger_daily_categories', coalesce(x.user_id, d.user_id),
                 concat_ws('|', coalesce(x.type, d.type), coalesce(coalesce(x.category_id, d.category_id)::text, ''), coalesce(x.currency, d.currency), coalesce(x.date, d.date)),
                 x.amount || '/' || x.n, d.amount || '/' || d.n
            FROM xc x FULL JOIN dc d ON d.user_id = x.user_id AND d.type = x.type AND d.category_id IS NOT DISTINCT FROM x.category_id
                                     AND d.currency = x.currency AND d.date = x.date
           WHERE x.amount IS DISTINCT FROM d.amount OR x.n IS DISTINCT FROM d.n
           LIMIT ?)`,
        [...userArgs, ...userArgs, ...userArgs, ...userArgs, limit, limit],
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
      const dailyTotalMismatches = daily.map((r) => ({ table: r.table, userId: r.user_id, key: r.key, expected: r.expected, actual: r.actual }));
      return {
        ok: balanceMismatches.length === 0 && entryMismatches.length === 0 && dailyTotalMismatches.length === 0,
        accountsChecked: Number(counts[0].accounts),
        transactionsChecked: Number(counts[0].transactions),
        balanceMismatches,
        entryMismatches,
        dailyTotalMismatches,
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
