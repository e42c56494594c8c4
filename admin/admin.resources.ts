/**
 * The two AdminJS resources, on `@adminjs/objection`'s Resource over the app's own models. Each
 * resource reads an explicit column list, so what the panel can ever see (in pages and in the
 * `/admin/api/*` JSON, where AdminJS sends every field a record holds) is decided here and nowhere
 * else: no password hash, TOTP secret, recovery code or token column is ever selected.
 */
import { BaseRecord, type Filter } from 'adminjs';
import { Property, Resource } from '@adminjs/objection';
import type { Knex } from 'knex';
import { Model, type JSONSchema } from 'objection';
import { AuditLog } from '../server/audit/index.js';
import type { Db } from '../server/shared/db.js';
import { ROLES, User } from '../server/users/index.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ColumnKind = 'uuid' | 'text' | 'enum' | 'boolean' | 'datetime' | 'json' | 'integer';

/** One field the panel shows: its JSON type for AdminJS, the SQL that reads it, how it filters and sorts. */
export interface Column {
  kind: ColumnKind;
  /** SQL expression (a column of the table, or computed). */
  sql: string;
  enum?: readonly string[];
  /** Filter on this expression instead of `sql` (computed booleans). */
  filter?: (qb: Knex.QueryBuilder, value: boolean) => void;
  sortable?: boolean;
  isId?: boolean;
}

const jsonType: Record<ColumnKind, JSONSchema> = {
  uuid: { type: 'string', format: 'uuid' },
  text: { type: ['string', 'null'] },
  enum: { type: 'string' },
  boolean: { type: 'boolean' },
  datetime: { type: ['string', 'null'], format: 'date-time' },
  json: { type: ['string', 'null'] },
  integer: { type: 'string' },
};

/** The `static jsonSchema` of a panel model, from its columns (enums from the TypeScript constants). */
export function schemaOf(columns: Record<string, Column>): JSONSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(columns).map(([k, c]) => [k, { ...jsonType[c.kind], ...(c.enum ? { enum: [...c.enum] } : {}) }])),
  };
}

