import type { Knex } from 'knex';

/**
 * Event outbox for live updates. `seq` increases per user without gaps among committed events:
 * it comes from the user's counter row, which the publishing transaction holds locked until commit.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_event_seq', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE');
    t.bigInteger('last_seq').notNullable();
  });
  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.bigInteger('seq').notNullable();
    t.text('type').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['user_id', 'seq']);
  });
  await knex.raw('CREATE INDEX events_at ON events (at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('events');
  await knex.schema.dropTable('user_event_seq');
}
