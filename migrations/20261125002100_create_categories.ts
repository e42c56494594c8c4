import type { Knex } from 'knex';

/**
 * Categories classify incomes and expenses. Names are unique per user case-insensitively.
 * (id, user_id, kind) is unique so a transaction can reference its category together with the kind
 * its type requires: the database refuses an expense filed under an income category.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('categories', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('kind').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['id', 'user_id'], { indexName: 'categories_id_user_key' });
    t.unique(['id', 'user_id', 'kind'], { indexName: 'categories_id_user_kind_key' });
  });
  await knex.raw(`ALTER TABLE categories ADD CONSTRAINT categories_kind_check CHECK (kind IN ('income', 'expense'))`);
  await knex.raw(`ALTER TABLE categories ADD CONSTRAINT categories_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 60)`);
  await knex.raw('CREATE UNIQUE INDEX categories_user_name_key ON categories (user_id, lower(name))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('categories');
}