/** LIKE pattern for a user's text: `%`, `_` and `\` match themselves. */
const contains = (v: string) => `%${v.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

function dateValue(v: unknown): Date | null {
  if (typeof v !== 'string' || !v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * `@adminjs/objection`'s Resource with the fixes the panel needs: a true `count()` (2.0.0 reads
 * `count` off the array knex returns and always reports 0), filters that cannot fail on column types
 * (uuid equality, escaped case-insensitive text, boolean, date range; unknown keys ignored), sorting
 * limited to declared columns, queries on the app's own connection, and no writes at all (every
 * change goes through an audited service action).
 */
export class PanelResource extends Resource {
  constructor(
    model: typeof Model,
    private readonly db: Db,
    private readonly columns: Record<string, Column>,
    private readonly table: string,
    private readonly defaultSort: { sortBy: string; direction: 'asc' | 'desc' },
  ) {
    super(model);
  }

  override id(): string {
    return this.table;
  }

  override properties(): Property[] {
    return Object.entries(this.columns).map(
      ([name, c], i) =>
        new Property({ name, ...jsonType[c.kind], ...(c.enum ? { enum: [...c.enum] } : {}), isId: !!c.isId, isRequired: false, subProperties: [] }, i),
    );
  }

  override property(path: string): Property | null {
    return this.properties().find((p) => p.path() === path) ?? null;
  }

  private base(): Knex.QueryBuilder {
    const t = this.table;
    return this.db(`${t} as ${t}`);
  }

  private selectColumns(qb: Knex.QueryBuilder): Knex.QueryBuilder {
    return qb.select(Object.entries(this.columns).map(([name, c]) => this.db.raw(`${c.sql} as ??`, [name])));
  }

  private applyFilter(qb: Knex.QueryBuilder, filter?: Filter): void {
    if (!filter) return;
    for (const { path, value } of Object.values(filter.filters)) {
      const c = this.columns[path];
      if (!c || value === undefined || value === null || value === '') continue;
      if (c.kind === 'datetime') {
        const range = typeof value === 'object' ? (value as { from?: unknown; to?: unknown }) : {};
        const from = dateValue(range.from);
        const to = dateValue(range.to);
        if (from) qb.whereRaw(`${c.sql} >= ?`, [from]);
        if (to) qb.whereRaw(`${c.sql} <= ?`, [to]);
        continue;
      }
      if (typeof value !== 'string') continue;
      if (c.kind === 'boolean') {
        if (value !== 'true' && value !== 'false') continue;
        if (c.filter) c.filter(qb, value === 'true');
        else qb.whereRaw(`${c.sql} = ?`, [value === 'true']);
      } else if (c.kind === 'uuid') {
        // Not a uuid: matches nothing (rather than a database error).
        if (UUID_RE.test(value.trim())) qb.whereRaw(`${c.sql} = ?::uuid`, [value.trim()]);
        else qb.whereRaw('false');
      } else if (c.kind === 'enum') {
        qb.whereRaw(`${c.sql} = ?`, [value]);
      } else if (c.kind === 'integer') {
        if (/^\d{1,18}$/.test(value.trim())) qb.whereRaw(`${c.sql} = ?`, [value.trim()]);
        else qb.whereRaw('false');
      } else {
        qb.whereRaw(`${c.sql}::text ilike ? escape '\\'`, [contains(value)]);
      }
    }
  }

  override async count(filter: Filter): Promise<number> {
    const qb = this.base();
    this.applyFilter(qb, filter);
    const row = (await qb.count({ n: '*' }).first()) as { n: string | number } | undefined;
    return Number(row?.n ?? 0);
  }

  override async find(filter: Filter, options: { limit?: number | null; offset?: number | null; sort?: { sortBy?: string; direction?: 'asc' | 'desc' } } = {}): Promise<BaseRecord[]> {
    const qb = this.selectColumns(this.base());
    this.applyFilter(qb, filter);
    const sortBy = options.sort?.sortBy && this.columns[options.sort.sortBy]?.sortable !== false && this.columns[options.sort.sortBy] ? options.sort.sortBy : this.defaultSort.sortBy;
    const direction = options.sort?.direction === 'asc' || options.sort?.direction === 'desc' ? options.sort.direction : this.defaultSort.direction;
    qb.orderByRaw(`${this.columns[sortBy].sql} ${direction} nulls last`);
    if (sortBy !== this.defaultSort.sortBy) qb.orderByRaw(`${this.columns[this.defaultSort.sortBy].sql} ${this.defaultSort.direction}`);
    qb.limit(Math.min(Math.max(Number(options.limit) || 10, 1), 500));
    if (options.offset && options.offset > 0) qb.offset(options.offset);
    const rows = (await qb) as Record<string, unknown>[];
    return rows.map((r) => new BaseRecord(this.toParams(r), this));
  }

  private idColumn(): Column {
    return Object.values(this.columns).find((c) => c.isId)!;
  }

  private validId(id: string): boolean {
    return this.idColumn().kind === 'uuid' ? UUID_RE.test(id) : /^\d{1,18}$/.test(id);
  }

  override async findOne(id: string): Promise<BaseRecord | null> {
    if (!this.validId(String(id))) return null;
    const row = (await this.selectColumns(this.base()).whereRaw(`${this.idColumn().sql} = ?`, [String(id)]).first()) as Record<string, unknown> | undefined;
    return row ? new BaseRecord(this.toParams(row), this) : null;
  }

  override async findMany(ids: (string | number)[]): Promise<BaseRecord[]> {
    const valid = ids.map(String).filter((id) => this.validId(id));
    if (!valid.length) return [];
    const rows = (await this.selectColumns(this.base()).whereIn(this.db.raw(this.idColumn().sql) as unknown as string, valid)) as Record<string, unknown>[];
    return rows.map((r) => new BaseRecord(this.toParams(r), this));
  }

  /** Only the declared columns leave this class, dates as ISO strings. */
  private toParams(row: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, c] of Object.entries(this.columns)) {
      const v = row[name];
      out[name] = v instanceof Date ? v.toISOString() : c.kind === 'integer' && v != null ? (v as number | bigint | string).toString() : (v ?? null);
    }
    return out;
  }

  override create(): Promise<Record<string, unknown>> {
    return Promise.reject(new Error('the admin panel does not create records'));
  }

  override update(): Promise<Record<string, unknown>> {
    return Promise.reject(new Error('the admin panel does not edit records'));
  }

  override delete(): Promise<void> {
    return Promise.reject(new Error('the admin panel does not delete records'));
  }
}

/**
 * What the Users resource shows. Two-factor state and last login are computed; the credential
 * columns of `users` are not listed, so they are never read.
 */
export const USER_COLUMNS: Record<string, Column> = {
  id: { kind: 'uuid', sql: 'users.id', isId: true },
  email: { kind: 'text', sql: 'users.email' },
  name: { kind: 'text', sql: 'users.name' },
  role: { kind: 'enum', sql: 'users.role', enum: ROLES },
  disabled: { kind: 'boolean', sql: 'users.disabled' },
  two_factor: {
    kind: 'boolean',
    sql: '(users.totp_enabled_at is not null)',
    filter: (qb, on) => void (on ? qb.whereNotNull('users.totp_enabled_at') : qb.whereNull('users.totp_enabled_at')),
  },
  created_at: { kind: 'datetime', sql: 'users.created_at' },
  last_login_at: {
    kind: 'datetime',
    // The audit log is the record of logins (API and panel); its (user_id, seq) index serves this.
    sql: "(select max(a.at) from audit_logs a where a.user_id = users.id and a.action in ('auth.login', 'admin.login'))",
    sortable: false,
  },
  /** Set on an erased user's tombstone (GDPR): no email, name or credential is left on the row. */
  erased_at: { kind: 'datetime', sql: 'users.erased_at' },
};

/** What the Audit logs resource shows: every field of an entry; personal fields as text. */
export const AUDIT_COLUMNS: Record<string, Column> = {
  seq: { kind: 'integer', sql: 'audit_logs.seq', isId: true },
  at: { kind: 'datetime', sql: 'audit_logs.at' },
  action: { kind: 'text', sql: 'audit_logs.action' },
  user_id: { kind: 'uuid', sql: 'audit_logs.user_id' },
  actor_id: { kind: 'uuid', sql: 'audit_logs.actor_id' },
  entity_type: { kind: 'text', sql: 'audit_logs.entity_type' },
  entity_id: { kind: 'text', sql: 'audit_logs.entity_id' },
  id: { kind: 'uuid', sql: 'audit_logs.id', sortable: false },
  before: { kind: 'json', sql: 'audit_logs.before::text', sortable: false },
  after: { kind: 'json', sql: 'audit_logs.after::text', sortable: false },
  ip: { kind: 'text', sql: 'audit_logs.ip' },
  user_agent: { kind: 'text', sql: 'audit_logs.user_agent', sortable: false },
  request_id: { kind: 'text', sql: 'audit_logs.request_id', sortable: false },
  redacted_at: { kind: 'datetime', sql: 'audit_logs.redacted_at' },
  hash: { kind: 'text', sql: 'audit_logs.hash', sortable: false },
};

/** The models AdminJS is given: the app's tables, with a `jsonSchema` of exactly what the panel shows. */
export class UserPanelModel extends Model {
  static tableName = User.tableName;
  static jsonSchema = schemaOf(USER_COLUMNS);
}
export class AuditLogPanelModel extends Model {
  static tableName = AuditLog.tableName;
  static idColumn = AuditLog.idColumn;
  static jsonSchema = schemaOf(AUDIT_COLUMNS);
}

export function usersResource(db: Db): PanelResource {
  return new PanelResource(UserPanelModel, db, USER_COLUMNS, 'users', { sortBy: 'created_at', direction: 'desc' });
}

export function auditLogsResource(db: Db): PanelResource {
  // Newest first: seq is the commit-ordered insertion sequence.
  return new PanelResource(AuditLogPanelModel, db, AUDIT_COLUMNS, 'audit_logs', { sortBy: 'seq', direction: 'desc' });
}
