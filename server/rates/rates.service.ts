import type { Knex } from 'knex';
import type { AuditService } from '../audit/index.js';
import type { AuditContext } from '../shared/write-context.js';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, encodeCursor, isDateString } from '../shared/cursor.js';
import { sqlRows, type Db } from '../shared/db.js';
import { Decimal } from '../shared/money.js';
import { ExchangeRate } from './rates.model.js';
import { addDays, applyRate, dedupeMissing, pairKey, pivotsFor, segmentsFor, type MissingRate, type PairRows, type Rate, type RateSegment } from './rates.convert.js';
import type { ListRatesQuery, PutRateInput, RateView } from './rates.schemas.js';

export interface RatesServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
}

/** Who changes rates, and from where (an admin through the API, or the operator: actorId null). */
export interface RatesWriteContext {
  actorId: string | null;
  audit: AuditContext;
}

/** An amount converted, or the rate that was missing for it (never a 1:1 guess). */
export type Conversion = { amount: Decimal } | { missing: MissingRate };

/** The effective rates from some currencies to one target over a date range, loaded once. */
export interface RateSeries {
  to: string;
  start: string;
  end: string;
  segments: RateSegment[];
  /** The rate from `currency` to the target on `date` (within [start, end]); 1/1 for the target itself, null when missing. */
  rateOn(currency: string, date: string): Rate | null;
  /**
   * A SQL fragment yielding `(currency text, date date, num numeric, den numeric)`: one row per
   * currency and day of [start, end] that has a rate; convert as `amount * num / den` (divide
   * last: exact whenever the result terminates). Days without a rate have no row, so a LEFT JOIN
   * gives NULL there and the amount drops out of SUM() — it must then be listed as missing.
   */
  sql(): Knex.Raw;
}

type Queryable = Knex | Knex.Transaction;

const isCode = (v: string): boolean => /^[A-Z]{3}$/.test(v);

