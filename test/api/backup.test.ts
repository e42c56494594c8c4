import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import * as tar from 'tar';
import { checkDumpVersion, tableSummaries, type Manifest } from '../../server/backup/index.js';
import { checkLedger } from '../../server/transactions/index.js';
import { createDb } from '../../server/shared/db.js';
import { startTestApp, testDatabaseUrl, useTestApp, useUsers } from '../helpers/app.js';
import { balanceOf, createAccount, createTransaction, type Json } from '../helpers/ledger.js';

const run = promisify(execFile);

const t = useTestApp();
const [u] = useUsers(t, 1);
let a: Json;
let dir: string;
let archive: string;
const created: string[] = [];

/** Runs one of the CLIs (as `npm run backup/restore` does) against this run's database. */
async function cli(script: 'backup' | 'restore', args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('npx', ['tsx', `server/cli/${script}.ts`, ...args], { env: { ...process.env, DATABASE_URL: testDatabaseUrl(), ...env } });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** A fresh database name on the test server; dropped after the file. */
function newTargetUrl(): string {
  const url = new URL(testDatabaseUrl());
  const name = `${url.pathname.slice(1)}_r${randomBytes(3).toString('hex')}`;
  created.push(name);
  url.pathname = `/${name}`;
  return url.toString();
}

async function summariesOf(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    return await tableSummaries(c);
  } finally {
    await c.end();
  }
}

async function repack(manifest: Manifest, dumpFrom: string, out: string): Promise<void> {
  const work = await mkdtemp(path.join(dir, 'repack-'));
  await tar.extract({ file: dumpFrom, cwd: work });
  await writeFile(path.join(work, 'manifest.json'), JSON.stringify(manifest));
  await tar.create({ file: out, cwd: work }, ['manifest.json', 'dump.pgcustom']);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'numina-backup-test-'));
  archive = path.join(dir, 'numina.backup');
  a = await createAccount(t, u, { openingBalance: '100.00' });
  const b = await createAccount(t, u, { name: 'EUR', currency: 'EUR' });
  await createTransaction(t, u, { accountId: a.id, type: 'expense', amount: '12.34', notes: 'groceries' });
  await createTransaction(t, u, { accountId: a.id, type: 'transfer', amount: '20.00', toAccountId: b.id, toAmount: '18.40' });
}, 60_000);

