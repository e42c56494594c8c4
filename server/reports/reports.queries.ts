import type { Knex } from 'knex';
import { sqlRows } from '../shared/db.js';
import { currencyDigits } from '../shared/money.js';

/**
 * The reports' read model: the only file of this feature that reads the ledger's tables (the
 * daily totals, `accounts`, `categories`, owned by the ledger features).
 *
 * Why SQL here instead of the owners' exported functions: a report aggregates up to 10 years of a
 * user's ledger (100,000+ transactions) into a few dozen numbers. Done through per-row service calls
 * it would move every row into Node and take seconds; done here it is one read-only statement per
 * report, summed exactly in NUMERIC by PostgreSQL, within the 50 ms budget. Nothing here writes.
 * What this file relies on (kept true by the ledger, see server/transactions/daily-totals.ts):
 * - `ledger_daily_accounts` holds, per account and day, the sum of its entries (income +amount,
 *   expense −amount, transfer −amount / +to_amount) — net worth reads ~9,000 such rows where it
 *   read 120,000 transaction legs;
 * - `ledger_daily_categories` holds, per type (income / expense), category, currency and day, the
 *   sum of the header amounts — the monthly and category reports read it. Both are written in the
 *   ledger's own write transaction and checked against the transactions by ledger:verify;
 * - a transaction's `currency` is its account's, so conversion stays per (currency, day) as before:
 *   the same sums, converted at the same day's rate, give the same exact NUMERIC results;
 * - `date` is a calendar date in the user's time zone; `accounts.created_at` is an instant, which
 *   the service turns into the user's local day with luxon (not PostgreSQL's time zone names).
 *
 * Every statement is scoped by `user_id = ?` (ownership in the query). Conversion joins the rates
 * service's series (`RateSeries.sql()`): a day without a rate yields NULL, the amount drops out of
 * SUM(), and the statement returns it as a `missing` row instead.
 */

/** One row of a report statement: a data row, or a currency whose rate was missing from `date` on. */
export type ReportRow =
  | { kind: 'row'; key: string; a: string | null; b: string | null; c: string | null }
  | { kind: 'missing'; key: string; a: string; b: null; c: null };

/**
 * `a`, `b` rounded half-even to the digits of the report currency `target` (the API's rounding, see
 * the round_half_even migration) as `a`, `b`, and `c` = rounded a − rounded b: what the reader sees
 * adds up. Done in SQL so a long series is not re-parsed and rounded row by row in Node.
 */
function rounded(a: string, b: string, target: string): string {
  const digits = currencyDigits(target); // a small integer from the currency table, never input
  return `CROSS JOIN LATERAL (SELECT round_half_even(${a}, ${digits}) AS a, round_half_even(${b}, ${digits}) AS b) x`;
}

type Q = Knex | Knex.Transaction;

export interface AccountFacts {
  id: string;
  currency: string;
  createdAt: Date;
}

/** The user's accounts: their currencies (hence the transactions') and creation instants. */
export async function accountFacts(q: Q, userId: string): Promise<AccountFacts[]> {
  const rows = await q('accounts').where({ user_id: userId }).select('id', 'currency', 'created_at');
  return rows.map((r: { id: string; currency: string; created_at: Date }) => ({ id: r.id, currency: r.currency, createdAt: new Date(r.created_at) }));
}

export interface Statement {
  sql: string;
  bindings: readonly unknown[];
}

/** Builds the statement once (the rates fragment inlined), so the service and the bench run exactly the same SQL. */
function statement(q: Q, sql: string, bindings: unknown[]): Statement {
  const built = q.raw(sql, bindings as Knex.RawBinding[]).toSQL();
  return { sql: built.sql, bindings: built.bindings };
}

export function run(q: Q, s: Statement): Promise<ReportRow[]> {
  return sqlRows<ReportRow>(q, s.sql, s.bindings as Knex.RawBinding[]);
}

/**
 * Income and expense per month, converted at each day's rate. Transfers are neither.
 * Rows: `row` (key = YYYY-MM, a = income, b = expense, c = net, rounded; every month of the range, zeros included),
 * `missing` (key = currency, a = first date without a rate).
 */
export function monthlyStatement(q: Q, p: { userId: string; target: string; first: string; last: string; lastDay: string; rates: Knex.Raw }): Statement {
  return statement(
    q,
    `WITH r AS (?),
     t AS (
       SELECT currency, date, type, sum(amount) AS amount
         FROM ledger_daily_categories
        WHERE user_id = ? AND type IN ('income', 'expense') AND date BETWEEN ?::date AND ?::date
        GROUP BY currency, date, type
     ),
     c AS (
       SELECT t.currency, t.date, t.type, CASE WHEN t.currency = ? THEN t.amount ELSE t.amount * r.num / r.den END AS value
         FROM t LEFT JOIN r ON r.currency = t.currency AND r.date = t.date
     ),
     m AS (
       SELECT date_trunc('month', date::timestamp)::date AS month,
              sum(value) FILTER (WHERE type = 'income') AS income,
              sum(value) FILTER (WHERE type = 'expense') AS expense
         FROM c GROUP BY 1
     )
     SELECT 'row' AS kind, to_char(g.month, 'YYYY-MM') AS key, x.a::text AS a, x.b::text AS b, (x.a - x.b)::text AS c
       FROM generate_series(?::date, ?::date, interval '1 month') AS g(month)
       LEFT JOIN m ON m.month = g.month::date
       ${rounded('coalesce(m.income, 0)', 'coalesce(m.expense, 0)', p.target)}
     UNION ALL
     SELECT 'missing', currency, min(date)::text, NULL, NULL FROM c WHERE value IS NULL GROUP BY currency
     ORDER BY kind DESC, key`,
    [p.rates, p.userId, p.first, p.lastDay, p.target, p.first, p.last],
  );
}