export function toRateView(r: ExchangeRate): RateView {
  return {
    base: r.base,
    quote: r.quote,
    date: r.date,
    rate: new Decimal(r.rate).toFixed(),
    source: r.source,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/**
 * Exchange rates: storage (PUT /rates, the ECB import) and the one conversion rule every feature
 * uses (reports, budgets, goals). See rates.convert.ts for the rule.
 */
export function createRatesService({ db, clock, audit }: RatesServiceDeps) {
  /** Every stored (base, quote) pair: a loose index scan on the primary key, one probe per pair. */
  async function storedPairs(q: Queryable): Promise<[string, string][]> {
    const rows = await sqlRows<{ base: string; quote: string }>(
      q,
      `
      WITH RECURSIVE p AS (
        (SELECT base, quote FROM exchange_rates ORDER BY base, quote LIMIT 1)
        UNION ALL
        SELECT n.base, n.quote FROM p CROSS JOIN LATERAL (
          SELECT base, quote FROM exchange_rates WHERE (base, quote) > (p.base, p.quote) ORDER BY base, quote LIMIT 1
        ) n
      )
      SELECT base, quote FROM p`);
    return rows.map((r): [string, string] => [r.base, r.quote]);
  }

  /** The rows of `pairs` in [start, end], plus each pair's latest row before start (what is in force on start). */
  async function loadRows(q: Queryable, pairs: [string, string][], start: string, end: string): Promise<PairRows> {
    const rowsByPair: PairRows = new Map();
    if (pairs.length === 0) return rowsByPair;
    const bases = pairs.map((p) => p[0]);
    const quotes = pairs.map((p) => p[1]);
    const rows = await sqlRows<{ base: string; quote: string; date: string; rate: string }>(
      q,
      `SELECT p.base, p.quote, r.date, r.rate
         FROM unnest(?::text[], ?::text[]) AS p(base, quote)
         CROSS JOIN LATERAL (
           (SELECT date, rate FROM exchange_rates WHERE base = p.base AND quote = p.quote AND date < ?::date ORDER BY date DESC LIMIT 1)
           UNION ALL
           (SELECT date, rate FROM exchange_rates WHERE base = p.base AND quote = p.quote AND date BETWEEN ?::date AND ?::date)
         ) r
        ORDER BY p.base, p.quote, r.date`,
      [bases, quotes, start, start, end],
    );
    for (const r of rows) {
      const key = pairKey(r.base, r.quote);
      const list = rowsByPair.get(key) ?? [];
      list.push({ date: r.date, rate: new Decimal(r.rate) });
      rowsByPair.set(key, list);
    }
    return rowsByPair;
  }

  /**
   * Computed series by rates version (see the exchange_rates_version migration), most recently
   * used last. Rates change rarely and every report of a day asks for the same few ranges, so a
   * report usually pays one primary-key read instead of loading and walking thousands of rates.
   * Bounded: a 5-year, 2-currency series is ~1 MB, so at most CACHE_MAX of them are kept.
   */
  const cache = new Map<string, RateSeries>();
  const CACHE_MAX = 32;

  /**
   * The effective rates from each of `currencies` to `to` on every day of [start, end], read in
   * the caller's snapshot: from the cache when the rates have not changed since it was computed,
   * else in two round trips whatever the range. Reports join the result's `sql()` to their aggregates.
   */
  async function series(q: Queryable, currencies: readonly string[], to: string, start: string, end: string): Promise<RateSeries> {
    const froms = [...new Set(currencies)].filter((c) => c !== to).sort();
    if (froms.length === 0) return buildSeries([], to, start, end);
    const versionRows = await sqlRows<{ version: string }>(q, 'SELECT version FROM exchange_rates_version');
    const key = `${versionRows[0]?.version ?? 'none'}|${to}|${start}|${end}|${froms.join(',')}`;
    const hit = versionRows.length ? cache.get(key) : undefined;
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const pairs = await storedPairs(q);
    const pivots = new Map(froms.map((f) => [f, pivotsFor(pairs, f, to)]));
    const wanted = new Set<string>();
    for (const f of froms) {
      const cs = [to, ...pivots.get(f)!];
      for (const c of cs) for (const k of [pairKey(f, c), pairKey(c, f)]) wanted.add(k);
      for (const c of pivots.get(f)!) for (const k of [pairKey(c, to), pairKey(to, c)]) wanted.add(k);
    }
    const needed = pairs.filter(([b, qt]) => wanted.has(pairKey(b, qt)));
    const rows = await loadRows(q, needed, start, end);
    const computed = buildSeries(
      froms.flatMap((f) => segmentsFor(rows, pivots.get(f)!, f, to, start, end)),
      to,
      start,
      end,
    );
    if (versionRows.length) {
      cache.set(key, computed);
      if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
    }
    return computed;
  }

  function buildSeries(segments: RateSegment[], to: string, start: string, end: string): RateSeries {
    const byCurrency = new Map<string, RateSegment[]>();
    for (const seg of segments) {
      const list = byCurrency.get(seg.currency);
      if (list) list.push(seg);
      else byCurrency.set(seg.currency, [seg]);
    }
    let compact: [string[], string[], string[]] | undefined;
    return {
      to,
      start,
      end,
      segments,
      rateOn(currency, date) {
        if (currency === to) return { num: new Decimal(1), den: new Decimal(1) };
        if (date < start || date > end) throw new RangeError(`${date} is outside the loaded series ${start}..${end}`);
        // Segments are sorted and cover [start, end]: binary search for the one holding `date`.
        const list = byCurrency.get(currency) ?? [];
        let lo = 0;
        let hi = list.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (list[mid].end < date) lo = mid + 1;
          else if (list[mid].start > date) hi = mid - 1;
          else return list[mid].rate;
        }
        return null;
      },
      sql() {
        // One row per currency and day with a rate. Sent as one comma-joined string of daily
        // numerators and one of denominators per currency (empty = no rate), built once per cached
        // series: a 5-year, 2-currency series is ~35 KB of text instead of four 3,650-element
        // arrays (~100 KB) that the driver escaped element by element on every report.
        compact ??= compactSeries();
        return db.raw(
          `SELECT c.currency, (?::date + (o.i - 1)::int) AS date, o.num::numeric AS num, o.den::numeric AS den
             FROM unnest(?::text[], ?::text[], ?::text[]) AS c(currency, nums, dens)
             CROSS JOIN LATERAL unnest(string_to_array(c.nums, ',', ''), string_to_array(c.dens, ',', '')) WITH ORDINALITY AS o(num, den, i)
            WHERE o.num IS NOT NULL`,
          [start, ...compact],
        );
      },
    };

    /** Per currency, the rate of every day of [start, end] in order (segments cover the range). */
    function compactSeries(): [string[], string[], string[]] {
      const currencies: string[] = [];
      const nums: string[] = [];
      const dens: string[] = [];
      for (const [currency, list] of byCurrency) {
        const n: string[] = [];
        const d: string[] = [];
        let at = start;
        for (const seg of list) {
          if (seg.start !== at) throw new Error(`the ${currency} segments leave a gap at ${at}`);
          const num = seg.rate ? seg.rate.num.toFixed() : '';
          const den = seg.rate ? seg.rate.den.toFixed() : '';
          for (; at <= seg.end; at = addDays(at, 1)) {
            n.push(num);
            d.push(den);
          }
        }
        if (at !== addDays(end, 1)) throw new Error(`the ${currency} segments do not cover ${start}..${end}`);
        currencies.push(currency);
        nums.push(n.join(','));
        dens.push(d.join(','));
      }
      return [currencies, nums, dens];
    }
  }

  /**
   * Converts `amount` from `from` to `to` with the rate in force on `date` (YYYY-MM-DD): direct,
   * inverse, or through one common base. Returns the exact product (round it for display with
   * money.formatAmount), or the missing pair and date — never a 1:1 guess.
   */
  async function convert(q: Queryable, amount: Decimal | string, from: string, to: string, date: string): Promise<Conversion> {
    const value = new Decimal(amount);
    if (from === to) return { amount: value };
    const s = await series(q, [from], to, date, date);
    const rate = s.rateOn(from, date);
    return rate ? { amount: applyRate(value, rate) } : { missing: { from, to, date } };
  }

  /**
   * Sums amounts in various currencies into `to`, each at the rate of its own date, loading the
   * rates once. Amounts without a rate are left out and listed (one entry per pair, earliest date).
   */
  async function sum(q: Queryable, items: readonly { amount: Decimal | string; currency: string; date: string }[], to: string): Promise<{ total: Decimal; missingRates: MissingRate[] }> {
    let total = new Decimal(0);
    const missing: MissingRate[] = [];
    if (items.length === 0) return { total, missingRates: [] };
    const dates = items.map((i) => i.date).sort();
    const s = await series(q, items.map((i) => i.currency), to, dates[0], dates[dates.length - 1]);
    for (const i of items) {
      const rate = s.rateOn(i.currency, i.date);
      if (rate) total = total.plus(applyRate(new Decimal(i.amount), rate));
      else missing.push({ from: i.currency, to, date: i.date });
    }
    return { total, missingRates: dedupeMissing(missing) };
  }

  /** PUT /rates: stores the rate of (base, quote, date), replacing that day's rate; audited with before/after. */
  async function put(wc: RatesWriteContext, input: PutRateInput): Promise<RateView> {
    return db.transaction(async (trx) => {
      const before = await ExchangeRate.query(trx).where({ base: input.base, quote: input.quote, date: input.date }).forUpdate().first();
      const now = clock.now();
      const [row] = (await trx('exchange_rates')
        .insert({ base: input.base, quote: input.quote, date: input.date, rate: input.rate, source: 'manual', created_at: now, updated_at: now })
        .onConflict(['base', 'quote', 'date'])
        .merge(['rate', 'source', 'updated_at'])
        .returning('*')) as ExchangeRate[];
      const view = toRateView(row);
      await audit.record(trx, {
        action: before ? 'rate.replaced' : 'rate.created',
        actorId: wc.actorId,
        userId: null,
        entityType: 'exchange_rate',
        entityId: `${input.base}/${input.quote}/${input.date}`,
        before: before ? { rate: new Decimal(before.rate).toFixed(), source: before.source } : null,
        after: { rate: view.rate, source: view.source },
        ...wc.audit,
      });
      return view;
    });
  }

  /** GET /rates: newest date first, then base and quote; keyset-paginated. */
  async function list(query: ListRatesQuery): Promise<{ data: RateView[]; nextCursor: string | null }> {
    const q = ExchangeRate.query(db);
    if (query.base) q.where('base', query.base);
    if (query.quote) q.where('quote', query.quote);
    if (query.from) q.where('date', '>=', query.from);
    if (query.to) q.where('date', '<=', query.to);
    if (query.cursor) {
      const [date, base, quote] = decodeCursor(query.cursor, [isDateString, isCode, isCode]);
      q.whereRaw('(date < ?::date OR (date = ?::date AND (base, quote) > (?, ?)))', [date, date, base, quote]);
    }
    const rows = await q.orderBy([{ column: 'date', order: 'desc' }, { column: 'base' }, { column: 'quote' }]).limit(query.limit + 1);
    const more = rows.length > query.limit;
    const pageRows = rows.slice(0, query.limit);
    const last = pageRows[pageRows.length - 1];
    return { data: pageRows.map(toRateView), nextCursor: more && last ? encodeCursor([last.date, last.base, last.quote]) : null };
  }

  return { convert, sum, series, put, list };
}

export type RatesService = ReturnType<typeof createRatesService>;
