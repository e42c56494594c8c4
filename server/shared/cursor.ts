import { ValidationError } from './errors.js';

/**
 * Opaque keyset cursors: the sort key of the last row of a page, as base64url JSON. Clients must
 * treat them as opaque; a cursor that does not decode to the expected shape is a 400.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor into `arity` strings, each checked by `checks[i]`; throws a 400 otherwise. */
export function decodeCursor(cursor: string, checks: ((v: string) => boolean)[]): string[] {
  const bad = () => new ValidationError('The request is not valid.', [{ path: 'query.cursor', message: 'is not a cursor this list issued' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== checks.length) throw bad();
  const out = parsed.map(String);
  if (!parsed.every((v, i) => (typeof v === 'string' || typeof v === 'number') && checks[i](String(v)))) throw bad();
  return out;
}

export const isUuid = (v: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
export const isDateString = (v: string): boolean => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};
export const isDigits = (v: string): boolean => /^\d{1,19}$/.test(v);
export const isIsoInstant = (v: string): boolean => /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(v) && !Number.isNaN(Date.parse(v));

/** A page of a keyset list: the items and the cursor of the next page (null on the last one). */
export interface KeysetPage<V> {
  data: V[];
  nextCursor: string | null;
}

/**
 * Turns rows fetched with `LIMIT limit + 1` into a page: the extra row only says that there is
 * more, and the next cursor is the sort key of the last row shown.
 */
export function keysetPage<R, V>(rows: R[], limit: number, view: (row: R) => V, key: (row: R) => readonly (string | number)[]): KeysetPage<V> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return { data: shown.map(view), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null };
}

/** The (created_at, id) key of a cursor `keysetPage` issued for that order (a 400 otherwise); undefined without a cursor. */
export function createdCursorKey(cursor: string | undefined): [at: string, id: string] | undefined {
  if (!cursor) return undefined;
  const [at, id] = decodeCursor(cursor, [isIsoInstant, isUuid]);
  return [at, id];
}

/**
 * The keyset step of a list ordered by (created_at, id): keeps the rows after the cursor's key.
 * The cursor is the one `keysetPage` issued for that order (a 400 otherwise).
 */
export function afterCreatedCursor(query: { whereRaw(sql: string, bindings: readonly unknown[]): unknown }, cursor: string | undefined): void {
  const key = createdCursorKey(cursor);
  if (key) query.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', key);
}
