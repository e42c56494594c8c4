import type { Knex } from 'knex';

/**
 * Durable queue for work that must run after a commit (mail about budget alerts and goals): a job
 * is inserted in the writer's transaction, so it exists exactly when the change does. Payloads
 * carry ids, never personal data. A failed job stays with its last error for operators.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_queue', (t) => {
    t.bigIncrements('id').primary();
    t.text('name').notNullable();
    t.jsonb('payload').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('run_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('locked_until', { useTz: true });
    t.timestamp('failed_at', { useTz: true });
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX job_queue_due ON job_queue (run_at, id) WHERE failed_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_queue');
}
