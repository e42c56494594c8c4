import type { Knex } from 'knex';

/**
 * Append-only, hash-chained audit log. Each chain (one per user, plus one for entries with no user)
 * links every entry to the previous one by hash. The table refuses UPDATE and DELETE, with one
 * exception the GDPR erase needs: personal fields (before, after, ip, user_agent) may be cleared
 * once, with `redacted_at` set; the chain stays verifiable because the hash covers a digest of the
 * personal fields (`pii_digest`) rather than the fields themselves.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_logs', (t) => {
    t.bigIncrements('seq').primary();
    t.uuid('id').notNullable().unique().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('chain').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.uuid('user_id');
    t.uuid('actor_id');
    t.text('action').notNullable();
    t.text('entity_type');
    t.text('entity_id');
    t.jsonb('before');
    t.jsonb('after');
    t.text('ip');
    t.text('user_agent');
    t.text('request_id');
    t.text('pii_digest').notNullable();
    t.text('prev_hash');
    t.text('hash').notNullable();
    t.timestamp('redacted_at', { useTz: true });
  });
  await knex.raw('CREATE INDEX audit_logs_chain_seq ON audit_logs (chain, seq)');
  await knex.raw('CREATE INDEX audit_logs_user_seq ON audit_logs (user_id, seq DESC)');
  await knex.raw('CREATE INDEX audit_logs_at ON audit_logs (at DESC, seq DESC)');
  await knex.raw(`
    CREATE FUNCTION audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
      END IF;
      -- The one permitted update: clearing personal data (GDPR erase), once.
      IF OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
         AND NEW.before IS NULL AND NEW.after IS NULL AND NEW.ip IS NULL AND NEW.user_agent IS NULL
         AND (NEW.seq, NEW.id, NEW.chain, NEW.at, NEW.user_id, NEW.actor_id, NEW.action, NEW.entity_type,
              NEW.entity_id, NEW.request_id, NEW.pii_digest, NEW.prev_hash, NEW.hash)
             IS NOT DISTINCT FROM
             (OLD.seq, OLD.id, OLD.chain, OLD.at, OLD.user_id, OLD.actor_id, OLD.action, OLD.entity_type,
              OLD.entity_id, OLD.request_id, OLD.pii_digest, OLD.prev_hash, OLD.hash)
      THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
  `);
  await knex.raw(`
    CREATE TRIGGER audit_logs_no_change BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_guard();
  `);
  await knex.raw(`
    CREATE FUNCTION audit_logs_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege'; END $$;
  `);
  await knex.raw(`
    CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_no_truncate();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_logs');
  await knex.raw('DROP FUNCTION IF EXISTS audit_logs_guard()');
  await knex.raw('DROP FUNCTION IF EXISTS audit_logs_no_truncate()');
}
