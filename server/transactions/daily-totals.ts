import type { Knex } from 'knex';
import { preparedSql } from '../shared/db.js';
import { Decimal } from '../shared/money.js';
import type { TransactionType } from './transactions.model.js';

/**
 * The ledger's daily totals (tables `ledger_daily_accounts` and `ledger_daily_categories`, see
 * their migration): what the reports read instead of every transaction. They are moved here, by
 * every writer of `transactions`, inside the writer's own database transaction, so a committed
 * ledger and its totals always agree (`checkLedger` proves it).
 *
 * Locks: one multi-row upsert per write, after the writer has locked the accounts (the rows of
 * `ledger_daily_accounts` belong to those accounts) and before the listeners' rows; the keys are
 * sorted, so two writers touching the same category-day rows take them in the same order.
 */

/** What one side (before or after) of a write contributes to the daily totals. */
export interface DailySide {
  type: TransactionType;
  date: string;
  categoryId: string | null;
  /** The header's currency (the source account's). */
  currency: string;
  /** The header amount, positive. */
  amount: Decimal;
  /** Signed entries, one per account leg. */
  postings: readonly { accountId: string; amount: Decimal }[];
}

/** `sign` +1 adds the side (create, after), −1 takes it out (delete, before); `times` repeats it. */
export interface DailyMove {
  side: DailySide;
  sign: 1 | -1;
  times?: number;
}

interface Delta {
  amount: Decimal;
  count: number;
}

function add(map: Map<string, Delta>, key: string, amount: Decimal, count: number): void {
  const d = map.get(key) ?? { amount: new Decimal(0), count: 0 };
  map.set(key, { amount: d.amount.plus(amount), count: d.count + count });
}

const SEP = '|';

/**
 * Applies `moves` to the user's daily totals: one statement upserting every touched (account, day)
 * and (type, category, currency, day) by its net delta, then — only when a row reached zero
 * transactions — one deleting those rows (a row at zero count but a non-zero amount is drift: it
 * stays, for `checkLedger` to report). A move that cancels out (a PUT that changes only the
 * notes) writes nothing.
 */
