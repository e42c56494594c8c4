import { Decimal } from '../shared/money.js';

/**
 * The one rule for turning an amount in one currency into another, as a pure function of the
 * stored rates (no database here, so it is unit-testable and shared by the single conversion and
 * the report series):
 *
 * On a date D the rate F→T is, in this order of preference:
 *   1. the latest stored F→T (direct) or T→F (inverse, used as 1/rate) dated on or before D —
 *      whichever of the two is more recent (direct on a tie);
 *   2. only when neither exists: through one common base C (F→C then C→T, each leg direct or
 *      inverse as above), choosing the C whose older leg is the most recent (then alphabetical);
 *   3. otherwise there is no rate: the caller reports it as missing. A missing rate is never 1.
 *
 * A rate is kept as an exact fraction num/den of stored rates (direct: r/1, inverse: 1/r, cross:
 * the product of two legs), and an amount is converted as amount × num / den. Dividing last keeps
 * a conversion exact whenever the true result terminates: 80.25 USD at EUR→USD 1.2 is exactly
 * 66.875 EUR (half-even: 66.88), where a rounded reciprocal 0.8333… would give 66.8749… (66.87).
 */

export interface RatePoint {
  date: string;
  rate: Decimal;
}

/** Stored rates by pair (`BASE/QUOTE`), each list sorted by date ascending. */
export type PairRows = Map<string, RatePoint[]>;

export interface MissingRate {
  from: string;
  to: string;
  date: string;
}

/** An exact rate: 1 unit of the source currency = num / den units of the target. */
export interface Rate {
  num: Decimal;
  den: Decimal;
}

/** The effective rate from `currency` to the series' target on every day of [start, end]; null = no rate. */
export interface RateSegment {
  currency: string;
  start: string;
  end: string;
  rate: Rate | null;
}

const ONE = new Decimal(1);

/** amount × num / den, exact to 60 significant digits (exact whenever the result terminates). */
export function applyRate(amount: Decimal, rate: Rate): Decimal {
  return amount.times(rate.num).div(rate.den);
}

const sameRate = (a: Rate | null, b: Rate | null): boolean => (a === null || b === null ? a === b : a.num.eq(b.num) && a.den.eq(b.den));

export const pairKey = (base: string, quote: string): string => `${base}/${quote}`;

function latestOnOrBefore(points: RatePoint[] | undefined, date: string): RatePoint | undefined {
  if (!points || points.length === 0 || points[0].date > date) return undefined;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (points[mid].date <= date) lo = mid;
    else hi = mid - 1;
  }
  return points[lo];
}

interface Leg extends Rate {
  date: string;
}

function legAt(rows: PairRows, from: string, to: string, date: string): Leg | null {
  const direct = latestOnOrBefore(rows.get(pairKey(from, to)), date);
  const inverse = latestOnOrBefore(rows.get(pairKey(to, from)), date);
  if (direct && (!inverse || direct.date >= inverse.date)) return { num: direct.rate, den: ONE, date: direct.date };
  if (inverse) return { num: ONE, den: inverse.rate, date: inverse.date };
  return null;
}

/** Currencies that have a stored pair (either way) with both `from` and `to`. */
export function pivotsFor(pairs: readonly [string, string][], from: string, to: string): string[] {
  const partners = (c: string) => new Set(pairs.flatMap(([b, q]) => (b === c ? [q] : q === c ? [b] : [])));
  const withFrom = partners(from);
  const withTo = partners(to);
  return [...withFrom].filter((c) => c !== from && c !== to && withTo.has(c)).sort();
}

/** The rate from → to on `date` under the rule above, or null when there is none. */
export function rateAt(rows: PairRows, pivots: readonly string[], from: string, to: string, date: string): Rate | null {
  if (from === to) return { num: ONE, den: ONE };
  const direct = legAt(rows, from, to, date);
  if (direct) return { num: direct.num, den: direct.den };
  let best: { fresh: string; rate: Rate } | null = null;
  for (const c of pivots) {
    const a = legAt(rows, from, c, date);
    const b = a && legAt(rows, c, to, date);
    if (!a || !b) continue;
    const fresh = a.date < b.date ? a.date : b.date;
    if (!best || fresh > best.fresh) best = { fresh, rate: { num: a.num.times(b.num), den: a.den.times(b.den) } };
  }
  return best?.rate ?? null;
}

const DAY_MS = 86_400_000;

/**
 * `date` (YYYY-MM-DD) moved by `days` calendar days. Plain UTC arithmetic on purpose: this runs
 * once per rate and per day of a report's range, where a calendar library's objects cost ~100×.
 */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

const dayBefore = (date: string): string => addDays(date, -1);

/**
 * The effective rate from `from` to `to` over [start, end] as a step function: one segment per
 * run of days with the same rate. The rate can only change on a date some relevant pair has a row,
 * so the work is proportional to the stored rates, not to the days.
 */
export function segmentsFor(rows: PairRows, pivots: readonly string[], from: string, to: string, start: string, end: string): RateSegment[] {
  const relevant = [pairKey(from, to), pairKey(to, from), ...pivots.flatMap((c) => [pairKey(from, c), pairKey(c, from), pairKey(c, to), pairKey(to, c)])];
  const changes = new Set<string>([start]);
  for (const key of relevant) for (const p of rows.get(key) ?? []) if (p.date > start && p.date <= end) changes.add(p.date);
  const dates = [...changes].sort();
  const out: RateSegment[] = [];
  for (let i = 0; i < dates.length; i++) {
    const rate = rateAt(rows, pivots, from, to, dates[i]);
    const last = out[out.length - 1];
    if (last && sameRate(last.rate, rate)) continue;
    if (last) last.end = dayBefore(dates[i]);
    out.push({ currency: from, start: dates[i], end, rate });
  }
  return out;
}

/** Keeps one entry per (from, to) pair, the earliest date (the contract's `missingRates` shape), sorted. */
export function dedupeMissing(missing: Iterable<MissingRate>): MissingRate[] {
  const byPair = new Map<string, MissingRate>();
  for (const m of missing) {
    const key = pairKey(m.from, m.to);
    const seen = byPair.get(key);
    if (!seen || m.date < seen.date) byPair.set(key, { from: m.from, to: m.to, date: m.date });
  }
  return [...byPair.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}
