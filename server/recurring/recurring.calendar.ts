import { DateTime } from 'luxon';

/**
 * The recurrence calendar, on Luxon. Dates are calendar dates (no time of day, no zone): they are
 * computed in UTC, where no daylight-saving change exists, so a DST change moves nothing.
 *
 * Occurrence n is always computed from the anchor — `anchor + n × interval units` — never from the
 * previous occurrence. Luxon clamps a month/year step to the last day of a shorter month, so a rule
 * anchored on the 31st falls on 30 April and 28/29 February and returns to the 31st afterwards (no
 * drift), and 29 February yearly falls on 28 February in common years. Weekly keeps the weekday.
 */

export const FREQUENCIES = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

const UNIT = { daily: 'days', weekly: 'weeks', monthly: 'months', yearly: 'years' } as const;

function parse(date: string): DateTime {
  const d = DateTime.fromISO(date, { zone: 'utc' });
  if (!d.isValid) throw new Error(`not a calendar date: ${date}`);
  return d;
}

const DAYS = { daily: 1, weekly: 7 } as const;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The n-th date (n ≥ 0) of a series anchored on `anchor`. */
export function nthDate(anchor: string, frequency: Frequency, interval: number, n: number): string {
  // Days and weeks are fixed day counts in UTC: plain arithmetic gives Luxon's answer far cheaper
  // (the sweep computes one date per occurrence). Months and years clamp, so Luxon does those.
  const m = frequency === 'daily' || frequency === 'weekly' ? ISO_DATE.exec(anchor) : null;
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + n * interval * DAYS[frequency as 'daily' | 'weekly']));
    const iso = d.toISOString();
    if (iso.length === 24) return iso.slice(0, 10); // years 0000–9999
  }
  return parse(anchor)
    .plus({ [UNIT[frequency]]: n * interval })
    .toISODate()!;
}

/** Roughly how many occurrences fall from `next` to `today` (both included): sizes the sweep's batches only. */
export function dueEstimate(next: string, today: string, frequency: Frequency, interval: number): number {
  if (next > today) return 0;
  const days = parse(today).diff(parse(next), 'days').days;
  const period = { daily: 1, weekly: 7, monthly: 28, yearly: 365 }[frequency] * interval;
  return Math.floor(days / period) + 1;
}

/** `date` moved by whole years (negative goes back), clamped like the series (29 Feb → 28 Feb). */
export function plusYears(date: string, years: number): string {
  return parse(date).plus({ years }).toISODate()!;
}

/** Today's calendar date in an IANA time zone at instant `now`. */
export function todayInZone(now: Date, timeZone: string): string {
  return DateTime.fromJSDate(now, { zone: timeZone }).toISODate()!;
}
