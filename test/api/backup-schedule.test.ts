import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { BACKUP_JOB, createScheduledBackup, openArchive, restoreBackup } from '../../server/backup/index.js';
import { ConfigError, loadConfig } from '../../server/shared/config.js';
import { createLogger } from '../../server/shared/logger.js';
import { testDatabaseUrl, useTestApp } from '../helpers/app.js';
import { createAccount } from '../helpers/ledger.js';
import { registerAndLogin } from '../helpers/users.js';

/**
 * Scheduled backups (issue 14): BACKUP_DIR + BACKUP_CRON schedule the same verified archive as
 * `npm run backup` on the job queue, keep the newest BACKUP_KEEP, and count each run on /metrics.
 */
const METRICS_TOKEN = randomBytes(24).toString('hex');
let dir: string;
const t = useTestApp(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'numina-scheduled-'));
  return { BACKUP_DIR: dir, BACKUP_CRON: '0 3 * * *', BACKUP_KEEP: '2', METRICS_TOKEN };
});
const dropped: string[] = [];
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  for (const name of dropped) await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
  await admin.end();
});

const archives = async () => (await readdir(dir)).filter((f) => f.endsWith('.tar')).sort();
const metrics = async () => (await t.api('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();

describe('scheduled backups', () => {
  it('are scheduled on the job queue with BACKUP_CRON', () => {
    expect(t.app.ctx.jobs.scheduled()).toContainEqual({ name: BACKUP_JOB, cron: '0 3 * * *' });
  });

  it('write a verified archive into BACKUP_DIR, keep the newest BACKUP_KEEP, and count each run on /metrics', async () => {
    const u = await registerAndLogin(t);
    await createAccount(t, u, { name: 'Backed up', openingBalance: '12.34' });
    for (let i = 0; i < 3; i++) {
      await t.app.ctx.jobs.runNow(BACKUP_JOB);
      t.clock.advance(24 * 3_600_000);
    }
    const files = await archives();
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(/^numina-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.tar$/);
    // The newest two stay: the oldest run's day is gone.
    const now = t.clock.now().getTime();
    const days = files.map((f) => Math.round((now - Date.parse(f.slice(7, -4).replace(/T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/, 'T$1:$2:$3.$4Z'))) / (24 * 3_600_000)));
    expect(days).toEqual([2, 1]);

    // Restore's own verification reads it: manifest, size and SHA-256, then every table's count and checksum.
    const work = await mkdtemp(path.join(os.tmpdir(), 'numina-open-'));
    try {
      const { manifest } = await openArchive(path.join(dir, files[1]), work);
      expect(manifest.tables.accounts.rows).toBeGreaterThanOrEqual(1);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const target = new URL(testDatabaseUrl());
    const name = `${target.pathname.slice(1)}_s${randomBytes(3).toString('hex')}`;
    dropped.push(name);
    target.pathname = `/${name}`;
    expect(await restoreBackup({ inFile: path.join(dir, files[1]), targetUrl: target.toString() })).toMatchObject({ ok: true });

    const text = await metrics();
    expect(text).toMatch(/^numina_backups_total\{result="ok"\} 3$/m);
    expect(text).toMatch(/^numina_backups_total\{result="error"\} 0$/m);
    const last = Number(/^numina_backup_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    expect(last).toBeGreaterThan(Date.parse('2026-01-01') / 1000);
  });

  it('counts a failed run as an error, prunes nothing, and throws so the queue retries it', async () => {
    const registry = new Registry();
    const bad = await mkdtemp(path.join(os.tmpdir(), 'numina-bad-'));
    try {
      // BACKUP_DIR is a file, not a directory: the archive cannot be written.
      const file = path.join(bad, 'not-a-dir');
      await writeFile(file, 'x');
      const run = createScheduledBackup({ databaseUrl: testDatabaseUrl(), dir: file, keep: 1, logger: createLogger('silent'), clock: t.clock, metricsRegistry: registry });
      await expect(run()).rejects.toThrow();
      const text = await registry.metrics();
      expect(text).toMatch(/^numina_backups_total\{result="error"\} 1$/m);
      expect(text).toMatch(/^numina_backups_total\{result="ok"\} 0$/m);
      expect(await readdir(bad)).toEqual(['not-a-dir']);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('refuses a half or malformed configuration with a message naming the variable', () => {
    const base = { NODE_ENV: 'test', DATA_DIR: os.tmpdir() };
    expect(() => loadConfig({ ...base, BACKUP_DIR: '/tmp/x' })).toThrow(/BACKUP_DIR and BACKUP_CRON: set both/);
    expect(() => loadConfig({ ...base, BACKUP_CRON: '0 3 * * *' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, BACKUP_DIR: '/tmp/x', BACKUP_CRON: 'daily' })).toThrow(/BACKUP_CRON: must be a 5-field cron expression/);
    expect(() => loadConfig({ ...base, BACKUP_DIR: '/tmp/x', BACKUP_CRON: '0 3 * * *', BACKUP_KEEP: '0' })).toThrow(/BACKUP_KEEP: must be at least 1/);
    expect(loadConfig({ ...base, BACKUP_DIR: '/tmp/x', BACKUP_CRON: '0  3 * * *' }).backup).toEqual({ dir: '/tmp/x', cron: '0 3 * * *', keep: 7 });
  });
});
