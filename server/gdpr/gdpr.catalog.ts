import type pg from 'pg';

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
