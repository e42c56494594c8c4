import type { Knex } from 'knex';
import { sqlRows } from '../shared/db.js';

export interface BudgetTotalsCheckResult {
  ok: boolean;
  budgetsChecked: number;
  /** (budget, period, currency) whose running total is not the sum of the period's expenses in the category. */
  mismatches: { budgetId: string; periodStart: string; currency: string; stored: string; expected: string }[];
}

/**
 * Recomputes every budget's totals from the ledger (on the caller's snapshot) and compares them with
 * the running totals: the proof that `onPosted` keeps them exact. Periods are cut exactly as the
 * service cuts them (the 1st of the month; the ISO week's Monday). For `npm run ledger:verify` and tests.
 */
export async function checkBudgetTotals(q: Knex | Knex.Transaction, opts: { userId?: string; limit?: number } = {}): Promise<BudgetTotalsCheckResult> {
  const userFilter = opts.userId ? 'AND b.user_id = ?' : '';
  const args = opts.userId ? [opts.userId] : [];
  const rows = await sqlRows<{ budget_id: string; period_start: string; currency: string; stored: string; expected: string }>(
    q,
    `WITH expected AS (
       SELECT b.id AS budget_id,
              (CASE WHEN b.period = 'monthly' THEN date_trunc('month', t.date) ELSE date_trunc('week', t.date) END)::date AS period_start,
              t.currency, sum(t.amount) AS total
         FROM budgets b JOIN transactions t ON t.user_id = b.user_id AND t.category_id = b.category_id AND t.type = 'expense'
        WHERE true ${userFilter}
        GROUP BY 1, 2, 3
     ), stored AS (
       SELECT bt.budget_id, bt.period_start, bt.currency, bt.total FROM budget_totals bt JOIN budgets b ON b.id = bt.budget_id
        WHERE bt.total <> 0 ${userFilter}
     )
     SELECT coalesce(s.budget_id, e.budget_id) AS budget_id, to_char(coalesce(s.period_start, e.period_start), 'YYYY-MM-DD') AS period_start,
            coalesce(s.currency, e.currency) AS currency, coalesce(s.total, 0)::text AS stored, coalesce(e.total, 0)::text AS expected
       FROM stored s FULL JOIN expected e ON e.budget_id = s.budget_id AND e.period_start = s.period_start AND e.currency = s.currency
      WHERE coalesce(s.total, 0) <> coalesce(e.total, 0)
      LIMIT ?`,
    [...args, ...args, opts.limit ?? 100],
  );
  const count = await sqlRows<{ n: string }>(q, `SELECT count(*) AS n FROM budgets b WHERE true ${userFilter}`, args);
  const mismatches = rows.map((r) => ({
    budgetId: r.budget_id,
    periodStart: r.period_start,
    currency: r.currency,
    stored: r.stored,
    expected: r.expected,
  }));
  return { ok: mismatches.length === 0, budgetsChecked: Number(count[0].n), mismatches };
}
