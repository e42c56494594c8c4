import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexLib, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';

// NUMERIC (1700) and INT8 (20) stay strings: money and big counters never pass through a JS number.
// DATE (1082) stays 'YYYY-MM-DD': a calendar date is not an instant.
pg.types.setTypeParser(1082, (v) => v);

export type Db = Knex;

// knex ships CommonJS: the default import is its module.exports, whose `knex` property is the
// factory — at run time and in its typings alike.
const { knex } = knexLib;

export function createDb(connectionString: string, poolMax = 10, acquireTimeoutMs = 10000, logger?: Pick<Logger, 'warn' | 'debug'>): Db {
  return knex({
    client: 'pg',
    // knex prints to the console by default; a lost connection is already told by watchDatabase.
    ...(logger
      ? { log: { warn: (m: unknown) => logger.warn({ knex: m }), error: (m: unknown) => logger.debug({ knex: m }), deprecate: () => {}, debug: () => {} } }
      : {}),
    connection: { connectionString, application_name: 'numina' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: acquireTimeoutMs,
  });
}

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Reads migrations from `migrations/` by file name (timestamp first), importing each module
 * itself so that the same runner works under tsx, jest and plain node.
 */
class DirMigrationSource implements Knex.MigrationSource<string> {
  getMigrations(): Promise<string[]> {
    return Promise.resolve(
      readdirSync(MIGRATIONS_DIR)
        .filter((f) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f))
        .sort(),
    );
  }
  getMigrationName(name: string): string {
    return name.replace(/\.(ts|js)$/, '');
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    return import(pathToFileURL(path.join(MIGRATIONS_DIR, name)).href) as Promise<Knex.Migration>;
  }
}

/** A fixed key for pg_advisory_lock: "numina migrations". */
const MIGRATION_LOCK_KEY = 4242001;

/**
 * Applies pending migrations under a PostgreSQL advisory lock, so two instances starting together
 * run them once, one after the other, instead of racing (knex's own lock table fails instead of waiting).
 */
export async function migrateLatest(db: Db): Promise<string[]> {
  return withMigrationLock(db, async () => {
    const [, applied] = (await db.migrate.latest({ migrationSource: new DirMigrationSource() })) as [number, string[]];
    return applied;
  });
}

export async function migrateRollback(db: Db, all = false): Promise<string[]> {
  return withMigrationLock(db, async () => {
    const [, undone] = (await db.migrate.rollback({ migrationSource: new DirMigrationSource() }, all)) as [number, string[]];
    return undone;
  });
}

/** The part of knex's client (typed `any` by knex) that hands out a raw pg connection from its pool. */
export interface KnexPool<C> {
  acquireConnection(): Promise<C>;
  releaseConnection(conn: C): Promise<unknown>;
  /** tarn's pool, once the first connection was asked for. */
  pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number };
}

/** knex's client as the pool it is (knex types `db.client` as `any`): for raw pg connections and pool gauges. */
export function knexPool<C>(db: Db): KnexPool<C> {
  return db.client as KnexPool<C>;
}

async function withMigrationLock<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  const pool = knexPool<{ query(sql: string, values: unknown[]): Promise<unknown> }>(db);
  const conn = await pool.acquireConnection();
  try {
    await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await pool.releaseConnection(conn);
  }
}

/**
 * Logs a database outage once, when connecting starts failing, and its end once, when a connection
 * is made again (instead of one error line per request in between). Requests meanwhile answer 503
 * with Retry-After (errors.ts: DatabaseUnavailableError).
 */
export function watchDatabase(db: Db, logger: Pick<Logger, 'warn' | 'info'>): void {
  const pool = (db.client as { pool?: PoolEvents }).pool;
  if (!pool) return;
  let downSince: number | undefined;
  pool.on('createFail', (_eventId, err) => {
    if (downSince !== undefined) return;
    downSince = Date.now();
    logger.warn({ err }, 'database unavailable: answering 503 until it is back');
  });
  pool.on('createSuccess', () => {
    if (downSince === undefined) return;
    logger.info({ downForMs: Date.now() - downSince }, 'database available again');
    downSince = undefined;
  });
}

interface PoolEvents {
  on(event: 'createFail', fn: (eventId: number, err: unknown) => void): void;
  on(event: 'createSuccess', fn: (eventId: number, resource: unknown) => void): void;
}

/** True while the database answers a trivial query within `timeoutMs`. */
export async function dbReady(db: Db, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs raw SQL and returns its rows typed as T. pg leaves NUMERIC and INT8 as strings (see the
 * type parsers above), so row interfaces type money and counts as `string`, never `number`.
 */
export async function sqlRows<T>(db: Knex | Knex.Transaction, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  const result = await db.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[]);
  return result.rows;
}