/**
 * Income or expense per category over [from, to] (uncategorised as one row with key NULL).
 * Rows: `row` (key = category id or null, a = name, b = total), `missing` as above.
 */
export function categoriesStatement(q: Q, p: { userId: string; target: string; type: 'income' | 'expense'; from: string; to: string; rates: Knex.Raw }): Statement {
  return statement(
    q,
    `WITH r AS (?),
     t AS (
       SELECT category_id, currency, date, amount
         FROM ledger_daily_categories
        WHERE user_id = ? AND type = ? AND date BETWEEN ?::date AND ?::date
     ),
     c AS (
       SELECT t.category_id, t.currency, t.date, CASE WHEN t.currency = ? THEN t.amount ELSE t.amount * r.num / r.den END AS value
         FROM t LEFT JOIN r ON r.currency = t.currency AND r.date = t.date
     )
     SELECT 'row' AS kind, c.category_id::text AS key, k.name AS a, sum(c.value)::text AS b, NULL AS c
       FROM c LEFT JOIN categories k ON k.id = c.category_id AND k.user_id = ?
      GROUP BY c.category_id, k.name
     HAVING sum(c.value) IS NOT NULL
     UNION ALL
     SELECT 'missing', currency, min(date)::text, NULL, NULL FROM c WHERE value IS NULL GROUP BY currency`,
    [p.rates, p.userId, p.type, p.from, p.to, p.target, p.userId],
  );
}

const UNIT = { day: ['day', '1 day'], week: ['week', '1 week'], month: ['month', '1 month'] } as const;

/**
 * Assets and liabilities at the end of each step of [from, to], in one statement: the points come
 * from generate_series; each account's daily movements are bucketed onto the first point on or
 * after them (movements before `from` onto the first point) and a running SUM() OVER the points
 * gives every balance — the work grows with the user's movements plus accounts × points, never a
 * query per point. An account counts from the earlier of its creation day (in the user's time
 * zone) and its first movement; its opening balance counts from then.
 * Each account's balance is converted at the point's rate and counted as an asset when positive,
 * as a liability when negative. Rows: `row` (key = point date, a = assets, b = liabilities, c = net
 * worth, rounded), `missing`.
 */
export function netWorthStatement(
  q: Q,
  p: { userId: string; target: string; createdOn: { id: string; day: string }[]; from: string; to: string; interval: 'day' | 'week' | 'month'; rates: Knex.Raw },
): Statement {
  const [unit, step] = UNIT[p.interval];
  const stepEnd = `least((date_trunc('${unit}', (%)::timestamp)::date + interval '${step}' - interval '1 day')::date, ?::date)`;
  return statement(
    q,
    `WITH r AS (?),
     pts AS (
       SELECT DISTINCT ${stepEnd.replace('%', 'd')} AS date
         FROM generate_series(?::date, ?::date, interval '1 day') AS d
     ),
     acc AS (
       SELECT a.id, a.currency, a.opening_balance, c.created_on
         FROM accounts a JOIN unnest(?::uuid[], ?::date[]) AS c(id, created_on) ON c.id = a.id
        WHERE a.user_id = ?
     ),
     mv AS (
       SELECT account_id, date, amount FROM ledger_daily_accounts WHERE user_id = ? AND date <= ?::date
     ),
     b AS (
       SELECT account_id, greatest(${stepEnd.replace('%', 'date')}, ${stepEnd.replace('%', '?::date')}) AS date,
              sum(amount) AS amount, min(date) AS first_move
         FROM mv GROUP BY 1, 2
     ),
     grid AS (
       SELECT a.id, a.currency, p.date,
              CASE WHEN least(a.created_on, f.first_move) <= p.date THEN a.opening_balance ELSE 0 END
                + sum(coalesce(b.amount, 0)) OVER (PARTITION BY a.id ORDER BY p.date) AS balance
         FROM acc a
         LEFT JOIN (SELECT account_id, min(first_move) AS first_move FROM b GROUP BY account_id) f ON f.account_id = a.id
         CROSS JOIN pts p
         LEFT JOIN b ON b.account_id = a.id AND b.date = p.date
     ),
     c AS (
       SELECT g.date, g.currency, g.balance, CASE WHEN g.currency = ? THEN g.balance ELSE g.balance * r.num / r.den END AS value
         FROM grid g LEFT JOIN r ON r.currency = g.currency AND r.date = g.date
     )
     SELECT 'row' AS kind, s.date::text AS key, x.a::text AS a, x.b::text AS b, (x.a - x.b)::text AS c
       FROM (SELECT date, coalesce(sum(value) FILTER (WHERE value > 0), 0) AS assets, coalesce(-sum(value) FILTER (WHERE value < 0), 0) AS liabilities
               FROM c GROUP BY date) s
       ${rounded('s.assets', 's.liabilities', p.target)}
     UNION ALL
     SELECT 'missing', currency, min(date)::text, NULL, NULL FROM c WHERE value IS NULL AND balance <> 0 GROUP BY currency
     ORDER BY kind DESC, key`,
    [p.rates, p.to, p.from, p.to, p.createdOn.map((c) => c.id), p.createdOn.map((c) => c.day), p.userId, p.userId, p.to, p.to, p.from, p.to, p.target],
  );
}
