import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createAuditService } from '../../server/audit/index.js';
import { createRatesService, parseEcbCsv, type RatesService } from '../../server/rates/index.js';
import { runRatesImport } from '../../server/cli/rates-import.js';
import { formatAmount } from '../../server/shared/money.js';
import { testDatabaseUrl, useTestApp, useUsers } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';

const run = promisify(execFile);
const FIXTURES = path.resolve('test/fixtures');

// Rates are shared by every user: this file owns the table while it runs and leaves it empty.
const t = useTestApp({}, { beforeStop: (app) => app.db('exchange_rates').delete() });
beforeAll(async () => {
  await t.db('exchange_rates').delete();
});
const [admin, user] = useUsers(t, 2);
let rates: RatesService;
beforeAll(async () => {
  await t.db('users').where({ id: admin.id }).update({ role: 'admin' });
  rates = createRatesService({ db: t.db, clock: t.clock, audit: createAuditService({ clock: t.clock }) });
});

const putRate = (body: unknown, token = admin.accessToken) => t.api('/rates', { method: 'PUT', token, json: body });
const stored = () => t.db('exchange_rates').orderBy(['base', 'quote', 'date']).select('base', 'quote', 'date', t.db.raw('rate::text AS rate'), 'source');
const show = async (c: ReturnType<RatesService['convert']>, currency: string) => {
  const r = await c;
  return 'amount' in r ? formatAmount(r.amount, currency) : r;
};

describe('PUT /rates', () => {
  it('stores a rate for an admin, and a second PUT of the same day replaces it (one row, both audited)', async () => {
    const first = await putRate({ base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '11.5' });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '11.5', source: 'manual' });
    const second = await putRate({ base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '11.500000000001' });
    expect(await second.json()).toMatchObject({ rate: '11.500000000001' });
    expect(await stored()).toEqual([{ base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '11.500000000001', source: 'manual' }]);
    const audit = await t.db('audit_logs').where({ entity_type: 'exchange_rate', entity_id: 'CHF/SEK/2026-01-10' }).orderBy('seq').select('action', 'actor_id', 'before', 'after');
    expect(audit).toEqual([
      { action: 'rate.created', actor_id: admin.id, before: null, after: { rate: '11.5', source: 'manual' } },
      { action: 'rate.replaced', actor_id: admin.id, before: { rate: '11.5', source: 'manual' }, after: { rate: '11.500000000001', source: 'manual' } },
    ]);
    await putRate({ base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '11.5' });
  });

  it('is for admins only: 403 for a user, 401 without a token, and nothing changes', async () => {
    await expectProblem(await putRate({ base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '99' }, user.accessToken), 403, 'forbidden');
    expect((await t.api('/rates', { method: 'PUT', json: { base: 'CHF', quote: 'SEK', date: '2026-01-10', rate: '99' } })).status).toBe(401);
    expect((await stored()).map((r) => r.rate)).toEqual(['11.500000000000']);
  });

  it.each([
    ['a JSON number as rate', { rate: 11.5 }, 'body.rate'],
    ['a zero rate', { rate: '0' }, 'body.rate'],
    ['a zero rate with decimals', { rate: '0.000' }, 'body.rate'],
    ['a negative rate', { rate: '-1.2' }, 'body.rate'],
    ['13 digits after the point', { rate: '1.1234567890123' }, 'body.rate'],
    ['an exponent', { rate: '1e3' }, 'body.rate'],
    ['an unknown currency', { base: 'XYZ' }, 'body.base'],
    ['base equal to quote', { quote: 'CHF' }, 'body.quote'],
    ['an impossible date', { date: '2026-02-30' }, 'body.date'],
    ['an unknown field', { source: 'ecb' }, 'body'],
  ])('rejects %s with 400 naming the field, storing nothing', async (_name, patch, field) => {
    const res = await putRate({ base: 'CHF', quote: 'SEK', date: '2026-03-01', rate: '11', ...patch });
    const problem = await expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.map((e) => e.path)).toContain(field);
    expect(await t.db('exchange_rates').where({ date: '2026-03-01' })).toEqual([]);
  });
});