afterAll(async () => {
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  // Temporary databases a failed restore might have left behind would be named after a target.
  await admin.end();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run backup / npm run restore', () => {
  it('round trip: the restored database holds the same rows (checksums equal), passes the ledger check and starts the app', async () => {
    const backup = await cli('backup', ['--out', archive]);
    expect(backup).toMatchObject({ code: 0 });
    const source = await summariesOf(testDatabaseUrl());

    const manifest = JSON.parse(await readFile(await extractManifest(archive), 'utf8')) as Manifest;
    expect(manifest.tables).toEqual(source);
    expect(manifest.tables.transactions.rows).toBeGreaterThanOrEqual(2);
    expect(manifest.schemaVersion).toMatch(/^\d{14}_/);

    const target = newTargetUrl();
    const restore = await cli('restore', ['--in', archive, '--target', target]);
    expect(restore.stderr).toMatch(/restored and verified/);
    expect(restore.code).toBe(0);
    expect(await summariesOf(target)).toEqual(source);

    const db = createDb(target, 2);
    try {
      expect(await checkLedger(db, {})).toMatchObject({ ok: true });
    } finally {
      await db.destroy();
    }
    const restored = await startTestApp({ DATABASE_URL: target });
    try {
      const login = await restored.api('/auth/login', { method: 'POST', json: { email: u.email, password: u.password } });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      expect(await balanceOf(restored, { ...u, accessToken }, a.id)).toBe('67.66');
    } finally {
      await restored.stop();
    }
  }, 120_000);

  it('refuses a non-empty target without --force (exit 2) and replaces it with --force', async () => {
    const target = newTargetUrl();
    expect((await cli('restore', ['--in', archive, '--target', target])).code).toBe(0);
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    await c.query(`UPDATE accounts SET name = 'changed in the target'`);
    await c.end();
    const before = await summariesOf(target);

    const refused = await cli('restore', ['--in', archive, '--target', target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    expect(await summariesOf(target)).toEqual(before);

    const forced = await cli('restore', ['--in', archive, '--target', target, '--force']);
    expect(forced.code).toBe(0);
    const manifest = JSON.parse(await readFile(await extractManifest(archive), 'utf8')) as Manifest;
    expect(await summariesOf(target)).toEqual(manifest.tables);
    expect(before.accounts.checksum).not.toBe(manifest.tables.accounts.checksum);
  }, 120_000);

  it('a corrupted, truncated or foreign file is a clear error (exit 2) and the target is untouched', async () => {
    const target = newTargetUrl();
    expect((await cli('restore', ['--in', archive, '--target', target])).code).toBe(0);
    const before = await summariesOf(target);
    const bytes = await readFile(archive);

    const corrupted = path.join(dir, 'corrupted.backup');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 2048] ^= 0xff; // inside the dump, after the manifest
    await writeFile(corrupted, flipped);
    const truncated = path.join(dir, 'truncated.backup');
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const foreign = path.join(dir, 'foreign.backup');
    await writeFile(foreign, 'id,name\n1,not a backup\n');

    for (const [file, message] of [
      [corrupted, /corrupted|truncated/],
      [truncated, /truncated|not a readable|not a Numina backup/],
      [foreign, /not a (readable )?Numina backup/],
    ] as const) {
      const r = await cli('restore', ['--in', file, '--target', target, '--force']);
      expect({ file: path.basename(file), code: r.code }).toEqual({ file: path.basename(file), code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await summariesOf(target)).toEqual(before);
  }, 120_000);

  it('a restored table that differs from the manifest is named, exit 1, target untouched', async () => {
    const manifest = JSON.parse(await readFile(await extractManifest(archive), 'utf8')) as Manifest;
    manifest.tables.accounts = { ...manifest.tables.accounts, checksum: '0'.repeat(32) };
    const tampered = path.join(dir, 'tampered.backup');
    await repack(manifest, archive, tampered);
    const target = newTargetUrl();
    const r = await cli('restore', ['--in', tampered, '--target', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/table accounts differs/);
    expect(r.stderr).not.toMatch(/table transactions differs/);
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    const exists = await admin.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${new URL(target).pathname.slice(1)}%`]);
    await admin.end();
    expect(exists.rows).toEqual([]);
  }, 120_000);

  it('names both versions when pg_dump is older than the server (exit 2, nothing written)', async () => {
    const fake = path.join(dir, 'pg_dump_old');
    await writeFile(fake, '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n');
    await chmod(fake, 0o755);
    const out = path.join(dir, 'never.backup');
    const r = await cli('backup', ['--out', out], { PG_DUMP: fake });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pg_dump 9\.6 is older than the PostgreSQL 1\d\.\d+ server/);
    await expect(readFile(out)).rejects.toThrow();
    expect(() => checkDumpVersion('pg_dump', 15, '15.20', 17, '17.2')).toThrow(/pg_dump 15\.20 is older than the PostgreSQL 17\.2 server: a pg_dump of major version 17 or newer/);
    expect(() => checkDumpVersion('pg_dump', 17, '17.0', 15, '15.20')).not.toThrow();
  }, 60_000);

  it('usage errors exit 2', async () => {
    expect((await cli('backup', [])).code).toBe(2);
    expect((await cli('restore', ['--bogus'])).code).toBe(2);
  }, 60_000);
});

async function extractManifest(file: string): Promise<string> {
  const work = await mkdtemp(path.join(dir, 'manifest-'));
  await tar.extract({ file, cwd: work, filter: (p) => p === 'manifest.json' });
  return path.join(work, 'manifest.json');
}
