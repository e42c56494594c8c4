import type { Knex } from 'knex';

/**
 * Budgets: a limit for one expense category per period, in the currency the user had at creation.
 * budget_totals keeps the running sum of the period's expenses per currency (updated in the same
 * transaction as each ledger write, so spent is never a ledger scan); budget_alerts records each
 * threshold crossing once per (budget, period, threshold) — the unique key is what makes concurrent
 * writers raise one alert, not two.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('budgets', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    // The category is the owner's own (composite key): a budget can never point at another user's.
    t.uuid('category_id').notNullable();
    t.foreign(['category_id', 'user_id']).references(['id', 'user_id']).inTable('categories').onDelete('CASCADE');
    t.text('period').notNullable();
    t.decimal('amount', 20, 4).notNullable();
    t.string('currency', 3).notNullable();
    t.specificType('thresholds', 'numeric(6,4)[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['user_id', 'category_id', 'period'], { indexName: 'budgets_one_per_category_period' });
  });
  await knex.raw(`ALTER TABLE budgets ADD CONSTRAINT budgets_period_check CHECK (period IN ('monthly', 'weekly'))`);
  await knex.raw('ALTER TABLE budgets ADD CONSTRAINT budgets_amount_check CHECK (amount > 0)');
  await knex.raw(`ALTER TABLE budgets ADD CONSTRAINT budgets_thresholds_check CHECK (cardinality(thresholds) BETWEEN 1 AND 10 AND 0 < ALL (thresholds) AND 2 >= ALL (thresholds))`);
  await knex.raw('CREATE INDEX budgets_user_created ON budgets (user_id, created_at, id)');

  await knex.schema.createTable('budget_totals', (t) => {
    t.uuid('budget_id').notNullable().references('budgets.id').onDelete('CASCADE');
    t.date('period_start').notNullable();
    t.string('currency', 3).notNullable();
    t.decimal('total', 20, 4).notNullable();
    t.primary(['budget_id', 'period_start', 'currency']);
  });

  await knex.schema.createTable('budget_alerts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('budget_id').notNullable().references('budgets.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.date('period_start').notNullable();
    t.decimal('threshold', 6, 4).notNullable();
    t.decimal('spent', 20, 4).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.unique(['budget_id', 'period_start', 'threshold'], { indexName: 'budget_alerts_once' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('budget_alerts');
  await knex.schema.dropTable('budget_totals');
  await knex.schema.dropTable('budgets');
}
