import type { Knex } from 'knex';

/**
 * Admin panel sessions (express-session through connect-pg-simple, which expects exactly this
 * shape: its own table.sql). Kept in PostgreSQL so every instance sees the same sessions and a
 * restart logs no one out; `expire` is indexed for the periodic purge.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE admin_sessions (
      sid varchar NOT NULL COLLATE "default" PRIMARY KEY,
      sess json NOT NULL,
      expire timestamp(6) NOT NULL
    )`);
  await knex.raw('CREATE INDEX admin_sessions_expire ON admin_sessions (expire)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('admin_sessions');
}
