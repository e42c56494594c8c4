import type { Knex } from 'knex';

/**
 * No row may be added for an erased user — closes the race an erasure otherwise leaves open: a
 * write of the same user that passed authentication just before `DELETE /users/me` waits on the
 * users row the erasure holds locked, and without this guard commits after it, leaving a row the
 * erasure's sweep had already passed.
 *
 * One statement-level trigger per table with a `user_id` column (audit_logs aside: the erasure's own
 * entry and the redacted history stay there by design). It reads the owners of the inserted rows
 * `FOR KEY SHARE` — the lock the foreign-key check takes anyway — so a write racing an erasure waits
 * for it, then sees the row as the erasure left it (`erased_at` set) and fails with SQLSTATE NE001,
 * which the API answers as 401 (the account is gone). Nothing is added to the fast path but one
 * index lookup per INSERT statement on a row the foreign-key check has just read.
 *
 * A table added later with a `user_id` column must get the same trigger (see `guard` below):
 * test/api/gdpr-erase.test.ts lists the tables from the catalog and fails on one without it.
 */
export const ERASED_OWNER_FUNCTION = 'refuse_rows_of_erased_users';

export function guard(table: string): string {
  return `CREATE TRIGGER ${table}_refuse_erased_owner AFTER INSERT ON ${table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${ERASED_OWNER_FUNCTION}()`;
}

const UNGUARDED = ['audit_logs'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION ${ERASED_OWNER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      erased boolean;
    BEGIN
      SELECT bool_or(s.erased_at IS NOT NULL) INTO erased
        FROM (SELECT u.erased_at FROM users u WHERE u.id IN (SELECT DISTINCT user_id FROM new_rows) FOR KEY SHARE OF u) s;
      IF erased THEN
        RAISE EXCEPTION 'rows for an erased user are refused (table %)', TG_TABLE_NAME USING ERRCODE = 'NE001';
      END IF;
      RETURN NULL;
    END $$`);
  const { rows } = await knex.raw<{ rows: { table_name: string }[] }>(
    `SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'user_id' AND table_name <> ALL(?) ORDER BY table_name`,
    [UNGUARDED],
  );
  for (const { table_name } of rows) await knex.raw(guard(table_name));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION ${ERASED_OWNER_FUNCTION}() CASCADE`);
}