describe('GET /rates', () => {
  beforeAll(async () => {
    await putRate({ base: 'CHF', quote: 'NOK', date: '2026-01-10', rate: '12' });
    await putRate({ base: 'SEK', quote: 'CHF', date: '2026-01-20', rate: '0.1' });
  });

  it('lists rates newest date first, filtered by pair and date range, paginated', async () => {
    const all = (await (await t.api('/rates', { token: user.accessToken })).json()) as { data: { base: string; quote: string; date: string; rate: string }[] };
    expect(all.data.map((r) => `${r.base}/${r.quote} ${r.date} ${r.rate}`)).toEqual(['SEK/CHF 2026-01-20 0.1', 'CHF/NOK 2026-01-10 12', 'CHF/SEK 2026-01-10 11.5']);
    const pair = (await (await t.api('/rates?base=CHF&quote=SEK&from=2026-01-01&to=2026-01-31', { token: user.accessToken })).json()) as { data: unknown[] };
    expect(pair.data).toHaveLength(1);
    const p1 = (await (await t.api('/rates?limit=2', { token: user.accessToken })).json()) as { data: { date: string }[]; nextCursor: string };
    const p2 = (await (await t.api(`/rates?limit=2&cursor=${p1.nextCursor}`, { token: user.accessToken })).json()) as { data: { base: string; quote: string }[]; nextCursor: null };
    expect(p2.data.map((r) => `${r.base}/${r.quote}`)).toEqual(['CHF/SEK']);
    expect(p2.nextCursor).toBeNull();
  });

  it('rejects from after to, unknown currencies and bad cursors with 400 naming the field', async () => {
    expect((await expectProblem(await t.api('/rates?from=2026-02-01&to=2026-01-01', { token: user.accessToken }), 400)).errors?.[0].path).toBe('query.from');
    expect((await expectProblem(await t.api('/rates?base=ABC', { token: user.accessToken }), 400)).errors?.[0].path).toBe('query.base');
    expect((await expectProblem(await t.api('/rates?cursor=nope', { token: user.accessToken }), 400)).errors?.[0].path).toBe('query.cursor');
    expect((await t.api('/rates')).status).toBe(401);
  });
});

describe('convert (the one conversion rule other features use)', () => {
  // Stored now: CHF→SEK 11.5 from 2026-01-10, CHF→NOK 12 from 2026-01-10, SEK→CHF 0.1 from 2026-01-20.
  it('uses the direct rate on or before the date', async () => {
    expect(await show(rates.convert(t.db, '100.00', 'CHF', 'SEK', '2026-01-10'), 'SEK')).toBe('1150.00');
    expect(await show(rates.convert(t.db, '100.00', 'CHF', 'SEK', '2026-01-19'), 'SEK')).toBe('1150.00');
  });

  it('uses an inverse rate as 1/rate, and the more recent of direct and inverse', async () => {
    expect(await show(rates.convert(t.db, '230.00', 'SEK', 'CHF', '2026-01-15'), 'CHF')).toBe('20.00');
    // From 2026-01-20 SEK→CHF 0.1 is newer than CHF→SEK 11.5: 1 CHF = 10 SEK.
    expect(await show(rates.convert(t.db, '100.00', 'CHF', 'SEK', '2026-01-25'), 'SEK')).toBe('1000.00');
    expect(await show(rates.convert(t.db, '1000.00', 'SEK', 'CHF', '2026-01-25'), 'CHF')).toBe('100.00');
  });

  it('divides last for an inverse rate, so a terminating result is exact before rounding', async () => {
    await putRate({ base: 'DKK', quote: 'PLN', date: '2026-01-10', rate: '1.2' });
    // 80.25 PLN = 80.25 / 1.2 = 66.875 DKK exactly → half-even 66.88 (a rounded 1/1.2 would give 66.8749… → 66.87).
    expect(await show(rates.convert(t.db, '80.25', 'PLN', 'DKK', '2026-01-10'), 'DKK')).toBe('66.88');
    await t.db('exchange_rates').where({ base: 'DKK' }).delete();
  });

  it('goes through one common base when only those rates exist', async () => {
    // SEK→NOK on 2026-01-15: 115 SEK = 115 / 11.5 CHF = 10 CHF = 120 NOK.
    expect(await show(rates.convert(t.db, '115.00', 'SEK', 'NOK', '2026-01-15'), 'NOK')).toBe('120.00');
    // NOK→SEK on 2026-01-25: 120 NOK = 10 CHF = 100 SEK (SEK→CHF 0.1, inverted).
    expect(await show(rates.convert(t.db, '120.00', 'NOK', 'SEK', '2026-01-25'), 'SEK')).toBe('100.00');
  });

  it('reports a missing rate instead of treating it as 1', async () => {
    expect(await rates.convert(t.db, '100.00', 'CHF', 'SEK', '2026-01-09')).toEqual({ missing: { from: 'CHF', to: 'SEK', date: '2026-01-09' } });
    expect(await rates.convert(t.db, '100.00', 'CHF', 'PLN', '2026-06-01')).toEqual({ missing: { from: 'CHF', to: 'PLN', date: '2026-06-01' } });
    expect(await show(rates.convert(t.db, '7.5', 'PLN', 'PLN', '2026-06-01'), 'PLN')).toBe('7.50');
  });

  it('sums mixed currencies at each date, leaving out and listing (earliest date per pair) what has no rate', async () => {
    const r = await rates.sum(
      t.db,
      [
        { amount: '10.00', currency: 'CHF', date: '2026-01-15' }, // 115 SEK
        { amount: '5.00', currency: 'SEK', date: '2026-01-01' },
        { amount: '100.00', currency: 'PLN', date: '2026-01-12' },
        { amount: '100.00', currency: 'PLN', date: '2026-01-11' },
        { amount: '1.00', currency: 'CHF', date: '2026-01-05' }, // before the first CHF rate
      ],
      'SEK',
    );
    expect(formatAmount(r.total, 'SEK')).toBe('120.00');
    expect(r.missingRates).toEqual([
      { from: 'CHF', to: 'SEK', date: '2026-01-05' },
      { from: 'PLN', to: 'SEK', date: '2026-01-11' },
    ]);
  });
});

