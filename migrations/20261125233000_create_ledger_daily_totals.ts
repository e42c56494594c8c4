import type { Knex } from 'knex';
import { guard } from './20261125230000_refuse_rows_of_erased_users.js';

/**
 * The ledger's daily totals: a read model for the reports, kept by the ledger's write path in the
 * same database transaction as the transactions it sums (server/transactions/daily-totals.ts), and
 * checked against them by `npm run ledger:verify`. Why: a report over 5 years of a busy user reads
 * ~9,000 (account, day) rows instead of 120,000 transaction legs.
 *
 * - `ledger_daily_accounts`: per account and calendar day (the transactions' `date`, the user's
 *   local day), the sum of the account's entries (income +amount, expense −amount, transfer
 *   −amount / +toAmount) and how many entries that is. Net worth reads it.
 * - `ledger_daily_categories`: per type (income or expense), category (NULL = uncategorised),
 *   currency and day, the sum of the header amounts (positive) and how many transactions. The
 *   monthly and category reports read it; conversion stays per (currency, day).
 * A row exists only while its count is positive (the write path deletes a row that reaches 0), so
 * the tables equal a GROUP BY of the transactions, row for row. No CHECK (count >= 0): the write
 * path upserts signed deltas, and PostgreSQL checks a CHECK on the proposed row (a −1 delta) before
 * it finds the conflict; `checkLedger` is what proves the counts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE ledger_daily_accounts (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      date date NOT NULL,
      amount numeric(24, 4) NOT NULL,
      entries integer NOT NULL,
      CONSTRAINT ledger_daily_accounts_pkey PRIMARY KEY (user_id, account_id, date) INCLUDE (amount)
    )`);
  await knex.raw(`
    CREATE TABLE ledger_daily_categories (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      type text NOT NULL CONSTRAINT ledger_daily_categories_type_check CHECK (type IN ('income', 'expense')),
      category_id uuid,
      currency varchar(3) NOT NULL,
      date date NOT NULL,
      amount numeric(24, 4) NOT NULL,
      transactions integer NOT NULL
    )`);
  // The upsert's conflict target, and the reports' index-only scan (type = ?, date range).
  await knex.raw(`
    CREATE UNIQUE INDEX ledger_daily_categories_key ON ledger_daily_categories (user_id, type, category_id, currency, date)
      INCLUDE (amount) NULLS NOT DISTINCT`);
  // No row for an erased user (the race an erasure otherwise leaves open; see that migration).
  await knex.raw(guard('ledger_daily_accounts'));
  await knex.raw(guard('ledger_daily_categories'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE ledger_daily_categories');
  await knex.raw('DROP TABLE ledger_daily_accounts');
}
