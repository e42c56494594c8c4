import type { Knex } from 'knex';
import type pg from 'pg';
import { sqlRows } from '../shared/db.js';

/**
 * Which tables hold a user's data, read from the catalog so a table added later is covered without
 * editing this feature: every table in `public` with a `user_id` column, plus `users` itself (the
 * profile, by `id`). Rows are selected by `user_id` only — never by another column that points at
 * users (an admin's `actor_id` on someone else's audit entry is that other user's data).
 */
export interface UserTable {
  name: string;
  /** The column whose value selects the user's rows (`user_id`; `id` for users). */
  userColumns: string[];
  /** Exported columns, in table order, with how each is read. */
  columns: { name: string; type: string }[];
  /** Primary-key columns, for a stable row order. */
  orderBy: string[];
}

/**
 * Credentials are never exported, even to their owner: tables that hold nothing but credentials
 * (refresh, reset and email tokens, recovery codes: any table named `…token…`, `…recovery…` or
 * `…secret…`) are left out whole, and so is every column named like a credential or a digest of one
 * (password, hash, secret, token, salt, TOTP/OTP, recovery, `…_enc`, encrypted, digest — the
 * audit chain's own hashes go with them). Logins' metadata stays (`auth_sessions`: when, where from,
 * which device); a session id is no credential (an access token is a signed JWT naming it).
 */
const SECRET_TABLE = /token|recovery|secret/i;
const SECRET_COLUMN = /pass(word)?|hash|secret|token|salt|totp|otp|recovery|_enc$|encrypted|digest/i;

export function isSecretColumn(column: string): boolean {
  return SECRET_COLUMN.test(column);
}

export function isCredentialTable(table: string): boolean {
  return SECRET_TABLE.test(table);
}

export async function userTables(client: pg.ClientBase): Promise<UserTable[]> {
  const cols = await client.query<{ table: string; column: string; type: string }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      ORDER BY c.relname, a.attnum`,
  );
  const pks = await client.query<{ table: string; column: string }>(
    `SELECT i.indrelid::regclass::text AS table, a.attname AS column
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
  );
  const byTable = new Map<string, { name: string; type: string }[]>();
  for (const r of cols.rows) {
    if (!byTable.has(r.table)) byTable.set(r.table, []);
    byTable.get(r.table)!.push({ name: r.column, type: r.type });
  }
  const out: UserTable[] = [];
  for (const [name, columns] of byTable) {
    const userColumns = name === 'users' ? ['id'] : columns.some((c) => c.name === 'user_id') ? ['user_id'] : [];
    if (userColumns.length === 0 || isCredentialTable(name)) continue;
    out.push({
      name,
      userColumns,
      columns: columns.filter((c) => !isSecretColumn(c.name)),
      orderBy: pks.rows.filter((p) => p.table === name).map((p) => p.column),
    });
  }
  // The profile first, then the rest by name.
  return out.sort((a, b) => (a.name === 'users' ? -1 : b.name === 'users' ? 1 : a.name.localeCompare(b.name)));
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * One JSON object per row, built in SQL. Numbers that must stay exact (numeric, bigint) leave as
 * strings, as everywhere on the wire; pairs go in chunks because json_build_object takes at most
 * 100 arguments.
 */
export function jsonRowsSql(t: UserTable): string {
  const value = (c: { name: string; type: string }) => (/^(numeric|bigint)/.test(c.type) ? `t.${quoteIdent(c.name)}::text` : `t.${quoteIdent(c.name)}`);
  const chunks: string[] = [];
  for (let i = 0; i < t.columns.length; i += 40) {
    chunks.push(`jsonb_build_object(${t.columns.slice(i, i + 40).map((c) => `'${c.name.replace(/'/g, "''")}', ${value(c)}`).join(', ')})`);
  }
  return `SELECT (${chunks.join(' || ') || "'{}'::jsonb"})::text AS j FROM ${quoteIdent(t.name)} t WHERE ${whereUser(t)}${orderBy(t)}`;
}

/** Every column as text (CSV cells), in table order. */
export function textRowsSql(t: UserTable): string {
  const cells = t.columns.map((c) => `t.${quoteIdent(c.name)}::text AS ${quoteIdent(c.name)}`).join(', ');
  return `SELECT ${cells || '1'} FROM ${quoteIdent(t.name)} t WHERE ${whereUser(t)}${orderBy(t)}`;
}

function whereUser(t: UserTable): string {
  return t.userColumns.map((c) => `t.${quoteIdent(c)} = $1`).join(' OR ');
}

function orderBy(t: UserTable): string {
  return t.orderBy.length ? ` ORDER BY ${t.orderBy.map((c) => `t.${quoteIdent(c)}`).join(', ')}` : '';
}

/** A table whose rows belong to a user, and the columns that say which user. */
export interface OwnedTable {
  name: string;
  columns: string[];
}

/**
 * Tables an erasure keeps rows of, and why. Every other table with a user column is emptied of the
 * user's rows.
 */
export const KEPT_ON_ERASE: Readonly<Record<string, string>> = {
  users: 'the tombstone: the erasure record, with no personal data',
  audit_logs: 'the hash-chained record of what happened: kept, with its personal fields redacted',
};

/**
 * Every table holding rows that belong to a user, read from the catalog so that a table added
 * later is erased without editing this feature: a column with a foreign key to `users(id)`, or a
 * column named `user_id` (e.g. `entries`, whose key goes through `transactions`). Ordered so that
 * a table comes before every table it references (children first), so deleting in this order
 * never trips a foreign key. `KEPT_ON_ERASE` tables are left out.
 */
export async function ownedTables(q: Knex | Knex.Transaction): Promise<OwnedTable[]> {
  const cols = await sqlRows<{ table: string; column: string }>(
    q,
    `SELECT c.relname AS table, a.attname AS column
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
      WHERE k.contype = 'f' AND n.nspname = 'public'
        AND k.confrelid = (SELECT u.oid FROM pg_class u JOIN pg_namespace un ON un.oid = u.relnamespace WHERE un.nspname = 'public' AND u.relname = 'users')
     UNION
     SELECT c.relname, a.attname
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attname = 'user_id'
      ORDER BY 1, 2`,
  );
  const edges = await sqlRows<{ child: string; parent: string }>(
    q,
    `SELECT DISTINCT c.relname AS child, p.relname AS parent
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND n.nspname = 'public' AND k.conrelid <> k.confrelid`,
  );
  const tables = new Map<string, string[]>();
  for (const r of cols) {
    if (r.table in KEPT_ON_ERASE) continue;
    tables.set(r.table, [...(tables.get(r.table) ?? []), r.column]);
  }
  // Children first: a table is placed once no other remaining table references it.
  const remaining = new Set(tables.keys());
  const order: string[] = [];
  while (remaining.size) {
    const next = [...remaining].sort().find((t) => !edges.some((e) => e.parent === t && e.child !== t && remaining.has(e.child)));
    // A reference cycle (none today): take the rest in name order; the hooks that ran first own such tables' order.
    const pick = next ?? [...remaining].sort()[0];
    order.push(pick);
    remaining.delete(pick);
  }
  return order.map((name) => ({ name, columns: tables.get(name)! }));
}
