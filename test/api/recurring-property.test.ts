import fc from 'fast-check';
import { DateTime } from 'luxon';
import { nthDate, type Frequency } from '../../server/recurring/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createAccount } from '../helpers/ledger.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';

/**
 * Property: for random rules, the occurrence dates equal those of a simple reference generator
 * that works on (year, month, day) numbers with Luxon only for "days in this month" and day steps.
 */
function reference(start: string, frequency: Frequency, interval: number, opts: { count?: number; endDate?: string; today: string }): string[] {
  const s = DateTime.fromISO(start, { zone: 'utc' });
  const out: string[] = [];
  for (let k = 0; ; k++) {
    if (opts.count !== undefined && k >= opts.count) break;
    let d: DateTime;
    if (frequency === 'daily' || frequency === 'weekly') {
      d = s.plus({ days: k * interval * (frequency === 'weekly' ? 7 : 1) });
    } else {
      const months = s.year * 12 + (s.month - 1) + k * interval * (frequency === 'yearly' ? 12 : 1);
      const year = Math.floor(months / 12);
      const month = (months % 12) + 1;
      const last = DateTime.utc(year, month, 1).daysInMonth!;
      d = DateTime.utc(year, month, Math.min(s.day, last));
    }
    const iso = d.toISODate()!;
    if (opts.endDate !== undefined && iso > opts.endDate) break;
    if (iso > opts.today) break;
    out.push(iso);
  }
  return out;
}

const dateArb = fc.date({ min: new Date('2017-01-01T00:00:00Z'), max: new Date('2026-06-15T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const freqArb = fc.constantFrom<Frequency>('daily', 'weekly', 'monthly', 'yearly');

describe('the calendar against a reference generator', () => {
  it('nthDate equals the reference for any anchor, frequency, interval and index', () => {
    fc.assert(
      fc.property(dateArb, freqArb, fc.integer({ min: 1, max: 366 }), fc.integer({ min: 0, max: 400 }), (start, freq, interval, n) => {
        const ref = reference(start, freq, interval, { count: n + 1, today: '9999-12-31' });
        expect(nthDate(start, freq, interval, n)).toBe(ref[n]);
      }),
      { numRuns: 500 },
    );
  });

  it('month-end anchors clamp without drift (explicit cases)', () => {
    expect([0, 1, 2, 3].map((n) => nthDate('2023-01-31', 'monthly', 1, n))).toEqual(['2023-01-31', '2023-02-28', '2023-03-31', '2023-04-30']);
    expect([0, 1, 4].map((n) => nthDate('2024-02-29', 'yearly', 1, n))).toEqual(['2024-02-29', '2025-02-28', '2028-02-29']);
  });
});

describe('rules through the API against the reference generator', () => {
  let t: TestApp;
  let u: TestUser;
  const today = '2026-06-15';
  beforeAll(async () => {
    t = await startTestApp({}, { clock: new Date(`${today}T12:00:00Z`) });
    u = await registerAndLogin(t);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('creates exactly the reference dates for random rules', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          start: fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2026-06-20T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
          frequency: freqArb,
          interval: fc.integer({ min: 1, max: 3 }),
          limit: fc.oneof(fc.constant({}), fc.record({ count: fc.integer({ min: 1, max: 20 }) }), fc.record({ endDays: fc.integer({ min: 0, max: 400 }) })),
        }),
        async ({ start, frequency, interval, limit }) => {
          const acc = await createAccount(t, u);
          const endDate = 'endDays' in limit ? DateTime.fromISO(start).plus({ days: limit.endDays }).toISODate()! : undefined;
          const count = 'count' in limit ? limit.count : undefined;
          const res = await t.api('/recurring', {
            method: 'POST',
            token: u.accessToken,
            json: { accountId: acc.id, type: 'income', amount: '1.00', frequency, interval, startDate: start, ...(endDate ? { endDate } : {}), ...(count ? { count } : {}) },
          });
          expect(res.status).toBe(201);
          const rule = (await res.json()) as { occurrencesCreated: number; nextDate: string | null };
          // A daily rule from early 2025 has more than one page (500) of occurrences: read them all.
          const dates: string[] = [];
          for (let cursor: string | null = ''; cursor !== null; ) {
            const list = await t.api(`/transactions?accountId=${acc.id}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: u.accessToken });
            const page = (await list.json()) as { data: { date: string }[]; nextCursor: string | null };
            dates.unshift(...page.data.map((x) => x.date).reverse());
            cursor = page.nextCursor;
          }
          const expected = reference(start, frequency, interval, { count, endDate, today });
          expect(dates).toEqual(expected);
          expect(rule.occurrencesCreated).toBe(expected.length);
          const next = reference(start, frequency, interval, { count: Math.min(count ?? Infinity, expected.length + 1), endDate, today: '9999-12-31' })[expected.length] ?? null;
          expect(rule.nextDate).toBe(next);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
