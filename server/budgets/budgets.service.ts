import type { Knex } from 'knex';
import type { AuditService } from '../audit/index.js';
import { categoryNames, lockCategory } from '../categories/index.js';
import type { NotificationService } from '../notifications/index.js';
import { todayIn, type Clock } from '../shared/clock.js';
import { dedupeMissing, type Convert, type MissingRate } from '../shared/convert.js';
import { keysetPage, afterCreatedCursor } from '../shared/cursor.js';
import { sqlRows, type Db } from '../shared/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { Decimal, formatAmount, MoneyError, parsePositiveAmount } from '../shared/money.js';
import type { WriteContext } from '../shared/write-context.js';
import { lockCategoryExpenses, type LedgerChange, type LedgerEvent, type LedgerSide } from '../transactions/index.js';
import { userCalendar } from '../users/index.js';
import { Budget } from './budgets.model.js';
import { periodEndOf, periodStartOf, shiftPeriod, type BudgetPeriod } from './budgets.periods.js';
import type { BudgetPeriodView, BudgetView, CreateBudgetInput, PatchBudgetInput } from './budgets.schemas.js';

export const DEFAULT_THRESHOLDS = ['0.8', '1'];

export interface BudgetServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  /** The rates feature's conversion (rate on or before the date; missing → reported, never 1). */
  convert: Convert;
  notifications: NotificationService;
}

type Totals = Map<string, Decimal>;

interface Spent {
  spent: Decimal;
  missingRates: MissingRate[];
}

const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; nativeError?: { code?: string } };
  return e?.code === '23505' || e?.nativeError?.code === '23505';
};

function limitAmount(value: string, currency: string, path: string): Decimal {
  try {
    return parsePositiveAmount(value, currency);
  } catch (e) {
    if (e instanceof MoneyError) throw new ValidationError('The request is not valid.', [{ path, message: e.message }]);
    throw e;
  }
}

/** spent / amount with 4 decimals, rounded down (so "1.0000" means the limit is really reached). */
const progressOf = (spent: Decimal, amount: Decimal) => spent.div(amount).toFixed(4, Decimal.ROUND_DOWN);

/** What an expense side of a ledger write adds to one budget's totals: key `periodStart|currency`. */
function addSide(into: Map<string, Decimal>, b: Budget, side: LedgerSide | null, sign: 1 | -1): void {
  if (!side || side.type !== 'expense' || side.categoryId !== b.category_id) return;
  const key = `${periodStartOf(side.date, b.period)}|${side.currency}`;
  into.set(key, (into.get(key) ?? new Decimal(0)).plus(sign === 1 ? side.amount : side.amount.neg()));
}

/**
 * Budgets. `spent` is never a ledger scan: `budget_totals` holds the running sum per budget, period
 * and currency, moved by `onPosted` inside every ledger write's transaction (the budget rows are
 * locked FOR NO KEY UPDATE in id order, after the ledger's accounts and category — the order in
 * transactions.service.ts). Foreign-currency totals are converted when read, with the rate on or
 * before the period's last day (or today, in the current period); a missing rate is listed, and
 * that currency left out.
 */
