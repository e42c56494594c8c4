import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { accountBalances, lockAccounts } from '../accounts/index.js';
import type { AuditService } from '../audit/index.js';
import type { NotificationService } from '../notifications/index.js';
import { todayIn, type Clock } from '../shared/clock.js';
import { dedupeMissing, type Convert, type MissingRate } from '../shared/convert.js';
import { keysetPage, afterCreatedCursor } from '../shared/cursor.js';
import type { Db } from '../shared/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { currencyDigits, Decimal, formatAmount, MoneyError, parsePositiveAmount } from '../shared/money.js';
import type { WriteContext } from '../shared/write-context.js';
import { netChangeByAccount, type LedgerChange, type LedgerEvent } from '../transactions/index.js';
import { userCalendar } from '../users/index.js';
import { Goal } from './goals.model.js';
import type { CreateGoalInput, GoalView, PatchGoalInput } from './goals.schemas.js';

export interface GoalServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  convert: Convert;
  notifications: NotificationService;
}

/** Days of history the pace (onTrack, projectedDate) is measured over. */
const PACE_DAYS = 90;

function target(value: string, currency: string, path: string): Decimal {
  try {
    return parsePositiveAmount(value, currency);
  } catch (e) {
    if (e instanceof MoneyError) throw new ValidationError('The request is not valid.', [{ path, message: e.message }]);
    throw e;
  }
}

/** progress = current / target with 4 decimals (rounded down), between 0 and 1. */
function progressOf(current: Decimal, targetAmount: Decimal): string {
  const p = Decimal.max(0, Decimal.min(1, current.div(targetAmount)));
  return p.toFixed(4, Decimal.ROUND_DOWN);
}

/**
 * The goal's maths on `today` (the user's date): what is still needed per month until targetDate
 * — the remainder over the calendar months left, rounded up to the currency's minor unit, at
 * least one month; the whole remainder once the date has passed; zero when reached — and the pace
 * of the last 90 days: projectedDate when it reaches the target, onTrack when its monthly average
 * (net / 3) covers requiredPerMonth.
 */
export function goalMaths(input: { targetAmount: Decimal; currentAmount: Decimal; currency: string; targetDate: string; today: string; net90: Decimal }) {
  const { targetAmount, currentAmount, currency, targetDate, today, net90 } = input;
  const remaining = Decimal.max(0, targetAmount.minus(currentAmount));
  const reached = remaining.isZero();
  const digits = currencyDigits(currency);
  let requiredPerMonth = new Decimal(0);
  if (!reached) {
    if (today > targetDate) requiredPerMonth = remaining;
    else {
      const months = Math.max(1, Math.ceil(DateTime.fromISO(targetDate).diff(DateTime.fromISO(today), 'months').months - 1e-9));
      requiredPerMonth = remaining.div(months).toDecimalPlaces(digits, Decimal.ROUND_UP);
    }
  }
  let projectedDate: string | null = null;
  if (!reached && net90.gt(0)) {
    const days = remaining.div(net90.div(PACE_DAYS)).ceil().toNumber();
    projectedDate = DateTime.fromISO(today).plus({ days }).toISODate();
  }
  const onTrack = reached || (today <= targetDate && net90.div(3).gte(requiredPerMonth));
  return { remaining, reached, requiredPerMonth, projectedDate, onTrack };
}

/**
 * Savings goals. `currentAmount` is the linked accounts' balances converted to the goal's currency
 * (rate on or before today; missing → listed and left out). `onPosted` is a ledger listener: every
 * committed balance change of a linked account publishes goal.progress for each goal it touches
 * (goal rows locked in id order, after the budgets), and reaching the target stores achievedAt and
 * a goal.achieved notification once.
 */
