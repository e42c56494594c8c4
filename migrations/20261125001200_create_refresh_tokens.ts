import type { Knex } from 'knex';

/**
 * Refresh tokens, stored only as SHA-256 hashes. A token is spent once used (`spent_at`); spent
 * rows stay while their session lives so that a replay can be recognised and the session revoked.
 * At most one unspent token per session.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('refresh_tokens', (t) => {
    t.text('token_hash').primary();
    t.uuid('session_id').notNullable().references('auth_sessions.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('spent_at', { useTz: true });
    t.index(['session_id']);
  });
  await knex.raw('CREATE UNIQUE INDEX refresh_tokens_one_live_per_session ON refresh_tokens (session_id) WHERE spent_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('refresh_tokens');
}
