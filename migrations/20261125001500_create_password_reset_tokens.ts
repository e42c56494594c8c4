import type { Knex } from 'knex';

/** Password-reset tokens: SHA-256 hashes only, single use (`used_at`), short-lived (`expires_at`). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_reset_tokens', (t) => {
    t.text('token_hash').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.index(['user_id']);
  });
  await knex.raw(`ALTER TABLE password_reset_tokens ADD CONSTRAINT password_reset_tokens_lifetime_check CHECK (expires_at <= created_at + interval '1 hour')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('password_reset_tokens');
}
