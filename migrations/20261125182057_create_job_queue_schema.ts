import type { Knex } from 'knex';
import PgBoss from 'pg-boss';

/**
 * The job queue's schema (`pgboss`), created here with pg-boss's own construction plan so that the
 * first instance (or test run) does not pay for it at start-up, and so operators see it as part of
 * the schema. pg-boss checks its version at start and migrates its own schema after an upgrade.
 * The plan opens its own transaction (and takes pg-boss's advisory lock), hence no wrapper here.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw(`SELECT to_regclass('pgboss.version') AS t`);
  if (rows[0].t) return; // created earlier by pg-boss at start
  await knex.raw(PgBoss.getConstructionPlans('pgboss'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP SCHEMA IF EXISTS pgboss CASCADE');
}
