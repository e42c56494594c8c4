import type { Db } from '../server/shared/db.js';
import type { Clock } from '../server/shared/clock.js';

/** Events are kept at least this long (docs/api.md: resume works across a week offline). */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface PruneOptions {
  db: Db;
  clock: Clock;
  /** Events whose `at` is older than now − retentionMs are deleted. Never below 7 days in production. */
  retentionMs?: number;
  /** Rows per DELETE, so a large backlog never holds one long transaction or lock. */
  batchSize?: number;
}

/**
 * Deletes events older than the retention window, in batches. Returns how many rows went.
 *
 * `user_event_seq` is left alone: seqs keep increasing after a prune, so a client that resumes
 * from a pruned seq can tell (the first event it gets is not sinceSeq + 1).
 */
export async function pruneEvents({ db, clock, retentionMs = DEFAULT_RETENTION_MS, batchSize = 5000 }: PruneOptions): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - retentionMs);
  let total = 0;
  for (;;) {
    const { rowCount } = await db.raw<{ rowCount: number | null }>(
      `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)`,
      [cutoff, batchSize],
    );
    total += rowCount ?? 0;
    if (!rowCount || rowCount < batchSize) return total;
  }
}
