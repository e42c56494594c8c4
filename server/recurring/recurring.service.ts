import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { lockAccounts } from '../accounts/index.js';
import type { AuditService } from '../audit/index.js';
import { categoryKindForWrite } from '../categories/index.js';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, isIsoInstant, isUuid, keysetPage } from '../shared/cursor.js';
import type { Db } from '../shared/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { idempotent, type IdempotentResult } from '../shared/idempotency.js';
import { formatAmount } from '../shared/money.js';
import { systemWrite, type WriteContext } from '../shared/write-context.js';
import type { TransactionInput, TransactionService, TransactionView } from '../transactions/index.js';
import { nthDate, plusYears, todayInZone } from './recurring.calendar.js';
import { RecurringRule, type EndedReason } from './recurring.model.js';
import type { CreateRuleInput, ListRulesQuery, PatchRuleInput, RuleView } from './recurring.schemas.js';

/** How far back a rule may start: bounds the catch-up a single request can cause. */
export const MAX_CATCH_UP_YEARS = 10;

/**
 * Called inside the transaction that ends a rule on the user's behalf (account archived, category
 * deleted), so the user can be told. The notifications feature plugs in here (`recurring.stopped`).
 */
export type RuleStoppedHook = (trx: Knex.Transaction, userId: string, payload: { recurringId: string; reason: EndedReason; ruleView: RuleView }) => Promise<void>;

export interface RecurringServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  /** The ledger's write path: every occurrence is an ordinary transaction with `recurringId`. */
  ledger: Pick<TransactionService, 'createInTrx' | 'createSeriesInTrx'>;
  /** The user's IANA time zone (owned by the users feature); rejects for an unknown user. */
  timeZoneOf: (userId: string) => Promise<string>;
  onStopped?: RuleStoppedHook;
  /** Rules swept at once (different users in parallel; one user's rules one after another). */
  sweepConcurrency?: number;
}

/** The rule's transaction template as stored, from the ledger's check of it (create and PATCH alike). */
function templateColumns(probe: TransactionView) {
  return {
    account_id: probe.accountId,
    currency: probe.currency,
    amount: probe.amount,
    to_account_id: probe.toAccountId,
    to_currency: probe.toCurrency,
    to_amount: probe.toAmount,
    category_id: probe.categoryId,
    category_required: probe.categoryId !== null,
    notes: probe.notes,
  };
}

