import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { lockAccounts } from '../accounts/index.js';
import type { AuditService } from '../audit/index.js';
import { categoryKindForWrite } from '../categories/index.js';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, isIsoInstant, isUuid, keysetPage } from '../shared/cursor.js';
import { insertColumns, sqlRows, updatedRow, type Db } from '../shared/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { idempotent, type IdempotentResult } from '../shared/idempotency.js';
import { formatAmount } from '../shared/money.js';
import { systemWrite, type WriteContext } from '../shared/write-context.js';
import type { TransactionInput, TransactionService, TransactionView } from '../transactions/index.js';
import { dueEstimate, nthDate, plusYears, todayInZone, type Frequency } from './recurring.calendar.js';
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
  /** Users swept at once (in parallel; one user's batches one after another). Background work: keep it low. */
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

/**
 * The sweep's unit of work: some rules of one user caught up in one database transaction (their
 * audit chain and event counter are per user, so one user's batch contends with nobody else's).
 * A batch closes at about SWEEP_BATCH_OCCURRENCES due occurrences (or SWEEP_BATCH_RULES rules), so
 * a transaction stays short: the API's own commits and requests interleave with the sweep's instead
 * of queueing behind a large one (measured in BENCHMARKS.md, "Recurring catch-up"). A rule is never
 * split: one with more due occurrences than the bound is a batch of its own.
 */
const SWEEP_BATCH_OCCURRENCES = 200;
const SWEEP_BATCH_RULES = 50;

