import { ConfigError, loadConfig, type Config } from '../shared/config.js';
import { createDb, type Db } from '../shared/db.js';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../shared/embedded-postgres.js';

/**
 * Opens the database the server would use (DATABASE_URL, else the embedded one under .data/ —
 * the running server's when `npm start` is up, else started for this command), runs `fn`, and
 * always closes what it opened. For operator commands.
 */
export async function withDatabase<T>(fn: (db: Db, config: Config) => Promise<T>): Promise<T> {
  // PORT is the server's business: a command never listens.
  const config = loadConfig({ ...process.env, PORT: '0' });
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, attachToRunning: true });
  const db = createDb(config.databaseUrl ?? embedded!.url, 2);
  try {
    return await fn(db, config);
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

/**
 * One line for an operator, whatever was thrown (a library may reject with nothing at all).
 * A database error says which server it was talking to.
 */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError || err instanceof EmbeddedPostgresError) return err.message;
  if (err instanceof AggregateError && err.errors.length) return describeError(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return `the database refused the connection (${err.message}): is PostgreSQL running, and is DATABASE_URL right?`;
    return err.message || err.name;
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a non-Error was thrown: print it as String() does, whatever it is
  return err === undefined ? 'failed without a reason' : String(err);
}

/** Exit codes shared by the operator commands: 1 is a finding (e.g. a ledger mismatch), 2 is a problem running the command. */
export const EXIT_FINDING = 1;
export const EXIT_OPERATOR = 2;
