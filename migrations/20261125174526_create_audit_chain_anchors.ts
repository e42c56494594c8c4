import type { Knex } from 'knex';

/**
 * Anchors for the audit hash chains. Each audit entry also appends one anchor row in the same
 * transaction: (chain, length, head id/seq/hash). The chain's entries can prove that none in the
 * middle was edited or removed; only the anchor proves that none was removed from the end. Both
 * tables are append-only, so removing a tail needs two tables edited behind the database's back,
 * and `GET /audit/verify` compares every chain with its newest anchor.
 *
 * Also: the one permitted UPDATE of audit_logs (clearing personal fields) is allowed only for an
 * entry whose user is erased (`users.erased_at` set).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE audit_chain_anchors (
      chain text NOT NULL,
      length bigint NOT NULL CHECK (length > 0),
      head_seq bigint NOT NULL,
      head_id uuid NOT NULL,
      head_hash text NOT NULL,
      at timestamptz NOT NULL,
      PRIMARY KEY (chain, length)
    )
  `);
  await knex.raw(`
    CREATE FUNCTION audit_chain_anchors_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_chain_anchors is append-only' USING ERRCODE = 'insufficient_privilege'; END $$;
  `);
  await knex.raw(`
    CREATE TRIGGER audit_chain_anchors_no_change BEFORE UPDATE OR DELETE ON audit_chain_anchors
    FOR EACH ROW EXECUTE FUNCTION audit_chain_anchors_guard();
  `);
  await knex.raw(`
    CREATE TRIGGER audit_chain_anchors_no_truncate BEFORE TRUNCATE ON audit_chain_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_anchors_guard();
  `);
  await knex.raw(`
    CREATE OR REPLACE FUNCTION audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
      END IF;
      -- The one permitted update: clearing personal data, once, of an erased user's entries (GDPR).
      IF OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
         AND NEW.before IS NULL AND NEW.after IS NULL AND NEW.ip IS NULL AND NEW.user_agent IS NULL
         AND (NEW.seq, NEW.id, NEW.chain, NEW.at, NEW.user_id, NEW.actor_id, NEW.action, NEW.entity_type,
              NEW.entity_id, NEW.request_id, NEW.pii_digest, NEW.prev_hash, NEW.hash)
             IS NOT DISTINCT FROM
             (OLD.seq, OLD.id, OLD.chain, OLD.at, OLD.user_id, OLD.actor_id, OLD.action, OLD.entity_type,
              OLD.entity_id, OLD.request_id, OLD.pii_digest, OLD.prev_hash, OLD.hash)
      THEN
        IF EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id AND erased_at IS NOT NULL) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_logs: only entries of an erased user may be redacted' USING ERRCODE = 'insufficient_privilege';
      END IF;
      RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
      END IF;
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
  await knex.raw('DROP TABLE audit_chain_anchors');
  await knex.raw('DROP FUNCTION IF EXISTS audit_chain_anchors_guard()');
}
