import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import type { MissingRate, RatesService } from '../rates/index.js';
import type { Clock } from '../shared/clock.js';
import type { Db } from '../shared/db.js';
import { ValidationError } from '../shared/errors.js';
import { Decimal, formatAmount } from '../shared/money.js';
import { accountFacts, categoriesStatement, monthlyStatement, netWorthStatement, run, type ReportRow, type Statement } from './reports.queries.js';
import type { CategoriesQuery, CategoriesView, MonthlyQuery, MonthlyView, NetWorthQuery, NetWorthView } from './reports.schemas.js';

/** What a report needs to know about its reader; the users feature answers it. */
export interface ReportProfiles {
  getProfile(userId: string): Promise<{ currency: string; timeZone: string }>;
}

export interface ReportsServiceDeps {
  db: Db;
  clock: Clock;
  rates: RatesService;
  profiles: ReportProfiles;
}

/** Longest range any report covers; `interval=day` covers at most DAY_YEARS. Bounded work per request. */
export const MAX_YEARS = 10;
export const DAY_YEARS = 3;
const SHARE_DIGITS = 4;
export const UNCATEGORISED = 'Uncategorised';

const invalid = (path: string, message: string) => new ValidationError('The request is not valid.', [{ path, message }]);
const iso = (d: DateTime): string => d.toISODate()!;
const utcDate = (v: string): DateTime => DateTime.fromISO(v, { zone: 'utc' });

/** The calendar day of `instant` in `timeZone` (UTC if the zone is unknown to luxon). */
function localDay(instant: Date, timeZone: string): string {
  const local = DateTime.fromJSDate(instant).setZone(timeZone);
  return (local.isValid ? local : DateTime.fromJSDate(instant).toUTC()).toISODate()!;
}

/** Today's date in the user's time zone, from the injected clock. */
function todayIn(clock: Clock, timeZone: string): DateTime {
  return utcDate(localDay(clock.now(), timeZone));
}

/**
 * Shares of `totals` (all > 0) rounded to 4 decimals by the largest-remainder method, so that they
 * sum to exactly 1: every share is first rounded down, then the units still missing go to the
 * largest remainders (ties: the earlier row, i.e. the larger total).
 */
export function largestRemainderShares(totals: Decimal[]): string[] {
  if (totals.length === 0) return [];
  const units = new Decimal(10).pow(SHARE_DIGITS);
  const sum = totals.reduce((a, b) => a.plus(b), new Decimal(0));
  const exact = totals.map((t) => t.times(units).div(sum));
  const floors = exact.map((e) => e.floor());
  let left = units.minus(floors.reduce((a, b) => a.plus(b), new Decimal(0))).toNumber();
  const order = exact.map((e, i) => ({ i, r: e.minus(floors[i]) })).sort((x, y) => y.r.comparedTo(x.r) || x.i - y.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] = floors[i].plus(1);
    left--;
  }
  return floors.map((f) => f.div(units).toFixed(SHARE_DIGITS));
}

function missingOf(rows: ReportRow[], target: string): MissingRate[] {
  return rows
    .filter((r) => r.kind === 'missing')
    .map((r) => ({ from: r.key, to: target, date: r.a }))
    .sort((a, b) => a.from.localeCompare(b.from));
}

interface Plan<V> {
  statement: Statement;
  build(rows: ReportRow[]): V;
}

/**
 * Reports: monthly income vs expense, spending (or income) by category, net worth over time.
 * Each report is one read-only statement (see reports.queries.ts) run in a REPEATABLE READ
 * snapshot together with the rate lookups, so the currencies, the rates and the sums agree.
 * Sums are exact NUMERIC; they are rounded once, half-even, to the currency's digits (in the
 * statement for the long series, here for categories), and the derived figures (net, netWorth,
 * total) are computed from the rounded ones so that what the reader sees adds up.
 */
