import type { Knex } from 'knex';

/**
 * Savings goals and the accounts whose balances count toward them. An account may belong to
 * several goals; deleting an account drops its links (the goal records which were removed, and why,
 * in `unlinked_accounts`). achieved_at is set the first time the target is reached and kept.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('goals', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.decimal('target_amount', 20, 4).notNullable();
    t.string('currency', 3).notNullable();
    t.date('target_date').notNullable();
    t.timestamp('achieved_at', { useTz: true });
    t.jsonb('unlinked_accounts').notNullable().defaultTo('[]');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.raw('ALTER TABLE goals ADD CONSTRAINT goals_target_check CHECK (target_amount > 0)');
  await knex.raw('ALTER TABLE goals ADD CONSTRAINT goals_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 100)');
  await knex.raw('CREATE INDEX goals_user_created ON goals (user_id, created_at, id)');

  await knex.schema.createTable('goal_accounts', (t) => {
    t.uuid('goal_id').notNullable().references('goals.id').onDelete('CASCADE');
    t.uuid('account_id').notNullable();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    // The account is the goal owner's own (composite key): a link to another user's account cannot exist.
    t.foreign(['account_id', 'user_id']).references(['id', 'user_id']).inTable('accounts').onDelete('CASCADE');
    t.primary(['goal_id', 'account_id']);
  });
  await knex.raw('CREATE INDEX goal_accounts_account ON goal_accounts (account_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('goal_accounts');
  await knex.schema.dropTable('goals');
}
