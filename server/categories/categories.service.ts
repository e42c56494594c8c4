import type { Knex } from 'knex';
import type { AuditService } from '../audit/index.js';
import type { WriteContext } from '../shared/write-context.js';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, keysetPage, type KeysetPage } from '../shared/cursor.js';
import { updatedRow, type Db } from '../shared/db.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { Category, type CategoryKind } from './categories.model.js';
import type { CategoryView, CreateCategoryInput, PatchCategoryInput } from './categories.schemas.js';
import { DEFAULT_CATEGORIES } from './categories.defaults.js';

/** Files a category's transactions as uncategorised inside `trx`; returns their ids. */
export type Uncategorise = (
  trx: Knex.Transaction,
  write: WriteContext,
  categoryId: string,
) => Promise<string[]>;

export interface CategoryServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  /** The ledger's uncategorise: each moved transaction gets a version, an audit entry and events. */
  uncategorise: Uncategorise;
  /** The ledger's answer to "is any transaction filed under this category?" (categories never read its tables). */
  hasTransactions: (trx: Knex.Transaction, categoryId: string) => Promise<boolean>;
}

export function toCategoryView(c: Category): CategoryView {
  return { id: c.id, name: c.name, kind: c.kind, createdAt: new Date(c.created_at).toISOString(), updatedAt: new Date(c.updated_at).toISOString() };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; nativeError?: { code?: string } };
  return e?.code === '23505' || e?.nativeError?.code === '23505';
}

const duplicate = () => new ConflictError('You already have a category with this name.', 'category_exists');

/**
 * Creates the default categories for a user, inside the caller's transaction (registration).
 * Idempotent: names the user already has are left alone.
 */
export async function createDefaultCategories(trx: Knex.Transaction, userId: string): Promise<void> {
  await trx.raw(
    `INSERT INTO categories (user_id, name, kind) SELECT ?, d.name, d.kind FROM jsonb_to_recordset(?::jsonb) AS d(name text, kind text)
     ON CONFLICT DO NOTHING`,
    [userId, JSON.stringify(DEFAULT_CATEGORIES)],
  );
}

/**
 * The kind of the user's category `id` for a ledger write inside `trx`, or undefined when it is not
 * theirs. KEY SHARE: a concurrent category delete (which locks the row FOR UPDATE) waits for the write.
 */
export async function categoryKindForWrite(trx: Knex.Transaction, userId: string, id: string): Promise<CategoryKind | undefined> {
  const row = await trx('categories').where({ id, user_id: userId }).forKeyShare().first<{ kind: CategoryKind } | undefined>('kind');
  return row?.kind;
}

/**
 * Locks the user's category `id` FOR UPDATE (ledger writes into it, which take KEY SHARE, wait
 * until the caller commits) and returns its kind and name, or undefined when it is not theirs.
 */
export async function lockCategory(trx: Knex.Transaction, userId: string, id: string): Promise<{ kind: CategoryKind; name: string } | undefined> {
  return trx('categories').where({ id, user_id: userId }).forUpdate().first('kind', 'name');
}

/** The names of the user's categories among `ids` (for notifications and mail). */
export async function categoryNames(q: Knex | Knex.Transaction, userId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows: { id: string; name: string }[] = await q('categories').where('user_id', userId).whereIn('id', ids).select('id', 'name');
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Categories: per-user names (unique case-insensitively) of kind income or expense. */
export function createCategoryService({ db, clock, audit, uncategorise, hasTransactions }: CategoryServiceDeps) {
  return {
    /** Sorted by name (case-insensitive); the cursor is the last name, unique per user. */
    async list(userId: string, q: { limit: number; cursor?: string; kind?: CategoryKind }): Promise<KeysetPage<CategoryView>> {
      const query = Category.query(db).where('user_id', userId).orderByRaw('lower(name)').limit(q.limit + 1);
      if (q.kind) query.where('kind', q.kind);
      if (q.cursor) {
        const [after] = decodeCursor(q.cursor, [(v) => v.length <= 200]);
        query.whereRaw('lower(name) > ?', [after]);
      }
      return keysetPage(await query, q.limit, toCategoryView, (c) => [c.name.toLowerCase()]);
    },

    async get(userId: string, id: string): Promise<CategoryView> {
      const row = await Category.query(db).where({ user_id: userId, id }).first();
      if (!row) throw new NotFoundError('Category not found.');
      return toCategoryView(row);
    },

    async create(write: WriteContext, input: CreateCategoryInput): Promise<CategoryView> {
      try {
        return await db.transaction(async (trx) => {
          const now = clock.now();
          const row = await Category.query(trx)
            .insert({ user_id: write.userId, name: input.name, kind: input.kind, created_at: now, updated_at: now } as Partial<Category>)
            .returning('*');
          const view = toCategoryView(row);
          await audit.recordWrite(trx, write, { action: 'category.create', entityType: 'category', entityId: view.id, before: null, after: view });
          return view;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate();
        throw err;
      }
    },

    /** Renames, or changes the kind while no transaction is filed under the category (409 otherwise). */
    async patch(write: WriteContext, id: string, input: PatchCategoryInput): Promise<CategoryView> {
      try {
        return await db.transaction(async (trx) => {
          const found = await Category.query(trx).where({ user_id: write.userId, id }).forUpdate().first();
          if (!found) throw new NotFoundError('Category not found.');
          const before = toCategoryView(found);
          const changes: Partial<Category> = {};
          if (input.name !== undefined && input.name !== found.name) changes.name = input.name;
          if (input.kind !== undefined && input.kind !== found.kind) {
            if (await hasTransactions(trx, id)) throw new ConflictError('Transactions are filed under this category; its kind cannot change.', 'category_in_use');
            changes.kind = input.kind;
          }
          if (Object.keys(changes).length === 0) return before;
          changes.updated_at = clock.now();
          const row = await updatedRow(Category.query(trx).patch(changes).where({ id, user_id: write.userId }).returning('*').first(), `category ${id}`);
          const after = toCategoryView(row);
          await audit.recordWrite(trx, write, { action: 'category.update', entityType: 'category', entityId: id, before, after });
          return after;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate();
        throw err;
      }
    },

    /**
     * Deletes a category; its transactions stay, uncategorised (each gets a version and an event
     * through the ledger), and the audit entry names them. Lock order: the transactions first,
     * then the category row (as a PUT does), then once more for any transaction filed under the
     * category while we waited (its FK check holds a key-share lock our FOR UPDATE waits for).
     */
    async remove(write: WriteContext, id: string): Promise<void> {
      await db.transaction(async (trx) => {
        const exists = await Category.query(trx).where({ user_id: write.userId, id }).first();
        if (!exists) throw new NotFoundError('Category not found.');
        const moved = await uncategorise(trx, write, id);
        const found = await Category.query(trx).where({ user_id: write.userId, id }).forUpdate().first();
        if (!found) throw new NotFoundError('Category not found.');
        moved.push(...(await uncategorise(trx, write, id)));
        await Category.query(trx).delete().where({ id, user_id: write.userId });
        await audit.recordWrite(trx, write, {
          action: 'category.delete',
          entityType: 'category',
          entityId: id,
          before: toCategoryView(found),
          after: { uncategorisedTransactionIds: moved },
        });
      });
    },
  };
}

export type CategoryService = ReturnType<typeof createCategoryService>;
