import type { Knex } from 'knex';

/**
 * `users.erased_at`: set when a user is erased (GDPR). The row stays as a tombstone without
 * personal data; the audit trigger allows clearing the personal fields of audit entries only for
 * users whose `erased_at` is set, and `GET /audit/verify` checks every redacted entry against it.
 * Once set it cannot be cleared: an erase is not undone by editing a column.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users ADD COLUMN erased_at timestamptz');
  await knex.raw(`
    CREATE FUNCTION users_erased_at_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.erased_at IS NOT NULL AND NEW.erased_at IS DISTINCT FROM OLD.erased_at THEN
        RAISE EXCEPTION 'users.erased_at cannot be changed once set' USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$;
  `);
  await knex.raw(`
    CREATE TRIGGER users_erased_at_final BEFORE UPDATE OF erased_at ON users
    FOR EACH ROW EXECUTE FUNCTION users_erased_at_final();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS users_erased_at_final ON users');
  await knex.raw('DROP FUNCTION IF EXISTS users_erased_at_final()');
  await knex.raw('ALTER TABLE users DROP COLUMN erased_at');
}