export function toRuleView(r: RecurringRule): RuleView {
  return {
    id: r.id,
    accountId: r.account_id,
    type: r.type,
    amount: formatAmount(r.amount, r.currency),
    currency: r.currency,
    categoryId: r.category_id,
    notes: r.notes,
    toAccountId: r.to_account_id,
    toAmount: r.to_amount === null || r.to_currency === null ? null : formatAmount(r.to_amount, r.to_currency),
    toCurrency: r.to_currency,
    frequency: r.frequency,
    interval: r.interval,
    startDate: r.start_date,
    endDate: r.end_date,
    count: r.count,
    status: r.status,
    nextDate: r.next_date,
    occurrencesCreated: r.occurrences_created,
    endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
    endedReason: r.ended_reason,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** The date of occurrence `index` (≥ anchor_index) of a rule. */
export function occurrenceDate(r: Pick<RecurringRule, 'anchor_date' | 'anchor_index' | 'frequency' | 'interval'>, index: number): string {
  return nthDate(r.anchor_date, r.frequency, r.interval, index - r.anchor_index);
}

/** Where the series stands after `index` occurrences: the next date, or why it is finished. */
function progressAt(r: Pick<RecurringRule, 'anchor_date' | 'anchor_index' | 'frequency' | 'interval' | 'count' | 'end_date'>, index: number): { nextDate: string } | { finished: EndedReason } {
  if (r.count !== null && index >= r.count) return { finished: 'count_reached' };
  const d = occurrenceDate(r, index);
  if (r.end_date !== null && d > r.end_date) return { finished: 'end_date_passed' };
  return { nextDate: d };
}

function templateOf(r: RecurringRule, date: string): TransactionInput {
  return {
    accountId: r.account_id!,
    type: r.type,
    amount: formatAmount(r.amount, r.currency),
    date,
    categoryId: r.category_id,
    notes: r.notes,
    toAccountId: r.to_account_id,
    toAmount: r.to_amount === null || r.to_currency === null ? null : formatAmount(r.to_amount, r.to_currency),
  };
}

/** Thrown to roll back a dry run's savepoint; recognised by identity. */
const DRY_RUN = new Error('dry run');
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Recurring rules. Invariants:
 * - Every occurrence dated today or earlier (user's time zone) of an active rule exists, once:
 *   a (rule, date) row, unique, written in the same database transaction as its ledger transaction
 *   and the rule's progress. Whoever holds the rule's row lock (create, PATCH, DELETE, a sweep)
 *   is the only one advancing it; sweeps skip rules locked by someone else.
 * - Lock order, the same everywhere: rule → accounts (id order) → category → audit chain → events.
 */
export function createRecurringService(deps: RecurringServiceDeps) {
  const { db, clock, audit, ledger, logger } = deps;

  async function todayFor(userId: string): Promise<string> {
    return todayInZone(clock.now(), await deps.timeZoneOf(userId));
  }

  /**
   * Runs the ledger's own checks (ownership → 404, archived → 409, precision/kind/toAmount → 400)
   * on the template by creating one transaction in a savepoint that is always rolled back.
   */
  async function checkTemplate(trx: Knex.Transaction, wc: WriteContext, input: TransactionInput): Promise<TransactionView> {
    let probe: TransactionView | undefined;
    try {
      await trx.transaction(async (sp) => {
        probe = await ledger.createInTrx(sp, wc, input);
        throw DRY_RUN;
      });
    } catch (e) {
      if (e !== DRY_RUN) throw e;
    }
    return probe!;
  }

  async function end(trx: Knex.Transaction, wc: WriteContext, r: RecurringRule, reason: EndedReason): Promise<RecurringRule> {
    const before = toRuleView(r);
    const now = clock.now();
    const ended = (await RecurringRule.query(trx)
      .patch({ status: 'ended', ended_reason: reason, ended_at: now, next_date: null, updated_at: now } as Partial<RecurringRule>)
      .where({ id: r.id })
      .returning('*')
      .first()) as unknown as RecurringRule;
    const after = toRuleView(ended);
    await audit.recordWrite(trx, wc, { action: reason === 'deleted' ? 'recurring.delete' : 'recurring.end', entityType: 'recurring_rule', entityId: r.id, before, after });
    if (reason === 'account_archived' || reason === 'category_deleted') await deps.onStopped?.(trx, r.user_id, { recurringId: r.id, reason, ruleView: after });
    return ended;
  }

  /**
   * Creates every due occurrence (dated ≤ today) of the locked rule `r`, in `trx`, and moves its
   * progress; ends it when the series is finished or its account/category is gone. One ledger
   * transaction (audit entry + events) per occurrence, all in the caller's database transaction.
   */
  async function catchUp(trx: Knex.Transaction, r: RecurringRule, today: string): Promise<RecurringRule> {
    if (r.status !== 'active' || r.next_date === null || r.next_date > today) return r;
    const wc = systemWrite(r.user_id);
    if (!r.account_id || (r.type === 'transfer' && !r.to_account_id)) return end(trx, wc, r, 'account_archived');
    if (r.category_required && !r.category_id) return end(trx, wc, r, 'category_deleted');
    const accounts = await lockAccounts(trx, r.user_id, [r.account_id, ...(r.to_account_id ? [r.to_account_id] : [])]);
    for (const id of [r.account_id, r.to_account_id]) {
      if (id && (!accounts.get(id) || accounts.get(id)!.archived)) return end(trx, wc, r, 'account_archived');
    }
    if (r.category_id && !(await categoryKindForWrite(trx, r.user_id, r.category_id))) return end(trx, wc, r, 'category_deleted');

    const dates: string[] = [];
    let index = r.next_index;
    let state = progressAt(r, index);
    while ('nextDate' in state && state.nextDate <= today) {
      dates.push(state.nextDate);
      index++;
      state = progressAt(r, index);
    }
    // The unique (rule, date) row is the exactly-once guard; only dates claimed here get a transaction.
    const claimed: { occurrence_date: string }[] = dates.length
      ? await trx('recurring_occurrences')
          .insert(dates.map((d) => ({ rule_id: r.id, occurrence_date: d, user_id: r.user_id, created_at: clock.now() })))
          .onConflict(['rule_id', 'occurrence_date'])
          .ignore()
          .returning('occurrence_date')
      : [];
    const { date: _date, ...template } = templateOf(r, r.next_date);
    const [created] = await ledger.createSeriesInTrx(trx, wc, [{ template, dates: claimed.map((c) => c.occurrence_date).sort(), recurringId: r.id }]);
    const links: [string, string][] = created.map((tx) => [tx.date, tx.id]);
    if (links.length) {
      await trx.raw(
        `UPDATE recurring_occurrences o SET transaction_id = v.tid
           FROM unnest(?::date[], ?::uuid[]) AS v(d, tid)
          WHERE o.rule_id = ? AND o.occurrence_date = v.d`,
        [links.map((l) => l[0]), links.map((l) => l[1]), r.id],
      );
    }
    const now = clock.now();
    const moved = (await RecurringRule.query(trx)
      .patch({
        next_index: index,
        occurrences_created: r.occurrences_created + claimed.length,
        next_date: 'nextDate' in state ? state.nextDate : null,
        updated_at: now,
        ...('finished' in state ? { status: 'ended', ended_reason: state.finished, ended_at: now } : {}),
      } as Partial<RecurringRule>)
      .where({ id: r.id })
      .returning('*')
      .first()) as unknown as RecurringRule;
    if ('finished' in state) {
      await audit.recordWrite(trx, wc, { action: 'recurring.end', entityType: 'recurring_rule', entityId: r.id, before: toRuleView(r), after: toRuleView(moved) });
    }
    return moved;
  }

  async function lockOwn(trx: Knex.Transaction, userId: string, id: string): Promise<RecurringRule> {
    const r = await RecurringRule.query(trx).where({ id, user_id: userId }).forUpdate().first();
    if (!r) throw new NotFoundError('Recurring rule not found.');
    return r;
  }

  /** Sweeps one rule in its own transaction; skips it when another transaction holds it. Returns occurrences created. */
  async function sweepRule(id: string, today: string): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction(async (trx) => {
          const r = await RecurringRule.query(trx).where({ id }).forUpdate().skipLocked().first();
          if (!r || r.status !== 'active') return 0;
          const after = await catchUp(trx, r, today);
          return after.occurrences_created - r.occurrences_created;
        });
      } catch (err) {
        // A deadlock/serialisation failure with a user's concurrent write (e.g. deleting the
        // category the rule uses) rolled this rule back whole; try it again.
        const code = (err as { code?: string }).code;
        if (attempt < 3 && code && RETRYABLE.has(code)) continue;
        throw err;
      }
    }
  }

  return {
    catchUp,

    /** POST /recurring: the rule, and at once every occurrence dated up to today. */
    async create(wc: WriteContext, input: CreateRuleInput, idempotencyKey: string | undefined): Promise<IdempotentResult<RuleView>> {
      const today = await todayFor(wc.userId);
      if (input.startDate < plusYears(today, -MAX_CATCH_UP_YEARS)) {
        throw new ValidationError('The request is not valid.', [{ path: 'body.startDate', message: `must be at most ${MAX_CATCH_UP_YEARS} years back` }]);
      }
      return db.transaction((trx) =>
        idempotent(trx, clock, { userId: wc.userId, scope: 'POST /recurring', key: idempotencyKey, request: input }, async () => {
          const probe = await checkTemplate(trx, wc, {
            accountId: input.accountId,
            type: input.type,
            amount: input.amount,
            date: input.startDate,
            categoryId: input.categoryId,
            notes: input.notes,
            toAccountId: input.toAccountId,
            toAmount: input.toAmount,
          });
          const now = clock.now();
          const inserted = await RecurringRule.query(trx)
            .insert({
              user_id: wc.userId,
              type: input.type,
              ...templateColumns(probe),
              frequency: input.frequency,
              interval: input.interval,
              start_date: input.startDate,
              end_date: input.endDate ?? null,
              count: input.count ?? null,
              anchor_date: input.startDate,
              anchor_index: 0,
              next_index: 0,
              next_date: input.startDate,
              occurrences_created: 0,
              status: 'active',
              created_at: now,
              updated_at: now,
            } as Partial<RecurringRule>)
            .returning('*');
          await audit.recordWrite(trx, wc, { action: 'recurring.create', entityType: 'recurring_rule', entityId: inserted.id, before: null, after: toRuleView(inserted) });
          return toRuleView(await catchUp(trx, inserted, today));
        }),
      );
    },

    async get(userId: string, id: string): Promise<RuleView> {
      const r = await RecurringRule.query(db).where({ id, user_id: userId }).first();
      if (!r) throw new NotFoundError('Recurring rule not found.');
      return toRuleView(r);
    },

    /** Newest first; active rules unless `status=ended`. */
    async list(userId: string, q: ListRulesQuery): Promise<{ data: RuleView[]; nextCursor: string | null }> {
      const query = RecurringRule.query(db).where({ user_id: userId, status: q.status });
      if (q.cursor) {
        const [at, id] = decodeCursor(q.cursor, [isIsoInstant, isUuid]);
        query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [at, id]);
      }
      const rows = await query.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit + 1);
      return keysetPage(rows, q.limit, toRuleView, (r) => [new Date(r.created_at).toISOString(), r.id]);
    },

    /**
     * PATCH: occurrences up to today are created first under the old template and stay as they
     * are; the change applies from the next occurrence on. A new cadence starts at that next date.
     */
    async patch(wc: WriteContext, id: string, input: PatchRuleInput): Promise<RuleView> {
      const today = await todayFor(wc.userId);
      return db.transaction(async (trx) => {
        let r = await lockOwn(trx, wc.userId, id);
        r = await catchUp(trx, r, today);
        if (r.status !== 'active') throw new ConflictError('This recurring rule has ended; it cannot change.', 'recurring_ended');
        const before = toRuleView(r);
        const has = (k: keyof PatchRuleInput) => Object.prototype.hasOwnProperty.call(input, k) && input[k] !== undefined;
        const template: TransactionInput = {
          ...templateOf(r, r.next_date!),
          ...(has('accountId') ? { accountId: input.accountId! } : {}),
          ...(has('amount') ? { amount: input.amount! } : {}),
          ...(has('categoryId') ? { categoryId: input.categoryId } : {}),
          ...(has('notes') ? { notes: input.notes } : {}),
          ...(has('toAccountId') ? { toAccountId: input.toAccountId } : {}),
          ...(has('toAmount') ? { toAmount: input.toAmount } : {}),
        };
        if (template.type === 'transfer' && template.toAccountId === template.accountId) {
          throw new ValidationError('The request is not valid.', [{ path: 'body.toAccountId', message: 'must be another account than accountId' }]);
        }
        if (template.type !== 'transfer' && template.toAccountId) {
          throw new ValidationError('The request is not valid.', [{ path: 'body.toAccountId', message: 'only a transfer has a receiving account' }]);
        }
        const probe = await checkTemplate(trx, wc, template);
        const cadenceChanged = (has('frequency') && input.frequency !== r.frequency) || (has('interval') && input.interval !== r.interval);
        // endDate and count exclude each other: setting one clears the other; null clears it.
        let endDate = r.end_date;
        let count = r.count;
        if (input.endDate !== undefined) {
          endDate = input.endDate;
          if (endDate !== null) count = null;
        }
        if (input.count !== undefined) {
          count = input.count;
          if (count !== null) endDate = null;
        }
        const next = {
          frequency: has('frequency') ? input.frequency! : r.frequency,
          interval: has('interval') ? input.interval! : r.interval,
          // A new cadence is anchored on the next occurrence: nothing before it moves.
          anchor_date: cadenceChanged ? r.next_date! : r.anchor_date,
          anchor_index: cadenceChanged ? r.next_index : r.anchor_index,
          end_date: endDate,
          count,
        };
        if (next.end_date !== null && next.end_date < r.start_date) {
          throw new ValidationError('The request is not valid.', [{ path: 'body.endDate', message: 'must not be before startDate' }]);
        }
        const state = progressAt(next, r.next_index);
        const now = clock.now();
        const updated = (await RecurringRule.query(trx)
          .patch({
            ...templateColumns(probe),
            frequency: next.frequency,
            interval: next.interval,
            anchor_date: next.anchor_date,
            anchor_index: next.anchor_index,
            end_date: next.end_date,
            count: next.count,
            next_date: 'nextDate' in state ? state.nextDate : null,
            updated_at: now,
            ...('finished' in state ? { status: 'ended', ended_reason: state.finished, ended_at: now } : {}),
          } as Partial<RecurringRule>)
          .where({ id })
          .returning('*')
          .first()) as unknown as RecurringRule;
        const after = toRuleView(updated);
        await audit.recordWrite(trx, wc, { action: 'recurring.update', entityType: 'recurring_rule', entityId: id, before, after });
        return after;
      });
    },

    /** DELETE: ends the rule (status ended, reason deleted); its past occurrences stay. Repeating it changes nothing. */
    async remove(wc: WriteContext, id: string): Promise<void> {
      await db.transaction(async (trx) => {
        const r = await lockOwn(trx, wc.userId, id);
        if (r.status === 'active') await end(trx, wc, r, 'deleted');
      });
    },

    /**
     * The scheduled sweep: every active rule with an occurrence due in its user's time zone gets
     * it, one database transaction per rule. Safe to run on several instances at once. Returns how
     * many rules got occurrences and how many occurrences were created.
     */
    async sweep(): Promise<{ rules: number; created: number }> {
      const now = clock.now();
      // No time zone is ahead of UTC+14: nothing dated later can be due anywhere.
      const latest = todayInZone(now, 'Etc/GMT-14');
      const candidates: { id: string; user_id: string; next_date: string }[] = await db('recurring_rules')
        .where({ status: 'active' })
        .where('next_date', '<=', latest)
        .orderBy(['user_id', 'next_date', 'id'])
        .select('id', 'user_id', 'next_date');
      const byUser = new Map<string, { id: string; next_date: string }[]>();
      for (const c of candidates) byUser.set(c.user_id, [...(byUser.get(c.user_id) ?? []), c]);
      const users = [...byUser.keys()];
      let rules = 0;
      let created = 0;
      const worker = async () => {
        for (let userId = users.pop(); userId !== undefined; userId = users.pop()) {
          let today: string;
          try {
            today = todayInZone(now, await deps.timeZoneOf(userId));
          } catch {
            continue; // the user is gone (erased); their rules went with them
          }
          for (const c of byUser.get(userId)!) {
            if (c.next_date > today) continue;
            try {
              const n = await sweepRule(c.id, today);
              if (n > 0) rules++;
              created += n;
            } catch (err) {
              // One rule's failure never stops the others; the next sweep tries it again.
              logger.error({ err, recurringId: c.id }, 'recurring sweep failed for a rule');
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, deps.sweepConcurrency ?? 4) }, worker));
      if (created) logger.info({ rules, created }, 'recurring occurrences created');
      return { rules, created };
    },
  };
}

export type RecurringService = ReturnType<typeof createRecurringService>;
