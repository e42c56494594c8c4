import { DateTime } from 'luxon';
import { todayIn, type Clock } from '../shared/clock.js';

export const BUDGET_PERIODS = ['monthly', 'weekly'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const day = (d: string) => DateTime.fromISO(d, { zone: 'UTC' });
const iso = (d: DateTime) => d.toISODate()!;

/**
 * The first day of the period holding calendar date `date` (already in the user's time zone, as
 * every transaction date is): the 1st of its month, or the Monday of its ISO week.
 */
export function periodStartOf(date: string, period: BudgetPeriod): string {
  return iso(day(date).startOf(period === 'monthly' ? 'month' : 'week'));
}

/** The last day (inclusive) of the period starting on `start`. */
export function periodEndOf(start: string, period: BudgetPeriod): string {
  return iso(day(start).endOf(period === 'monthly' ? 'month' : 'week'));
}

/** The start of the period `n` periods after (negative: before) the one starting on `start`. */
export function shiftPeriod(start: string, period: BudgetPeriod, n: number): string {
  return iso(day(start).plus(period === 'monthly' ? { months: n } : { weeks: n }));
}

/** The current period's first day: "today" is the user's calendar date in their time zone. */
export function currentPeriodStart(period: BudgetPeriod, timeZone: string, clock: Clock): string {
  return periodStartOf(todayIn(timeZone, clock), period);
}
