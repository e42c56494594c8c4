import type { Knex } from 'knex';

/** Users: the account holder. Email is unique case-insensitively (stored lowercased, indexed on lower()). */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable();
    t.text('name');
    t.text('role').notNullable().defaultTo('user');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.string('currency', 3).notNullable().defaultTo('USD');
    t.text('time_zone').notNullable().defaultTo('UTC');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'))`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_currency_check CHECK (currency ~ '^[A-Z]{3}$')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
