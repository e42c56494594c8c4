import type { Knex } from 'knex';

/**
 * Links mailed to prove an address: `verify` (the address the user registered with) and `change`
 * (the new address of an email change). SHA-256 hashes only, single use (`used_at`), at most 24 h.
 * `email` is the address the link was sent to: a verify link stops working once the address
 * changed, a change link applies exactly that address.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('email_tokens', (t) => {
    t.text('token_hash').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('purpose').notNullable();
    t.text('email').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.index(['user_id']);
  });
  await knex.raw(`ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check CHECK (purpose IN ('verify', 'change'))`);
  await knex.raw(`ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_lifetime_check CHECK (expires_at <= created_at + interval '24 hours')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('email_tokens');
}
