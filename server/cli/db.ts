import { loadConfig } from '../shared/config.js';
import { createDb, type Db } from '../shared/db.js';
import { startEmbeddedPostgres } from '../shared/embedded-postgres.js';

/**
 * Opens the database the server would use (DATABASE_URL, else the embedded one under .data/),
 * runs `fn`, and always closes both afterwards. For operator commands.
 */
export async function withDatabase<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
  const db = createDb(config.databaseUrl ?? embedded!.url, 2);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}
