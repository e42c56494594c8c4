import type { Knex } from 'knex';

/**
 * Anchors the chains written before anchors existed: one anchor per chain at its current head
 * (entries are trusted as they stand at this moment; from now on each entry anchors itself).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    INSERT INTO audit_chain_anchors (chain, length, head_seq, head_id, head_hash, at)
    SELECT DISTINCT ON (chain) chain, count(*) OVER (PARTITION BY chain), seq, id, hash, now()
    FROM audit_logs
    ORDER BY chain, seq DESC
    ON CONFLICT DO NOTHING
  `);
}

export async function down(): Promise<void> {
  // Irreversible by design: anchors are append-only; dropping the table (previous migration's down) removes them.
}
