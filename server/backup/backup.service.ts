import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import * as tar from 'tar';

const run = promisify(execFile);

/** An error the operator caused or must fix (bad file, wrong client, non-empty target): exit code 2. */
export class OperatorError extends Error {}

export const ARCHIVE_FORMAT = 'numina-backup/1';
const DUMP_NAME = 'dump.pgcustom';
const MANIFEST_NAME = 'manifest.json';

export interface TableSummary {
  rows: number;
  /** md5 over the sorted md5s of every row's text form: independent of physical order. */
  checksum: string;
}

export interface Manifest {
  format: typeof ARCHIVE_FORMAT;
  createdAt: string;
  serverVersion: string;
  pgDumpVersion: string;
  /** Latest migration applied when the snapshot was taken. */
  schemaVersion: string | null;
  dumpSha256: string;
  dumpBytes: number;
  tables: Record<string, TableSummary>;
}

export interface PgTools {
  /** Paths of the client programs; PG_DUMP / PG_RESTORE override the ones on PATH. */
  pgDump: string;
  pgRestore: string;
}

export function defaultTools(env: NodeJS.ProcessEnv = process.env): PgTools {
  return { pgDump: env.PG_DUMP || 'pg_dump', pgRestore: env.PG_RESTORE || 'pg_restore' };
}

/** Major version from `pg_dump --version` output, e.g. "pg_dump (PostgreSQL) 15.20 (Debian …)" → 15. */
export function parseToolVersion(output: string): { full: string; major: number } {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output) ?? /\b(\d+)\.(\d+)/.exec(output);
  if (!m) throw new OperatorError(`could not read a PostgreSQL version from: ${output.trim()}`);
  return { full: m[2] === undefined ? m[1] : `${m[1]}.${m[2]}`, major: Number(m[1]) };
}

export async function toolVersion(program: string): Promise<{ full: string; major: number }> {
  try {
    const { stdout } = await run(program, ['--version']);
    return parseToolVersion(stdout);
  } catch (err) {
    if (err instanceof OperatorError) throw err;
    throw new OperatorError(`${program} could not be run (${(err as Error).message.split('\n')[0]}); install the PostgreSQL client or set PG_DUMP / PG_RESTORE`);
  }
}

/**
 * pg_dump refuses (or silently mis-dumps) a server newer than itself: its major must be at least
 * the server's. Named both ways so the operator knows which client to install.
 */
export function checkDumpVersion(tool: string, toolMajor: number, toolFull: string, serverMajor: number, serverFull: string): void {
  if (toolMajor < serverMajor) {
    throw new OperatorError(
      `${tool} ${toolFull} is older than the PostgreSQL ${serverFull} server: a ${tool} of major version ${serverMajor} or newer is needed ` +
        `(install postgresql-client-${serverMajor} and set ${tool === 'pg_dump' ? 'PG_DUMP' : 'PG_RESTORE'}=/usr/lib/postgresql/${serverMajor}/bin/${tool})`,
    );
  }
}

async function serverVersion(client: pg.Client): Promise<{ full: string; major: number }> {
  const r = await client.query<{ v: string; n: string }>(`SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n`);
  return { full: r.rows[0].v.split(' ')[0], major: Math.floor(Number(r.rows[0].n) / 10000) };
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Row counts and content checksums of every table in the public schema, computed in SQL inside the
 * caller's transaction (so in the caller's snapshot). A row's text form is its canonical output; the
 * sorted list of row hashes makes the checksum independent of physical order, so a restored
 * database (other pages, other order) gives the same value exactly when it holds the same rows.
 */
export async function tableSummaries(client: pg.ClientBase): Promise<Record<string, TableSummary>> {
  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const out: Record<string, TableSummary> = {};
  for (const { name } of tables.rows) {
    const r = await client.query<{ rows: string; checksum: string }>(
      `SELECT count(*)::text AS rows, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS checksum
         FROM (SELECT md5(t::text) AS h FROM ${quoteIdent(name)} t) s`,
    );
    out[name] = { rows: Number(r.rows[0].rows), checksum: r.rows[0].checksum };
  }
  return out;
}