/** A pooled pg connection as `preparedRows` uses it. */
interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Statement name by text: the same text always gets the same name (a name is prepared once per connection). */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `numina_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs a fixed statement as a named prepared statement on a connection of the same pool: PostgreSQL
 * parses and plans it once per connection, and no query builder runs per request. For the hot
 * statements of the request path (session check, list pages, gets), whose texts come from code
 * (a few variants each, never from input: every value is a parameter). Failures are the ones a
 * knex query raises (pool timeout, pg errors with their SQLSTATE), so they map to the same answers.
 */
export async function preparedRows<T>(db: Db | Knex.Transaction, text: string, values: readonly unknown[]): Promise<T[]> {
  // On a transaction, knex's client hands out the transaction's own connection (and releasing it is a no-op).
  const pool = knexPool<PgConnection>(db);
  const conn = await pool.acquireConnection();
  try {
    return (await conn.query({ name: statementName(text), text, values })).rows as T[];
  } finally {
    await pool.releaseConnection(conn);
  }
}

/** `?` placeholders → `$1…$n`, once per text. */
const positionalTexts = new Map<string, string>();

/**
 * `preparedRows` for a fixed statement written with knex's `?` placeholders, on the pool or inside
 * a transaction: the write path's fixed statements (balances, daily totals, versions, audit chain,
 * events) are parsed and planned once per connection instead of once per write, and skip knex's
 * query compilation. Only for texts from code with every value a parameter; the text must hold no
 * other `?` (no `??` identifiers, no jsonb `?` operators). Name the columns read (no `SELECT *`), as
 * for `preparedRows`: a prepared statement whose result type changes fails on its connection.
 */
export function preparedSql<T>(q: Db | Knex.Transaction, text: string, values: readonly unknown[]): Promise<T[]> {
  let positional = positionalTexts.get(text);
  if (positional === undefined) {
    if (text.includes('??')) throw new Error('preparedSql takes no ?? identifiers');
    let n = 0;
    positional = text.replace(/\?/g, () => `$${++n}`);
    positionalTexts.set(text, positional);
  }
  return preparedRows<T>(q, positional, values);
}

/** Parameters of a statement assembled from fixed fragments: `add(value)` keeps the value and returns its placeholder (`$n`). */
export function statementParams(): { values: unknown[]; add(value: unknown): string } {
  const values: unknown[] = [];
  return {
    values,
    add(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

/**
 * Inserts many rows with one array parameter per column (`INSERT … SELECT … FROM unnest($1::uuid[],
 * …)`), for batch writers: a handful of parameters instead of one per value, so far less to build,
 * send and parse than a multi-row VALUES list, and no chunking. `columns` maps each column to its
 * SQL type; a missing value is NULL. Rows are inserted in the given order (serial columns count
 * up in that order). `returning` names columns to read back.
 */
export async function insertColumns<T = never>(
  q: Knex | Knex.Transaction,
  table: string,
  columns: Readonly<Record<string, string>>,
  rows: readonly object[],
  returning: readonly string[] = [],
): Promise<T[]> {
  if (rows.length === 0) return [];
  // The text depends only on the table and columns, so it runs prepared like the write path's other statements.
  const { sql, bindings } = insertColumnsStatement(table, columns, rows, returning);
  return preparedSql<T>(q, sql, bindings);
}

/** The statement `insertColumns` runs, for callers that embed it (e.g. in a `WITH` of a larger statement). */
export function insertColumnsStatement(
  table: string,
  columns: Readonly<Record<string, string>>,
  rows: readonly object[],
  returning: readonly string[] = [],
): { sql: string; bindings: Knex.RawBinding[] } {
  const names = Object.keys(columns);
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const vars = names.map((_n, i) => `c${i}`);
  const sql =
    `INSERT INTO ${ident(table)} (${names.map(ident).join(', ')}) SELECT ${vars.join(', ')}` +
    ` FROM unnest(${names.map((n) => `?::${columns[n]}[]`).join(', ')}) WITH ORDINALITY AS v(${vars.join(', ')}, ord) ORDER BY ord` +
    (returning.length ? ` RETURNING ${returning.map(ident).join(', ')}` : '');
  return { sql, bindings: names.map((n) => rows.map((r) => (r as Record<string, unknown>)[n] ?? null) as Knex.RawBinding) };
}

/**
 * The row an `UPDATE … RETURNING *` changed, for a row the caller has already found (and locked)
 * in the same transaction, so it exists: a missing row is a broken invariant, not a 404.
 */
export async function updatedRow<T>(query: PromiseLike<T | undefined>, what: string): Promise<T> {
  const row = await query;
  if (row === undefined) throw new Error(`${what} vanished inside the transaction that locked it`);
  return row;
}