export function createBudgetService({ db, clock, audit, convert, notifications }: BudgetServiceDeps) {
  /** The day whose rate converts a period's totals: its last day, or today while it runs. */
  const rateDate = (start: string, period: BudgetPeriod, today: string) => {
    const end = periodEndOf(start, period);
    return end < today ? end : today;
  };

  async function spentOf(q: Knex | Knex.Transaction, b: Budget, totals: Totals, date: string): Promise<Spent> {
    let spent = new Decimal(0);
    const missing: MissingRate[] = [];
    for (const [currency, total] of [...totals].sort(([a], [c]) => a.localeCompare(c))) {
      if (total.isZero()) continue;
      const c = await convert(q, total, currency, b.currency, date);
      if ('amount' in c) spent = spent.plus(c.amount);
      else missing.push(c.missing);
    }
    return { spent, missingRates: dedupeMissing(missing) };
  }

  async function totalsFor(q: Knex | Knex.Transaction, pairs: { budgetId: string; periodStart: string }[]): Promise<Map<string, Totals>> {
    const out = new Map<string, Totals>();
    if (pairs.length === 0) return out;
    const rows: { budget_id: string; period_start: string; currency: string; total: string }[] = await q('budget_totals')
      .whereIn(['budget_id', 'period_start'], pairs.map((p) => [p.budgetId, p.periodStart]))
      .select('budget_id', 'period_start', 'currency', 'total');
    for (const r of rows) {
      const key = `${r.budget_id}|${r.period_start}`;
      const m = out.get(key) ?? new Map<string, Decimal>();
      m.set(r.currency, new Decimal(r.total));
      out.set(key, m);
    }
    return out;
  }

  async function periodView(q: Knex | Knex.Transaction, b: Budget, start: string, totals: Totals | undefined, today: string): Promise<BudgetPeriodView> {
    const amount = new Decimal(b.amount);
    const { spent, missingRates } = await spentOf(q, b, totals ?? new Map<string, Decimal>(), rateDate(start, b.period, today));
    return {
      periodStart: start,
      periodEnd: periodEndOf(start, b.period),
      amount: formatAmount(amount, b.currency),
      spent: formatAmount(spent, b.currency),
      remaining: formatAmount(amount.minus(spent), b.currency),
      progress: progressOf(spent, amount),
      missingRates,
    };
  }

  /** The views of `budgets` in their current periods (one totals query for all of them). */
  async function views(q: Knex | Knex.Transaction, userId: string, budgets: Budget[]): Promise<BudgetView[]> {
    if (budgets.length === 0) return [];
    const { timeZone } = await userCalendar(q, userId);
    const today = todayOf(timeZone);
    const starts = budgets.map((b) => periodStartOf(today, b.period));
    const totals = await totalsFor(q, budgets.map((b, i) => ({ budgetId: b.id, periodStart: starts[i] })));
    const out: BudgetView[] = [];
    for (const [i, b] of budgets.entries()) {
      const p = await periodView(q, b, starts[i], totals.get(`${b.id}|${starts[i]}`), today);
      out.push({
        id: b.id,
        categoryId: b.category_id,
        amount: p.amount,
        currency: b.currency,
        period: b.period,
        thresholds: b.thresholds.map((t) => new Decimal(t).toString()),
        periodStart: p.periodStart,
        periodEnd: p.periodEnd,
        spent: p.spent,
        remaining: p.remaining,
        progress: p.progress,
        missingRates: p.missingRates,
        createdAt: new Date(b.created_at).toISOString(),
        updatedAt: new Date(b.updated_at).toISOString(),
      });
    }
    return out;
  }

  const todayOf = (timeZone: string) => todayIn(timeZone, clock);

  async function own(q: Knex | Knex.Transaction, userId: string, id: string, lock = false): Promise<Budget> {
    const query = Budget.query(q).where({ id, user_id: userId });
    if (lock) query.forUpdate();
    const row = await query.first();
    if (!row) throw new NotFoundError('Budget not found.');
    return row;
  }

  /**
   * The ledger listener: moves the running totals of the user's budgets on the categories this
   * write touches, and raises each threshold crossed upward in a current period once (the unique
   * key (budget, period, threshold) holds when concurrent writers cross it together; the budget
   * row lock orders them). Returns the budget.alert events for the ledger to publish.
   */
  async function onPosted(trx: Knex.Transaction, changes: readonly LedgerChange[]): Promise<LedgerEvent[]> {
    if (changes.length === 0) return [];
    const userId = changes[0].userId;
    const sides = changes.flatMap((c) => [c.before, c.after]);
    const categories = [...new Set(sides.filter((s) => s?.type === 'expense' && s.categoryId).map((s) => s!.categoryId!))];
    if (categories.length === 0) return [];
    const budgets = await Budget.query(trx).where('user_id', userId).whereIn('category_id', categories).orderBy('id').forNoKeyUpdate();
    if (budgets.length === 0) return [];
    const { timeZone } = await userCalendar(trx, userId);
    const today = todayOf(timeZone);
    const events: LedgerEvent[] = [];
    for (const b of budgets) {
      // The whole write's net change per (period, currency): a batch crossing a threshold alerts once.
      const deltas = new Map<string, Decimal>();
      for (const c of changes) {
        addSide(deltas, b, c.before, -1);
        addSide(deltas, b, c.after, 1);
      }
      const current = periodStartOf(today, b.period);
      let risesNow = false;
      let after: Totals | undefined;
      for (const [key, delta] of deltas) {
        if (delta.isZero()) continue;
        const [periodStart, currency] = key.split('|');
        if (periodStart === current && delta.gt(0)) risesNow = true;
        const upsert = `INSERT INTO budget_totals (budget_id, period_start, currency, total) VALUES (?, ?, ?, ?::numeric)
           ON CONFLICT (budget_id, period_start, currency) DO UPDATE SET total = budget_totals.total + EXCLUDED.total`;
        if (periodStart !== current) {
          await trx.raw(upsert, [b.id, periodStart, currency, delta.toFixed()]);
          continue;
        }
        // In the current period, the same statement returns the period's totals after the change
        // (the other currencies as this statement sees them, which includes earlier statements).
        const rows = await sqlRows<{ currency: string; total: string }>(
          trx,
          `WITH up AS (${upsert} RETURNING currency, total)
           SELECT currency, total::text AS total FROM up
           UNION ALL SELECT currency, total::text FROM budget_totals WHERE budget_id = ? AND period_start = ? AND currency <> ?`,
          [b.id, periodStart, currency, delta.toFixed(), b.id, periodStart, currency],
        );
        after = new Map(rows.map((r) => [r.currency, new Decimal(r.total)]));
      }
      if (!risesNow || !after) continue;
      // Alerts are decided now, with the rates known now; a later rate never raises or withdraws one.
      const before = new Map(after);
      for (const [key, delta] of deltas) {
        const [periodStart, currency] = key.split('|');
        if (periodStart === current) before.set(currency, (before.get(currency) ?? new Decimal(0)).minus(delta));
      }
      const date = rateDate(current, b.period, today);
      const was = (await spentOf(trx, b, before, date)).spent;
      const now = (await spentOf(trx, b, after, date)).spent;
      const amount = new Decimal(b.amount);
      for (const t of b.thresholds) {
        const limit = amount.times(t);
        if (!(was.lt(limit) && now.gte(limit))) continue;
        const rows = await sqlRows<{ id: string }>(
          trx,
          `INSERT INTO budget_alerts (budget_id, user_id, period_start, threshold, spent, created_at) VALUES (?, ?, ?, ?::numeric, ?::numeric, ?)
           ON CONFLICT (budget_id, period_start, threshold) DO NOTHING RETURNING id`,
          [b.id, userId, current, t, now.toFixed(), clock.now()],
        );
        if (rows.length === 0) continue;
        const data = {
          budgetId: b.id,
          categoryId: b.category_id,
          period: b.period,
          periodStart: current,
          spent: formatAmount(now, b.currency),
          amount: formatAmount(amount, b.currency),
          currency: b.currency,
          threshold: new Decimal(t).toString(),
        };
        const names = await categoryNames(trx, userId, [b.category_id]);
        await notifications.notify(trx, userId, 'budget.alert', { ...data, categoryName: names.get(b.category_id) ?? null });
        events.push({ type: 'budget.alert', data });
      }
    }
    return events;
  }

  return {
    onPosted,

    /**
     * Creates a budget and builds its running totals from the ledger once. Lock order as a
     * category delete: the category's expenses (FOR SHARE), then the category (FOR UPDATE, so no
     * write files a new expense under it until this commits), then its expenses again.
     */
    async create(write: WriteContext, input: CreateBudgetInput): Promise<BudgetView> {
      try {
        return await db.transaction(async (trx) => {
          const { currency } = await userCalendar(trx, write.userId);
          const amount = limitAmount(input.amount, currency, 'body.amount');
          await lockCategoryExpenses(trx, write.userId, input.categoryId);
          const category = await lockCategory(trx, write.userId, input.categoryId);
          if (!category) throw new NotFoundError('Category not found.');
          if (category.kind !== 'expense') {
            throw new ValidationError('The request is not valid.', [{ path: 'body.categoryId', message: 'is an income category; a budget limits an expense category' }]);
          }
          const expenses = await lockCategoryExpenses(trx, write.userId, input.categoryId);
          const now = clock.now();
          const row = await Budget.query(trx)
            .insert({
              user_id: write.userId,
              category_id: input.categoryId,
              period: input.period,
              amount: amount.toFixed(),
              currency,
              thresholds: input.thresholds ?? DEFAULT_THRESHOLDS,
              created_at: now,
              updated_at: now,
            } as Partial<Budget>)
            .returning('*');
          const totals = new Map<string, Decimal>();
          for (const e of expenses) {
            const key = `${periodStartOf(e.date, input.period)}|${e.currency}`;
            totals.set(key, (totals.get(key) ?? new Decimal(0)).plus(e.amount));
          }
          if (totals.size > 0) {
            await trx('budget_totals').insert(
              [...totals].map(([key, total]) => {
                const [periodStart, cur] = key.split('|');
                return { budget_id: row.id, period_start: periodStart, currency: cur, total: total.toFixed() };
              }),
            );
          }
          const [view] = await views(trx, write.userId, [row]);
          await audit.recordWrite(trx, write, { action: 'budget.create', entityType: 'budget', entityId: row.id, before: null, after: view });
          return view;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError('You already have a budget for this category and period.', 'budget_exists');
        throw err;
      }
    },

    /** Oldest first; the cursor is the last (createdAt, id). */
    async list(userId: string, q: { limit: number; cursor?: string }): Promise<{ data: BudgetView[]; nextCursor: string | null }> {
      const query = Budget.query(db).where('user_id', userId);
      afterCreatedCursor(query, q.cursor);
      const rows = await query.orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(q.limit + 1);
      const page = keysetPage(rows, q.limit, (r) => r, (r) => [new Date(r.created_at).toISOString(), r.id]);
      return { data: await views(db, userId, page.data), nextCursor: page.nextCursor };
    },

    async get(userId: string, id: string): Promise<BudgetView> {
      const [view] = await views(db, userId, [await own(db, userId, id)]);
      return view;
    },

    /** Past periods for a chart, oldest first, the current one last. */
    async history(userId: string, id: string, periods: number) {
      const b = await own(db, userId, id);
      const { timeZone } = await userCalendar(db, userId);
      const today = todayOf(timeZone);
      const current = periodStartOf(today, b.period);
      const starts = Array.from({ length: periods }, (_, i) => shiftPeriod(current, b.period, i - periods + 1));
      const totals = await totalsFor(db, starts.map((s) => ({ budgetId: b.id, periodStart: s })));
      const data: BudgetPeriodView[] = [];
      for (const s of starts) data.push(await periodView(db, b, s, totals.get(`${b.id}|${s}`), today));
      return { budgetId: b.id, period: b.period, currency: b.currency, data };
    },

    /** Changes the limit or the thresholds (a new limit raises no alert by itself; the next expense does). */
    async patch(write: WriteContext, id: string, input: PatchBudgetInput): Promise<BudgetView> {
      return db.transaction(async (trx) => {
        const found = await own(trx, write.userId, id, true);
        const [before] = await views(trx, write.userId, [found]);
        const changes: Partial<Budget> = {};
        if (input.amount !== undefined) changes.amount = limitAmount(input.amount, found.currency, 'body.amount').toFixed();
        if (input.thresholds !== undefined) changes.thresholds = input.thresholds;
        if (Object.keys(changes).length === 0) return before;
        changes.updated_at = clock.now();
        const row = (await Budget.query(trx).patch(changes).where({ id, user_id: write.userId }).returning('*').first()) as unknown as Budget;
        const [after] = await views(trx, write.userId, [row]);
        await audit.recordWrite(trx, write, { action: 'budget.update', entityType: 'budget', entityId: id, before, after });
        return after;
      });
    },

    /** Deletes the budget with its totals and alert records (its notifications stay). */
    async remove(write: WriteContext, id: string): Promise<void> {
      await db.transaction(async (trx) => {
        const found = await own(trx, write.userId, id, true);
        const [before] = await views(trx, write.userId, [found]);
        await Budget.query(trx).delete().where({ id, user_id: write.userId });
        await audit.recordWrite(trx, write, { action: 'budget.delete', entityType: 'budget', entityId: id, before, after: null });
      });
    },
  };
}

export type BudgetService = ReturnType<typeof createBudgetService>;