export function createGoalService({ db, clock, audit, convert, notifications }: GoalServiceDeps) {
  async function linksOf(q: Knex | Knex.Transaction, goalIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(goalIds.map((id) => [id, []]));
    if (goalIds.length === 0) return out;
    const rows: { goal_id: string; account_id: string }[] = await q('goal_accounts').whereIn('goal_id', goalIds).orderBy('account_id').select('goal_id', 'account_id');
    for (const r of rows) out.get(r.goal_id)!.push(r.account_id);
    return out;
  }

  /** Σ of `amounts` by account, converted to `currency` on `date`. */
  async function sumConverted(q: Knex | Knex.Transaction, amounts: { currency: string; amount: Decimal }[], currency: string, date: string) {
    let sum = new Decimal(0);
    const missing: MissingRate[] = [];
    for (const a of amounts) {
      const c = await convert(q, a.amount, a.currency, currency, date);
      if ('amount' in c) sum = sum.plus(c.amount);
      else missing.push(c.missing);
    }
    return { sum, missing };
  }

  async function currentOf(q: Knex | Knex.Transaction, g: Goal, balances: Map<string, { currency: string; balance: string }>, accountIds: string[], today: string) {
    const amounts = accountIds.flatMap((id) => {
      const b = balances.get(id);
      return b ? [{ currency: b.currency, amount: new Decimal(b.balance) }] : [];
    });
    return sumConverted(q, amounts, g.currency, today);
  }

  async function views(q: Knex | Knex.Transaction, userId: string, goals: Goal[]): Promise<GoalView[]> {
    if (goals.length === 0) return [];
    const { timeZone } = await userCalendar(q, userId);
    const today = todayIn(timeZone, clock);
    const links = await linksOf(q, goals.map((g) => g.id));
    const allIds = [...new Set([...links.values()].flat())];
    const balances = new Map((await accountBalances(q, userId, allIds)).map((a) => [a.id, a]));
    const from = DateTime.fromISO(today).minus({ days: PACE_DAYS - 1 }).toISODate()!;
    const nets = await netChangeByAccount(q, userId, allIds, from, today);
    const out: GoalView[] = [];
    for (const g of goals) {
      const ids = links.get(g.id)!;
      const current = await currentOf(q, g, balances, ids, today);
      const net = await sumConverted(
        q,
        ids.filter((id) => nets.has(id)).map((id) => ({ currency: balances.get(id)!.currency, amount: new Decimal(nets.get(id)!) })),
        g.currency,
        today,
      );
      const targetAmount = new Decimal(g.target_amount);
      const m = goalMaths({ targetAmount, currentAmount: current.sum, currency: g.currency, targetDate: g.target_date, today, net90: net.sum });
      out.push({
        id: g.id,
        name: g.name,
        targetAmount: formatAmount(targetAmount, g.currency),
        currency: g.currency,
        targetDate: g.target_date,
        accountIds: ids,
        currentAmount: formatAmount(current.sum, g.currency),
        progress: progressOf(current.sum, targetAmount),
        remaining: formatAmount(m.remaining, g.currency),
        requiredPerMonth: formatAmount(m.requiredPerMonth, g.currency),
        onTrack: m.onTrack,
        projectedDate: m.projectedDate,
        achievedAt: g.achieved_at ? new Date(g.achieved_at).toISOString() : null,
        missingRates: dedupeMissing([...current.missing, ...net.missing]),
        unlinkedAccounts: g.unlinked_accounts,
        createdAt: new Date(g.created_at).toISOString(),
        updatedAt: new Date(g.updated_at).toISOString(),
      });
    }
    return out;
  }

  /** Sets achievedAt (first time only) and stores the goal.achieved notification; true when it did. */
  async function markAchieved(trx: Knex.Transaction, g: Goal, currentAmount: Decimal): Promise<boolean> {
    const updated = await trx('goals').where({ id: g.id }).whereNull('achieved_at').update({ achieved_at: clock.now() });
    if (updated === 0) return false;
    await notifications.notify(trx, g.user_id, 'goal.achieved', {
      goalId: g.id,
      name: g.name,
      targetAmount: formatAmount(g.target_amount, g.currency),
      currentAmount: formatAmount(currentAmount, g.currency),
      currency: g.currency,
    });
    return true;
  }

  /** Checks and locks the linked accounts (ledger order: accounts first): 404 when not the user's, 409 when archived. */
  async function checkAccounts(trx: Knex.Transaction, userId: string, ids: string[]): Promise<void> {
    const found = await lockAccounts(trx, userId, ids);
    for (const id of ids) {
      const a = found.get(id);
      if (!a) throw new NotFoundError('Account not found.');
      if (a.archived) throw new ConflictError(`Account "${a.name}" is archived; it cannot serve a goal.`, 'account_archived');
    }
  }

  async function own(q: Knex | Knex.Transaction, userId: string, id: string, lock = false): Promise<Goal> {
    const query = Goal.query(q).where({ id, user_id: userId });
    if (lock) query.forUpdate();
    const row = await query.first();
    if (!row) throw new NotFoundError('Goal not found.');
    return row;
  }

  /** Re-evaluates achievement after a create or patch (a goal can start out reached). */
  async function settle(trx: Knex.Transaction, userId: string, row: Goal): Promise<GoalView> {
    let [view] = await views(trx, userId, [row]);
    if (new Decimal(view.remaining).isZero() && !row.achieved_at && (await markAchieved(trx, row, new Decimal(view.currentAmount)))) {
      [view] = await views(trx, userId, [await own(trx, userId, row.id)]);
    }
    return view;
  }

  async function onPosted(trx: Knex.Transaction, changes: readonly LedgerChange[]): Promise<LedgerEvent[]> {
    const accountIds = [...new Set(changes.flatMap((c) => c.balances.map((b) => b.accountId)))];
    if (accountIds.length === 0) return [];
    const userId = changes[0].userId;
    // One evaluation for the whole write (a batch's balances are final): one goal.progress per goal.
    const goals = await Goal.query(trx)
      .where('user_id', userId)
      .whereIn('id', trx('goal_accounts').where('user_id', userId).whereIn('account_id', accountIds).select('goal_id'))
      .orderBy('id')
      .forNoKeyUpdate();
    if (goals.length === 0) return [];
    const { timeZone } = await userCalendar(trx, userId);
    const today = todayIn(timeZone, clock);
    const links = await linksOf(trx, goals.map((g) => g.id));
    const balances = new Map((await accountBalances(trx, userId, [...new Set([...links.values()].flat())])).map((a) => [a.id, a]));
    const events: LedgerEvent[] = [];
    for (const g of goals) {
      const { sum } = await currentOf(trx, g, balances, links.get(g.id)!, today);
      const targetAmount = new Decimal(g.target_amount);
      const achieved = sum.gte(targetAmount);
      if (achieved && !g.achieved_at) await markAchieved(trx, g, sum);
      events.push({ type: 'goal.progress', data: { goalId: g.id, currentAmount: formatAmount(sum, g.currency), currency: g.currency, progress: progressOf(sum, targetAmount), achieved } });
    }
    return events;
  }

  /** Account archived or deleted: it leaves every goal, and each goal records it. */
  async function onAccountRetired(trx: Knex.Transaction, userId: string, accountId: string, reason: 'archived' | 'deleted'): Promise<void> {
    const goalIds: string[] = (await trx('goal_accounts').where({ user_id: userId, account_id: accountId }).select('goal_id')).map((r: { goal_id: string }) => r.goal_id);
    if (goalIds.length === 0) return;
    await trx('goal_accounts').where({ user_id: userId, account_id: accountId }).del();
    const entry = JSON.stringify([{ accountId, reason, at: clock.now().toISOString() }]);
    await trx('goals').whereIn('id', goalIds).update({ unlinked_accounts: trx.raw('unlinked_accounts || ?::jsonb', [entry]), updated_at: clock.now() });
  }

  return {
    onPosted,
    onAccountRetired,

    async create(write: WriteContext, input: CreateGoalInput): Promise<GoalView> {
      return db.transaction(async (trx) => {
        const currency = input.currency ?? (await userCalendar(trx, write.userId)).currency;
        const amount = target(input.targetAmount, currency, 'body.targetAmount');
        await checkAccounts(trx, write.userId, input.accountIds);
        const now = clock.now();
        const row = await Goal.query(trx)
          .insert({ user_id: write.userId, name: input.name, target_amount: amount.toFixed(), currency, target_date: input.targetDate, created_at: now, updated_at: now } as Partial<Goal>)
          .returning('*');
        await trx('goal_accounts').insert(input.accountIds.map((accountId) => ({ goal_id: row.id, account_id: accountId, user_id: write.userId })));
        const view = await settle(trx, write.userId, row);
        await audit.recordWrite(trx, write, { action: 'goal.create', entityType: 'goal', entityId: row.id, before: null, after: view });
        return view;
      });
    },

    async list(userId: string, q: { limit: number; cursor?: string }): Promise<{ data: GoalView[]; nextCursor: string | null }> {
      const query = Goal.query(db).where('user_id', userId);
      afterCreatedCursor(query, q.cursor);
      const rows = await query.orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(q.limit + 1);
      const page = keysetPage(rows, q.limit, (r) => r, (r) => [new Date(r.created_at).toISOString(), r.id]);
      return { data: await views(db, userId, page.data), nextCursor: page.nextCursor };
    },

    async get(userId: string, id: string): Promise<GoalView> {
      const [view] = await views(db, userId, [await own(db, userId, id)]);
      return view;
    },

    /** Renames, moves the target or its date, or replaces the linked accounts; achievedAt is kept. */
    async patch(write: WriteContext, id: string, input: PatchGoalInput): Promise<GoalView> {
      return db.transaction(async (trx) => {
        if (input.accountIds) await checkAccounts(trx, write.userId, input.accountIds);
        const found = await own(trx, write.userId, id, true);
        const [before] = await views(trx, write.userId, [found]);
        const changes: Partial<Goal> = {};
        if (input.name !== undefined) changes.name = input.name;
        if (input.targetAmount !== undefined) changes.target_amount = target(input.targetAmount, found.currency, 'body.targetAmount').toFixed();
        if (input.targetDate !== undefined) changes.target_date = input.targetDate;
        if (input.accountIds) {
          await trx('goal_accounts').where({ goal_id: id }).del();
          await trx('goal_accounts').insert(input.accountIds.map((accountId) => ({ goal_id: id, account_id: accountId, user_id: write.userId })));
        }
        if (Object.keys(changes).length === 0 && !input.accountIds) return before;
        changes.updated_at = clock.now();
        const row = (await Goal.query(trx).patch(changes).where({ id, user_id: write.userId }).returning('*').first()) as unknown as Goal;
        const after = await settle(trx, write.userId, row);
        await audit.recordWrite(trx, write, { action: 'goal.update', entityType: 'goal', entityId: id, before, after });
        return after;
      });
    },

    async remove(write: WriteContext, id: string): Promise<void> {
      await db.transaction(async (trx) => {
        const found = await own(trx, write.userId, id, true);
        const [before] = await views(trx, write.userId, [found]);
        await Goal.query(trx).delete().where({ id, user_id: write.userId });
        await audit.recordWrite(trx, write, { action: 'goal.delete', entityType: 'goal', entityId: id, before, after: null });
      });
    },
  };
}

export type GoalService = ReturnType<typeof createGoalService>;