describe('npm run rates:import (ECB historical CSV)', () => {
  // The sample: 4 days × 5 supported currencies − 1 N/A = 19 rates (CYP is not offered).
  it('imports every rate against EUR, skipping N/A gaps and unsupported currencies', async () => {
    const res = await runRatesImport([path.join(FIXTURES, 'eurofxref-hist-sample.csv')], t.db, t.clock);
    expect(res.code).toBe(0);
    expect(res.message).toMatch(/19 rates for 5 currencies against EUR, 2024-01-02 to 2024-01-05; skipped unsupported CYP/);
    const rows = await t.db('exchange_rates').where({ base: 'EUR' }).orderBy(['quote', 'date']).select('quote', 'date', t.db.raw('rate::text AS rate'), 'source');
    expect(rows).toHaveLength(19);
    expect(rows.filter((r) => r.quote === 'JPY').map((r) => r.date)).toEqual(['2024-01-02', '2024-01-03', '2024-01-05']);
    expect(rows.find((r) => r.quote === 'GBP' && r.date === '2024-01-02')).toEqual({ quote: 'GBP', date: '2024-01-02', rate: '0.867200000000', source: 'ecb' });
    // Cross through EUR: 100 USD on 2024-01-04 (JPY N/A that day → 2024-01-03's 156.96) = 100 / 1.0953 × 156.96 JPY.
    expect(await show(rates.convert(t.db, '100.00', 'USD', 'JPY', '2024-01-04'), 'JPY')).toBe('14330');
    expect(await t.db('audit_logs').where({ action: 'rate.imported' }).count({ n: '*' })).toEqual([{ n: '1' }]);
  });

  it('re-importing replaces the same days instead of duplicating them', async () => {
    expect((await runRatesImport([path.join(FIXTURES, 'eurofxref-hist-sample.csv')], t.db, t.clock)).code).toBe(0);
    expect(await t.db('exchange_rates').where({ base: 'EUR' }).count({ n: '*' })).toEqual([{ n: '19' }]);
  });

  it('rejects a malformed file with its line number, exit 2, keeping nothing of it', async () => {
    await t.db('exchange_rates').where({ base: 'EUR' }).delete();
    const res = await runRatesImport([path.join(FIXTURES, 'eurofxref-hist-malformed.csv')], t.db, t.clock);
    expect(res).toEqual({ code: 2, message: expect.stringMatching(/line 4: JPY: "one" is not a positive rate.*nothing was imported/) });
    expect(await t.db('exchange_rates').where({ base: 'EUR' })).toEqual([]);
  });

  it.each([
    ['a wrong first column', 'Day,USD,\n2024-01-02,1.1,\n', /line 1: the first column must be "Date"/],
    ['a short row', 'Date,USD,GBP,\n2024-01-02,1.1,0.8,\n2024-01-03,1.1,\n', /line 3: expected 3 columns/],
    ['a bad date', 'Date,USD,\n2024-13-02,1.1,\n', /line 2: "2024-13-02" is not a date/],
    ['a repeated date', 'Date,USD,\n2024-01-02,1.1,\n2024-01-02,1.2,\n', /line 3: date 2024-01-02 appears twice/],
    ['a zero rate', 'Date,USD,\n2024-01-02,0,\n', /line 2: USD: "0"/],
    ['no rows', 'Date,USD,\n', /no rates/],
    ['an empty file', '', /empty/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseEcbCsv(text)).toThrow(message);
  });

  it('is a command: usage and unreadable files are operator errors (exit 2); a good file exits 0', async () => {
    const cli = async (args: string[]) => {
      try {
        const { stdout } = await run('npx', ['tsx', 'server/cli/rates-import.ts', ...args], { env: { ...process.env, DATABASE_URL: testDatabaseUrl() } });
        return { code: 0, out: stdout };
      } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, out: e.stderr };
      }
    };
    expect(await cli([])).toEqual({ code: 2, out: expect.stringMatching(/usage: npm run rates:import/) });
    expect(await cli(['/nonexistent/eurofxref-hist.csv'])).toEqual({ code: 2, out: expect.stringMatching(/cannot read .*ENOENT/) });
    expect(await cli([path.join(FIXTURES, 'eurofxref-hist-malformed.csv')])).toEqual({ code: 2, out: expect.stringMatching(/line 4/) });
    expect(await cli([path.join(FIXTURES, 'eurofxref-hist-sample.csv')])).toEqual({ code: 0, out: expect.stringMatching(/19 rates/) });
  }, 60_000);
});