export async function moveDailyTotals(trx: Knex.Transaction, userId: string, moves: readonly DailyMove[]): Promise<void> {
  const accounts = new Map<string, Delta>();
  const categories = new Map<string, Delta>();
  for (const { side, sign, times = 1 } of moves) {
    const n = sign * times;
    for (const p of side.postings) add(accounts, [p.accountId, side.date].join(SEP), p.amount.times(n), n);
    if (side.type !== 'transfer') add(categories, [side.type, side.categoryId ?? '', side.currency, side.date].join(SEP), side.amount.times(n), n);
  }
  const a = [...accounts].filter(([, d]) => d.count !== 0 || !d.amount.isZero()).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const c = [...categories].filter(([, d]) => d.count !== 0 || !d.amount.isZero()).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  if (a.length === 0 && c.length === 0) return;
  const ak = a.map(([k]) => k.split(SEP));
  const ck = c.map(([k]) => k.split(SEP));
  const emptied = await preparedSql<{ t: 'a' | 'c'; account_id: string | null; type: string | null; category_id: string | null; currency: string | null; date: string }>(
    trx,
    `WITH a AS (
       INSERT INTO ledger_daily_accounts AS d (user_id, account_id, date, amount, entries)
       SELECT ?::uuid, * FROM unnest(?::uuid[], ?::date[], ?::numeric[], ?::int[])
       ON CONFLICT (user_id, account_id, date) DO UPDATE SET amount = d.amount + excluded.amount, entries = d.entries + excluded.entries
       RETURNING account_id, date, entries, amount
     ), c AS (
       INSERT INTO ledger_daily_categories AS d (user_id, type, category_id, currency, date, amount, transactions)
       SELECT ?::uuid, * FROM unnest(?::text[], ?::uuid[], ?::text[], ?::date[], ?::numeric[], ?::int[])
       ON CONFLICT (user_id, type, category_id, currency, date) DO UPDATE SET amount = d.amount + excluded.amount, transactions = d.transactions + excluded.transactions
       RETURNING type, category_id, currency, date, transactions, amount
     )
     SELECT 'a' AS t, account_id, NULL AS type, NULL::uuid AS category_id, NULL AS currency, date::text FROM a WHERE entries = 0 AND amount = 0
     UNION ALL
     SELECT 'c', NULL, type, category_id, currency, date::text FROM c WHERE transactions = 0 AND amount = 0`,
    [
      userId,
      ak.map((k) => k[0]),
      ak.map((k) => k[1]),
      a.map(([, d]) => d.amount.toFixed()),
      a.map(([, d]) => d.count),
      userId,
      ck.map((k) => k[0]),
      ck.map((k) => k[1] || null),
      ck.map((k) => k[2]),
      ck.map((k) => k[3]),
      c.map(([, d]) => d.amount.toFixed()),
      c.map(([, d]) => d.count),
    ],
  );
  if (emptied.length === 0) return;
  const ea = emptied.filter((r) => r.t === 'a');
  const ec = emptied.filter((r) => r.t === 'c');
  await trx.raw(
    `WITH a AS (
       DELETE FROM ledger_daily_accounts d USING unnest(?::uuid[], ?::date[]) AS k(account_id, date)
        WHERE d.user_id = ? AND d.account_id = k.account_id AND d.date = k.date AND d.entries = 0 AND d.amount = 0
     )
     DELETE FROM ledger_daily_categories d USING unnest(?::text[], ?::uuid[], ?::text[], ?::date[]) AS k(type, category_id, currency, date)
      WHERE d.user_id = ? AND d.type = k.type AND d.category_id IS NOT DISTINCT FROM k.category_id AND d.currency = k.currency AND d.date = k.date
        AND d.transactions = 0 AND d.amount = 0`,
    [ea.map((r) => r.account_id), ea.map((r) => r.date), userId, ec.map((r) => r.type), ec.map((r) => r.category_id), ec.map((r) => r.currency), ec.map((r) => r.date), userId],
  );
}

/**
 * The two statements that compute the daily totals from ledger rows in bulk (the grouping
 * `moveDailyTotals` maintains one write at a time, and `checkLedger` compares): `source` is the
 * relation holding the transactions (`transactions`, or a bulk loader's staging view), `where` a
 * condition on it as `t` (with the caller's placeholder style), `'true'` for all of it.
 */
export function dailyTotalsInserts(source: string, where: string): [accounts: string, categories: string] {
  return [
    `INSERT INTO ledger_daily_accounts (user_id, account_id, date, amount, entries)
     SELECT t.user_id, l.account_id, t.date, sum(l.amount), count(*)
       FROM ${source} t
       CROSS JOIN LATERAL (VALUES (t.account_id, CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END), (t.to_account_id, t.to_amount)) AS l(account_id, amount)
      WHERE (${where}) AND l.account_id IS NOT NULL
      GROUP BY t.user_id, l.account_id, t.date`,
    `INSERT INTO ledger_daily_categories (user_id, type, category_id, currency, date, amount, transactions)
     SELECT t.user_id, t.type, t.category_id, t.currency, t.date, sum(t.amount), count(*)
       FROM ${source} t WHERE (${where}) AND t.type <> 'transfer'
      GROUP BY t.user_id, t.type, t.category_id, t.currency, t.date`,
  ];
}

/**
 * Recomputes the user's daily totals from their transactions (deleting what was there), for
 * ledger rows written in bulk outside the write path: test fixtures and bulk loaders.
 */
export async function rebuildDailyTotals(q: Knex | Knex.Transaction, userId: string): Promise<void> {
  await q('ledger_daily_accounts').where({ user_id: userId }).del();
  await q('ledger_daily_categories').where({ user_id: userId }).del();
  for (const sql of dailyTotalsInserts('transactions', 't.user_id = ?')) await q.raw(sql, [userId]);
}