async function latestMigration(client: pg.ClientBase): Promise<string | null> {
  const exists = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'knex_migrations'`);
  if (exists.rowCount === 0) return null;
  const r = await client.query<{ name: string }>(`SELECT name FROM knex_migrations ORDER BY name DESC LIMIT 1`);
  return r.rows[0]?.name ?? null;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function spawnChecked(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(program)} exited with ${code}: ${stderr.trim()}`))));
  });
}

/** libpq reads the connection from the URL; the password, if any, travels in the environment, not argv. */
function libpqArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  u.password = '';
  return { args: ['--dbname', u.toString()], env };
}

export interface BackupResult {
  file: string;
  manifest: Manifest;
}

/**
 * One consistent snapshot: a REPEATABLE READ transaction exports its snapshot, pg_dump dumps exactly
 * that snapshot (`--snapshot`), and the manifest's counts and checksums are computed in it too —
 * so the manifest describes the dump even while the application keeps writing.
 */
export async function createBackup(databaseUrl: string, outFile: string, tools: PgTools = defaultTools(), now: () => Date = () => new Date()): Promise<BackupResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'numina-backup' });
  await client.connect();
  const work = await mkdtemp(path.join(os.tmpdir(), 'numina-backup-'));
  try {
    const server = await serverVersion(client);
    const dumpVersion = await toolVersion(tools.pgDump);
    checkDumpVersion('pg_dump', dumpVersion.major, dumpVersion.full, server.major, server.full);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snap = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const dumpFile = path.join(work, DUMP_NAME);
    const { args, env } = libpqArgs(databaseUrl);
    const dumping = spawnChecked(tools.pgDump, ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snap.rows[0].id}`, '--file', dumpFile, ...args], env);
    const [tables, schemaVersion] = await Promise.all([dumping.then(() => tableSummaries(client)), latestMigration(client)]);
    await client.query('COMMIT');
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      createdAt: now().toISOString(),
      serverVersion: server.full,
      pgDumpVersion: dumpVersion.full,
      schemaVersion,
      dumpSha256: await sha256File(dumpFile),
      dumpBytes: (await stat(dumpFile)).size,
      tables,
    };
    await writeFile(path.join(work, MANIFEST_NAME), JSON.stringify(manifest, null, 2));
    const partial = `${outFile}.partial-${randomBytes(4).toString('hex')}`;
    await tar.create({ file: partial, cwd: work, portable: true }, [MANIFEST_NAME, DUMP_NAME]);
    await rename(partial, outFile);
    return { file: outFile, manifest };
  } finally {
    await client.end().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

/** Unpacks and checks an archive: a foreign, truncated or corrupted file is an OperatorError. */
export async function openArchive(file: string, into: string): Promise<{ manifest: Manifest; dumpFile: string }> {
  try {
    await stat(file);
  } catch {
    throw new OperatorError(`${file}: no such file`);
  }
  const warnings: string[] = [];
  try {
    await tar.extract({ file, cwd: into, strict: true, filter: (p) => p === MANIFEST_NAME || p === DUMP_NAME, onwarn: (_c, msg) => warnings.push(String(msg)) });
  } catch (err) {
    throw new OperatorError(`${file} is not a readable Numina backup (${(err as Error).message})`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(into, MANIFEST_NAME), 'utf8')) as Manifest;
  } catch {
    throw new OperatorError(`${file} is not a Numina backup: it holds no readable ${MANIFEST_NAME}${warnings.length ? ` (${warnings[0]})` : ''}`);
  }
  // Read as unknown: the file is outside input until its format is checked.
  const format: unknown = (manifest as { format?: unknown } | null)?.format;
  if (format !== ARCHIVE_FORMAT) throw new OperatorError(`${file} is not a Numina backup (format ${JSON.stringify(format)}, expected ${JSON.stringify(ARCHIVE_FORMAT)})`);
  const dumpFile = path.join(into, DUMP_NAME);
  let size: number;
  try {
    size = (await stat(dumpFile)).size;
  } catch {
    throw new OperatorError(`${file} is truncated: the dump is missing`);
  }
  if (size !== manifest.dumpBytes) throw new OperatorError(`${file} is truncated or corrupted: the dump has ${size} bytes, the manifest says ${manifest.dumpBytes}`);
  if ((await sha256File(dumpFile)) !== manifest.dumpSha256) throw new OperatorError(`${file} is corrupted: the dump's SHA-256 differs from the manifest's`);
  return { manifest, dumpFile };
}

export interface RestoreOptions {
  inFile: string;
  targetUrl: string;
  force?: boolean;
  tools?: PgTools;
}

export type RestoreResult = { ok: true; tables: number; rows: number } | { ok: false; differing: { table: string; expected: TableSummary | null; actual: TableSummary | null }[] };

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'numina-restore' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

export function compareSummaries(expected: Record<string, TableSummary>, actual: Record<string, TableSummary>) {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return names
    .filter((t) => expected[t]?.rows !== actual[t]?.rows || expected[t]?.checksum !== actual[t]?.checksum)
    .map((table) => ({ table, expected: expected[table] ?? null, actual: actual[table] ?? null }));
}

/**
 * Restores into a temporary database on the target's server, recomputes every table's count and
 * checksum there and compares with the manifest; only a verified copy replaces the target (the old
 * target is renamed aside and dropped after the swap). Anything wrong before the swap leaves the
 * target untouched.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const tools = opts.tools ?? defaultTools();
  const targetName = decodeURIComponent(new URL(opts.targetUrl).pathname.replace(/^\//, ''));
  if (!targetName) throw new OperatorError('the target URL names no database');
  const maintenanceUrl = withDatabaseName(opts.targetUrl, 'postgres');
  const work = await mkdtemp(path.join(os.tmpdir(), 'numina-restore-'));
  const tempName = `${targetName.slice(0, 40)}_restore_${randomBytes(4).toString('hex')}`;
  let tempCreated = false;
  try {
    const { manifest, dumpFile } = await openArchive(opts.inFile, work);
    const restoreVersion = await toolVersion(tools.pgRestore);
    checkDumpVersion('pg_restore', restoreVersion.major, restoreVersion.full, parseToolVersion(`(PostgreSQL) ${manifest.pgDumpVersion}`).major, manifest.pgDumpVersion);

    const targetExists = await withClient(maintenanceUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [targetName])).rowCount! > 0);
    if (targetExists) {
      const tables = await withClient(opts.targetUrl, async (c) => {
        const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = 'public'`);
        return Number(r.rows[0].n);
      });
      if (tables > 0 && !opts.force) throw new OperatorError(`the target database ${targetName} is not empty (${tables} tables); pass --force to replace it`);
    }

    await withClient(maintenanceUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(tempName)}`));
    tempCreated = true;
    const tempUrl = withDatabaseName(opts.targetUrl, tempName);
    const { args, env } = libpqArgs(tempUrl);
    try {
      await spawnChecked(tools.pgRestore, ['--exit-on-error', '--no-owner', '--no-privileges', '--single-transaction', ...args, dumpFile], env);
    } catch (err) {
      throw new OperatorError(`the dump in ${opts.inFile} could not be restored: ${(err as Error).message}`);
    }
    const actual = await withClient(tempUrl, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const s = await tableSummaries(c);
      await c.query('COMMIT');
      return s;
    });
    const differing = compareSummaries(manifest.tables, actual);
    if (differing.length > 0) return { ok: false, differing };

    await withClient(maintenanceUrl, async (c) => {
      const aside = `${targetName.slice(0, 40)}_replaced_${randomBytes(4).toString('hex')}`;
      if (targetExists) {
        try {
          await c.query(`ALTER DATABASE ${quoteIdent(targetName)} RENAME TO ${quoteIdent(aside)}`);
        } catch (err) {
          throw new OperatorError(`the target database ${targetName} could not be replaced (${(err as Error).message}); stop the application first`);
        }
      }
      await c.query(`ALTER DATABASE ${quoteIdent(tempName)} RENAME TO ${quoteIdent(targetName)}`);
      tempCreated = false;
      if (targetExists) await c.query(`DROP DATABASE ${quoteIdent(aside)}`);
    });
    const rows = Object.values(actual).reduce((n, t) => n + t.rows, 0);
    return { ok: true, tables: Object.keys(actual).length, rows };
  } finally {
    if (tempCreated) await withClient(maintenanceUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(tempName)}`)).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}
