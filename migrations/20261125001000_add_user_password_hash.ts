import type { Knex } from 'knex';

/**
 * The user's password, as an Argon2id PHC string (the parameters travel inside it, so a hash made
 * with older parameters can be recognised and upgraded at the next login). Nullable: a user made
 * by an operator or a test fixture without a password simply cannot log in with one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.text('password_hash');
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_password_hash_check CHECK (password_hash IS NULL OR password_hash LIKE '$argon2%')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('password_hash');
  });
}
