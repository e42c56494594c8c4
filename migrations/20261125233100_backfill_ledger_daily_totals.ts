import type { Knex } from 'knex';

/**
 * Fills the ledger's daily totals from the transactions already written (from here on the write
 * path keeps them). The same GROUP BY that `checkLedger` compares them with.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    INSERT INTO ledger_daily_accounts (user_id, account_id, date, amount, entries)
    SELECT t.user_id, l.account_id, t.date, sum(l.amount), count(*)
      FROM transactions t
      CROSS JOIN LATERAL (VALUES (t.account_id, CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END), (t.to_account_id, t.to_amount)) AS l(account_id, amount)
     WHERE l.account_id IS NOT NULL
     GROUP BY t.user_id, l.account_id, t.date`);
  await knex.raw(`
    INSERT INTO ledger_daily_categories (user_id, type, category_id, currency, date, amount, transactions)
    SELECT user_id, type, category_id, currency, date, sum(amount), count(*)
      FROM transactions
     WHERE type <> 'transfer'
     GROUP BY user_id, type, category_id, currency, date`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('TRUNCATE ledger_daily_accounts, ledger_daily_categories');
}
