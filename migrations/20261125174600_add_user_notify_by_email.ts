import type { Knex } from 'knex';

/** The user's opt-in to have budget alerts and goal achievements mailed as well (off by default). */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users ADD COLUMN notify_by_email boolean NOT NULL DEFAULT false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP COLUMN notify_by_email');
}