/** Splits one user's due rules (in order) into the sweep's batches. */
function sweepBatches(rules: readonly { id: string; due: number }[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let due = 0;
  for (const r of rules) {
    if (batch.length > 0 && (due + r.due > SWEEP_BATCH_OCCURRENCES || batch.length >= SWEEP_BATCH_RULES)) {
      batches.push(batch);
      batch = [];
      due = 0;
    }
    batch.push(r.id);
    due += r.due;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
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
    const ended = await updatedRow(
      RecurringRule.query(trx)
        .patch({ status: 'ended', ended_reason: reason, ended_at: now, next_date: null, updated_at: now } as Partial<RecurringRule>)
        .where({ id: r.id })
        .returning('*')
        .first(),
      `recurring rule ${r.id}`,
    );
    const after = toRuleView(ended);
    await audit.recordWrite(trx, wc, { action: reason === 'deleted' ? 'recurring.delete' : 'recurring.end', entityType: 'recurring_rule', entityId: r.id, before, after });
    if (reason === 'account_archived' || reason === 'category_deleted') await deps.onStopped?.(trx, r.user_id, { recurringId: r.id, reason, ruleView: after });
    return ended;
  }

  /**
   * Creates every due occurrence (dated ≤ today) of the locked rules `rules` (one user's, `today`
   * in their time zone), in `trx`, and moves their progress; ends a rule when its series is
   * finished or its account/category is gone. One ledger batch for all of them: a transaction,
   * audit entry and event per occurrence, all in the caller's database transaction. Returns the
   * rules as they are now, in the given order.
   */
  async function catchUpMany(trx: Knex.Transaction, rules: readonly RecurringRule[], today: string): Promise<RecurringRule[]> {
    const out = [...rules];
    const due = rules.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 'active' && r.next_date !== null && r.next_date <= today);
    if (due.length === 0) return out;
    const userId = due[0].r.user_id;
    if (due.some(({ r }) => r.user_id !== userId)) throw new Error('catchUpMany takes the rules of one user');
    const wc = systemWrite(userId);
    // Lock order as everywhere: rules (held by the caller) → accounts (id order) → categories.
    const accounts = await lockAccounts(
      trx,
      userId,
      due.flatMap(({ r }) => [r.account_id, r.to_account_id].filter((id): id is string => id !== null)),
    );
    const categories = new Map<string, boolean>();
    for (const id of [...new Set(due.map(({ r }) => r.category_id).filter((c): c is string => c !== null))].sort()) {
      categories.set(id, (await categoryKindForWrite(trx, userId, id)) !== undefined);
    }
    const gone = (id: string | null) => id !== null && (!accounts.get(id) || accounts.get(id)!.archived);
    const live: { r: RecurringRule; i: number; dates: string[]; index: number; state: ReturnType<typeof progressAt> }[] = [];
    for (const { r, i } of due) {
      if (!r.account_id || (r.type === 'transfer' && !r.to_account_id) || gone(r.account_id) || gone(r.to_account_id)) {
        out[i] = await end(trx, wc, r, 'account_archived');
      } else if ((r.category_required && !r.category_id) || (r.category_id && !categories.get(r.category_id))) {
        out[i] = await end(trx, wc, r, 'category_deleted');
      } else {
        const dates: string[] = [];
        let index = r.next_index;
        let state = progressAt(r, index);
        while ('nextDate' in state && state.nextDate <= today) {
          dates.push(state.nextDate);
          index++;
          state = progressAt(r, index);
        }
        live.push({ r, i, dates, index, state });
      }
    }
    if (live.length === 0) return out;

    // The unique (rule, date) row is the exactly-once guard. Under the rules' locks nobody else
    // claims their dates; a date claimed earlier (never, while next_index moves with every claim)
    // is left out, and a conflict would fail the insert below and roll the whole batch back.
    const taken = await sqlRows<{ rule_id: string; d: string }>(
      trx,
      `SELECT o.rule_id, o.occurrence_date::text AS d FROM recurring_occurrences o
         JOIN unnest(?::uuid[], ?::date[], ?::date[]) AS v(rule_id, first, last)
           ON o.rule_id = v.rule_id AND o.occurrence_date BETWEEN v.first AND v.last`,
      [live.map((l) => l.r.id), live.map((l) => l.dates[0] ?? l.r.next_date), live.map((l) => l.dates.at(-1) ?? l.r.next_date)],
    );
    const takenSet = new Set(taken.map((t) => `${t.rule_id}|${t.d}`));
    const claims = live.map((l) => l.dates.filter((d) => !takenSet.has(`${l.r.id}|${d}`)));
    const created = await ledger.createSeriesInTrx(
      trx,
      wc,
      live.map((l, k) => {
        const { date: _date, ...template } = templateOf(l.r, l.r.next_date!);
        return { template, dates: claims[k], recurringId: l.r.id };
      }),
    );
    const now = clock.now();
    const occurrences = live.flatMap((l, k) => created[k].map((tx) => ({ rule_id: l.r.id, occurrence_date: tx.date, user_id: userId, transaction_id: tx.id, created_at: now })));
    await insertColumns(trx, 'recurring_occurrences', { rule_id: 'uuid', occurrence_date: 'date', user_id: 'uuid', transaction_id: 'uuid', created_at: 'timestamptz' }, occurrences);

    // Every rule's progress in one statement.
    const ended = (l: (typeof live)[number]) => ('finished' in l.state ? l.state.finished : null);
    const moved = await sqlRows<RecurringRule>(
      trx,
      `UPDATE recurring_rules r
          SET next_index = v.next_index, occurrences_created = r.occurrences_created + v.n, next_date = v.next_date, updated_at = ?,
              status = CASE WHEN v.ended_reason IS NULL THEN r.status ELSE 'ended' END,
              ended_reason = coalesce(v.ended_reason, r.ended_reason),
              ended_at = CASE WHEN v.ended_reason IS NULL THEN r.ended_at ELSE ? END
         FROM unnest(?::uuid[], ?::int[], ?::int[], ?::date[], ?::text[]) AS v(id, next_index, n, next_date, ended_reason)
        WHERE r.id = v.id
        RETURNING r.*`,
      [
        now,
        now,
        live.map((l) => l.r.id),
        live.map((l) => l.index),
        live.map((_l, k) => created[k].length),
        live.map((l) => ('nextDate' in l.state ? l.state.nextDate : null)),
        live.map(ended),
      ],
    );
    const byId = new Map(moved.map((m) => [m.id, RecurringRule.fromDatabaseJson(m)]));
    for (const l of live) {
      const after = byId.get(l.r.id)!;
      out[l.i] = after;
      if (ended(l)) await audit.recordWrite(trx, wc, { action: 'recurring.end', entityType: 'recurring_rule', entityId: l.r.id, before: toRuleView(l.r), after: toRuleView(after) });
    }
    return out;
  }

  /** Catches up one locked rule (create, PATCH). */
  async function catchUp(trx: Knex.Transaction, r: RecurringRule, today: string): Promise<RecurringRule> {
    return (await catchUpMany(trx, [r], today))[0];
  }

  async function lockOwn(trx: Knex.Transaction, userId: string, id: string): Promise<RecurringRule> {
    const r = await RecurringRule.query(trx).where({ id, user_id: userId }).forUpdate().first();
    if (!r) throw new NotFoundError('Recurring rule not found.');
    return r;
  }

  /**
   * Sweeps rules of one user in one database transaction; skips those another transaction holds
   * (a PATCH, another instance's sweep). Returns how many got occurrences and how many were created.
   */
  async function sweepRules(ids: readonly string[], today: string): Promise<{ rules: number; created: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction(async (trx) => {
          const locked = await RecurringRule.query(trx).whereIn('id', [...ids]).where('status', 'active').orderBy('id').forUpdate().skipLocked();
          const after = await catchUpMany(trx, locked, today);
          const counts = after.map((a, i) => a.occurrences_created - locked[i].occurrences_created);
          return { rules: counts.filter((n) => n > 0).length, created: counts.reduce((sum, n) => sum + n, 0) };
        });
      } catch (err) {
        // A deadlock/serialisation failure with a user's concurrent write (e.g. deleting the
        // category a rule uses) rolled the batch back whole; try it again.
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
        const updated = await updatedRow(
          RecurringRule.query(trx)
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
          .first(),
          `recurring rule ${id}`,
        );
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
     * it, in short per-user batches (see SWEEP_BATCH_OCCURRENCES), one database transaction each. Safe
     * to run on several instances at once. Returns how many rules got occurrences and how many
     * occurrences were created.
     */
    async sweep(): Promise<{ rules: number; created: number }> {
      const now = clock.now();
      // No time zone is ahead of UTC+14: nothing dated later can be due anywhere.
      const latest = todayInZone(now, 'Etc/GMT-14');
      type Candidate = { id: string; user_id: string; next_date: string; frequency: Frequency; interval: number };
      const candidates: Candidate[] = await db('recurring_rules')
        .where({ status: 'active' })
        .where('next_date', '<=', latest)
        .orderBy(['user_id', 'next_date', 'id'])
        .select('id', 'user_id', 'next_date', 'frequency', 'interval');
      const byUser = new Map<string, Candidate[]>();
      for (const c of candidates) {
        const list = byUser.get(c.user_id);
        if (list) list.push(c);
        else byUser.set(c.user_id, [c]);
      }
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
          const due = byUser
            .get(userId)!
            .filter((c) => c.next_date <= today)
            .map((c) => ({ id: c.id, due: dueEstimate(c.next_date, today, c.frequency, c.interval) }));
          for (const batch of sweepBatches(due)) {
            try {
              const n = await sweepRules(batch, today);
              rules += n.rules;
              created += n.created;
            } catch (batchErr) {
              // One rule's failure never stops the others: each rule of the batch again on its own;
              // the one that fails is logged, and the next sweep tries it again.
              if (batch.length === 1) {
                logger.error({ err: batchErr, recurringId: batch[0] }, 'recurring sweep failed for a rule');
                continue;
              }
              for (const id of batch) {
                try {
                  const n = await sweepRules([id], today);
                  rules += n.rules;
                  created += n.created;
                } catch (err) {
                  logger.error({ err, recurringId: id }, 'recurring sweep failed for a rule');
                }
              }
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
