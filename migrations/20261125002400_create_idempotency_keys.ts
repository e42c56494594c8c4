import type { Knex } from 'knex';

/**
 * Idempotency keys of money-moving POSTs, per user and endpoint (`scope`). The primary key is what
 * serialises two concurrent requests with one key: the second INSERT waits for the first
 * transaction and then sees its row. The stored response is replayed until `expires_at` (≥ 24 h).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      scope text NOT NULL,
      key text NOT NULL CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
      request_hash text NOT NULL,
      status integer,
      response jsonb,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, scope, key),
      CONSTRAINT idempotency_keys_expiry CHECK (expires_at >= created_at + interval '24 hours')
    )
  `);
  await knex.raw('CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE idempotency_keys');
}
