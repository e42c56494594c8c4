import type { Knex } from 'knex';

/**
 * The reports no longer scan `transactions` (they read the ledger's daily totals), so the covering
 * index made for them (…_add_transactions_report_index) only cost every ledger write an index entry
 * with eight columns. `down` recreates it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX transactions_user_date_report');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX transactions_user_date_report ON transactions (user_id, date)
      INCLUDE (type, currency, amount, category_id, account_id, to_account_id, to_amount)`);
}
