import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../shared/clock.js';
import { createBackup, defaultTools, type PgTools } from './backup.service.js';

/** The scheduled backup's job name (pg-boss queue). */
export const BACKUP_JOB = 'backup.run';

/** `numina-<ISO instant with : and . as ->.tar`: names sort in time order, and pruning touches only these. */
const ARCHIVE_NAME = /^numina-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.tar$/;

export function archiveName(at: Date): string {
  return `numina-${at.toISOString().replace(/[:.]/g, '-')}.tar`;
}

export interface ScheduledBackupDeps {
  databaseUrl: string;
  dir: string;
  /** Archives kept in `dir` (the newest); older ones are deleted after each successful run. */
  keep: number;
  logger: Logger;
  clock: Clock;
  metricsRegistry: Registry;
  tools?: PgTools;
}

export interface ScheduledBackupResult {
  file: string;
  bytes: number;
  pruned: string[];
}

/**
 * One scheduled backup run: the same verified archive as `npm run backup` (createBackup: one
 * consistent snapshot, manifest with per-table counts and checksums) written to
 * `<dir>/numina-<timestamp>.tar`, then the archives beyond the newest `keep` deleted. Each run is
 * logged and counted (`numina_backups_total{result="ok"|"error"}`; `numina_backup_last_success_timestamp_seconds`).
 * A failed run throws, so the job queue retries it; nothing is pruned after a failure.
 */
export function createScheduledBackup(deps: ScheduledBackupDeps): () => Promise<ScheduledBackupResult> {
  const { logger, clock } = deps;
  const runs = new Counter({
    name: 'numina_backups_total',
    help: 'Scheduled backup runs by result',
    labelNames: ['result'] as const,
    registers: [deps.metricsRegistry],
  });
  // Both series exist from the start, so an alert on errors (or on no success) sees a zero, not a gap.
  runs.inc({ result: 'ok' }, 0);
  runs.inc({ result: 'error' }, 0);
  const lastSuccess = new Gauge({
    name: 'numina_backup_last_success_timestamp_seconds',
    help: 'When the last scheduled backup succeeded (Unix time; 0: none since start)',
    registers: [deps.metricsRegistry],
  });
  lastSuccess.set(0);

  async function prune(): Promise<string[]> {
    const archives = (await readdir(deps.dir)).filter((f) => ARCHIVE_NAME.test(f)).sort();
    const old = archives.slice(0, Math.max(0, archives.length - deps.keep));
    for (const f of old) await rm(path.join(deps.dir, f), { force: true });
    return old;
  }

  return async () => {
    const started = Date.now();
    const at = clock.now();
    const file = path.join(deps.dir, archiveName(at));
    try {
      await mkdir(deps.dir, { recursive: true });
      const { manifest } = await createBackup(deps.databaseUrl, file, deps.tools ?? defaultTools(), () => at);
      const pruned = await prune();
      runs.inc({ result: 'ok' });
      lastSuccess.set(clock.now().getTime() / 1000);
      const rows = Object.values(manifest.tables).reduce((n, t) => n + t.rows, 0);
      logger.info({ file, bytes: manifest.dumpBytes, tables: Object.keys(manifest.tables).length, rows, pruned, ms: Date.now() - started }, 'scheduled backup written');
      return { file, bytes: manifest.dumpBytes, pruned };
    } catch (err) {
      runs.inc({ result: 'error' });
      logger.error({ err, file, ms: Date.now() - started }, 'scheduled backup failed; the job queue retries it');
      throw err;
    }
  };
}
