import type { Knex } from 'knex';

/**
 * TOTP second factor. Secrets are AES-256-GCM ciphertexts (never plaintext). `totp_last_step` is
 * the last accepted 30-second time step: a code at or before it is refused, so a code cannot be
 * used twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.text('totp_secret_enc');
    t.text('totp_pending_secret_enc');
    t.timestamp('totp_enabled_at', { useTz: true });
    t.bigInteger('totp_last_step');
  });
  await knex.raw('ALTER TABLE users ADD CONSTRAINT users_totp_enabled_check CHECK (totp_enabled_at IS NULL OR totp_secret_enc IS NOT NULL)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP CONSTRAINT IF EXISTS users_totp_enabled_check');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('totp_secret_enc');
    t.dropColumn('totp_pending_secret_enc');
    t.dropColumn('totp_enabled_at');
    t.dropColumn('totp_last_step');
  });
}
