import type { Knex } from 'knex';

/**
 * Version history of transactions: one row per create, update and delete, written in the same
 * database transaction as the change. Deliberately no FK to `transactions`, so the history of a
 * deleted transaction stays readable; it goes only when its user is erased.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE transaction_versions (
      id bigserial PRIMARY KEY,
      transaction_id uuid NOT NULL,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      version integer NOT NULL CONSTRAINT transaction_versions_version_positive CHECK (version > 0),
      action text NOT NULL CONSTRAINT transaction_versions_action_check CHECK (action IN ('create', 'update', 'delete')),
      actor_id uuid,
      at timestamptz NOT NULL,
      before jsonb,
      after jsonb,
      CONSTRAINT transaction_versions_unique UNIQUE (transaction_id, version)
    )
  `);
  await knex.raw('CREATE INDEX transaction_versions_user ON transaction_versions (user_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE transaction_versions');
}