export function createReportsService({ db, clock, rates, profiles }: ReportsServiceDeps) {
  type Profile = Awaited<ReturnType<ReportProfiles['getProfile']>>;
  type PlanFn<Q, V> = (trx: Knex.Transaction, userId: string, q: Q, profile: Promise<Profile>) => Promise<Plan<V>>;

  async function reader(pending: Promise<Profile>, currency: string | undefined) {
    const profile = await pending;
    return { target: currency ?? profile.currency, timeZone: profile.timeZone, today: todayIn(clock, profile.timeZone) };
  }

  function dateRange(q: { from?: string; to?: string }, today: DateTime, defaultFrom: (to: DateTime) => DateTime, maxYears: number, tooLong: () => ValidationError) {
    let to = q.to ? utcDate(q.to) : today;
    if (!q.to && q.from && utcDate(q.from) > to) to = utcDate(q.from);
    const from = q.from ? utcDate(q.from) : defaultFrom(to);
    if (from > to) throw invalid('query.from', 'must not be after to');
    if (to >= from.plus({ years: maxYears })) throw tooLong();
    return { from, to };
  }

  async function planMonthly(trx: Knex.Transaction, userId: string, q: MonthlyQuery, profile: Promise<Profile>): Promise<Plan<MonthlyView>> {
    const { target, today } = await reader(profile, q.currency);
    const thisMonth = today.startOf('month');
    let last = q.to ? utcDate(`${q.to}-01`) : thisMonth;
    if (!q.to && q.from && utcDate(`${q.from}-01`) > last) last = utcDate(`${q.from}-01`);
    const first = q.from ? utcDate(`${q.from}-01`) : last.minus({ months: 11 });
    if (first > last) throw invalid('query.from', 'must not be after to');
    if (last >= first.plus({ years: MAX_YEARS })) throw invalid('query.to', `the range must not exceed ${MAX_YEARS} years (${MAX_YEARS * 12} months)`);
    const lastDay = last.endOf('month');
    const series = await rates.series(trx, (await accountFacts(trx, userId)).map((a) => a.currency), target, iso(first), iso(lastDay));
    const statement = monthlyStatement(trx, { userId, target, first: iso(first), last: iso(last), lastDay: iso(lastDay), rates: series.sql() });
    return {
      statement,
      build: (rows) => ({
        currency: target,
        from: first.toFormat('yyyy-MM'),
        to: last.toFormat('yyyy-MM'),
        // Rounded in the statement (half-even, the currency's digits; net = income − expense as shown).
        months: rows.filter((r) => r.kind === 'row').map((r) => ({ month: r.key, income: r.a!, expense: r.b!, net: r.c! })),
        missingRates: missingOf(rows, target),
      }),
    };
  }

  async function planCategories(trx: Knex.Transaction, userId: string, q: CategoriesQuery, profile: Promise<Profile>): Promise<Plan<CategoriesView>> {
    const { target, today } = await reader(profile, q.currency);
    const { from, to } = dateRange(q, today, (t) => t.startOf('month'), MAX_YEARS, () => invalid('query.to', `the range must not exceed ${MAX_YEARS} years`));
    const series = await rates.series(trx, (await accountFacts(trx, userId)).map((a) => a.currency), target, iso(from), iso(to));
    const statement = categoriesStatement(trx, { userId, target, type: q.type, from: iso(from), to: iso(to), rates: series.sql() });
    return {
      statement,
      build: (rows) => {
        const cats = rows
          .filter((r) => r.kind === 'row')
          .map((r) => ({ categoryId: r.key, name: r.key === null ? UNCATEGORISED : (r.a ?? UNCATEGORISED), exact: new Decimal(r.b!) }))
          .sort((x, y) => y.exact.comparedTo(x.exact) || (x.categoryId === null ? 1 : 0) - (y.categoryId === null ? 1 : 0) || x.name.localeCompare(y.name));
        const shares = largestRemainderShares(cats.map((c) => c.exact));
        const categories = cats.map((c, i) => ({ categoryId: c.categoryId, name: c.name, total: formatAmount(c.exact, target), share: shares[i] }));
        const total = categories.reduce((s, c) => s.plus(c.total), new Decimal(0));
        return {
          currency: target,
          from: iso(from),
          to: iso(to),
          type: q.type,
          total: formatAmount(total, target),
          categories,
          missingRates: missingOf(rows, target),
        };
      },
    };
  }

  async function planNetWorth(trx: Knex.Transaction, userId: string, q: NetWorthQuery, profile: Promise<Profile>): Promise<Plan<NetWorthView>> {
    const { target, timeZone, today } = await reader(profile, q.currency);
    const { from, to } = dateRange(q, today, (t) => t.minus({ years: 1 }).plus({ days: 1 }), MAX_YEARS, () => invalid('query.to', `the range must not exceed ${MAX_YEARS} years`));
    if (q.interval === 'day' && to >= from.plus({ years: DAY_YEARS })) {
      throw invalid('query.interval', `interval=day covers at most ${DAY_YEARS} years; use interval=week or interval=month, or a shorter range`);
    }
    const accounts = await accountFacts(trx, userId);
    const series = await rates.series(trx, accounts.map((a) => a.currency), target, iso(from), iso(to));
    // An account counts from its creation day in the user's time zone (or its first movement, if earlier).
    const createdOn = accounts.map((a) => ({ id: a.id, day: localDay(a.createdAt, timeZone) }));
    const statement = netWorthStatement(trx, { userId, target, createdOn, from: iso(from), to: iso(to), interval: q.interval, rates: series.sql() });
    return {
      statement,
      build: (rows) => ({
        currency: target,
        from: iso(from),
        to: iso(to),
        interval: q.interval,
        // Rounded in the statement (half-even, the currency's digits; netWorth = assets − liabilities as shown).
        points: rows.filter((r) => r.kind === 'row').map((r) => ({ date: r.key, assets: r.a!, liabilities: r.b!, netWorth: r.c! })),
        missingRates: missingOf(rows, target),
      }),
    };
  }

  /**
   * The reader's profile (currency, time zone) is no part of the report's snapshot: it is read on
   * its own connection while the transaction begins, one round trip less per report.
   */
  function profileOf(userId: string): Promise<Profile> {
    const pending = profiles.getProfile(userId);
    // Awaited inside the transaction; this only keeps a failed BEGIN from leaving it unhandled.
    pending.catch(() => undefined);
    return pending;
  }

  /** Runs a plan in one read-only snapshot. */
  function report<Q, V>(plan: PlanFn<Q, V>) {
    return (userId: string, q: Q): Promise<V> => {
      const profile = profileOf(userId);
      return db.transaction(
        async (trx) => {
          const p = await plan(trx, userId, q, profile);
          return p.build(await run(trx, p.statement));
        },
        { isolationLevel: 'repeatable read', readOnly: true },
      );
    };
  }

  /** The statement a report would run, without running it (the bench times it on its own). */
  function statementOf<Q>(plan: PlanFn<Q, unknown>) {
    return (userId: string, q: Q): Promise<Statement> => {
      const profile = profileOf(userId);
      return db.transaction(async (trx) => (await plan(trx, userId, q, profile)).statement, { readOnly: true });
    };
  }

  return {
    /** GET /reports/monthly: every month of [from, to], income and expense (transfers are neither). */
    monthly: report(planMonthly),
    /** GET /reports/categories: totals per category (uncategorised as one row), shares summing to 1. */
    categories: report(planCategories),
    /** GET /reports/net-worth: assets, liabilities and net worth at the end of each step. */
    netWorth: report(planNetWorth),
    statements: { monthly: statementOf(planMonthly), categories: statementOf(planCategories), netWorth: statementOf(planNetWorth) },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
