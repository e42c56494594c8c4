import type { Knex } from 'knex';

/**
 * The HTTP status belongs to the route declaration, not to the stored response: a key is complete
 * once its `response` is set (jsonb, never SQL NULL when complete), so `status` is no longer used.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE idempotency_keys DROP COLUMN status');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE idempotency_keys ADD COLUMN status integer');
  await knex.raw('UPDATE idempotency_keys SET status = 201 WHERE response IS NOT NULL');
}
