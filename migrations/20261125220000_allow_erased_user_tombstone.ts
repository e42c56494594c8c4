import type { Knex } from 'knex';

/**
 * An erased user's row stays as a tombstone (the erasure record the audit trigger and
 * `GET /audit/verify` check) and holds no personal data: its email becomes NULL, which frees the
 * address for a new registration (the unique index on lower(email) admits any number of NULLs).
 * The database keeps both halves of the rule: only an erased row may lack an email, and an erased
 * row holds no email, name, password hash or TOTP secret.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users ALTER COLUMN email DROP NOT NULL');
  await knex.raw('ALTER TABLE users ADD CONSTRAINT users_email_unless_erased CHECK (email IS NOT NULL OR erased_at IS NOT NULL)');
  await knex.raw(`
    ALTER TABLE users ADD CONSTRAINT users_erased_holds_no_personal_data CHECK (
      erased_at IS NULL OR (email IS NULL AND name IS NULL AND password_hash IS NULL
        AND totp_secret_enc IS NULL AND totp_pending_secret_enc IS NULL AND totp_enabled_at IS NULL AND email_verified_at IS NULL)
    )`);
}

/** Back to a mandatory email: tombstones get a placeholder address on the reserved `.invalid` domain. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_erased_holds_no_personal_data');
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_email_unless_erased');
  await knex.raw(`UPDATE users SET email = 'erased-' || id || '@erased.invalid' WHERE email IS NULL`);
  await knex.raw('ALTER TABLE users ALTER COLUMN email SET NOT NULL');
}
