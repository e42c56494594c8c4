import type { Knex } from 'knex';

/**
 * A covering index for the reports (server/reports/reports.queries.ts): every report reads one
 * user's transactions in a date range and needs only these columns, so with them INCLUDEd the
 * scan is index-only (no heap visit per row). Chosen from EXPLAIN (ANALYZE, BUFFERS) on the
 * 100,000-transaction bench (BENCHMARKS.md, "Reports"): the existing (user_id, date DESC, id DESC)
 * index serves keyset pagination but makes a report visit the heap for every row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX transactions_user_date_report ON transactions (user_id, date)
      INCLUDE (type, currency, amount, category_id, account_id, to_account_id, to_amount)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX transactions_user_date_report');
}
