import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { categoryNamed, createAccount, createTransaction, expectProblem, type Json } from '../helpers/ledger.js';
import { largestRemainderShares } from '../../server/reports/index.js';
import { Decimal, formatAmount } from '../../server/shared/money.js';

/**
 * Reports over a known ledger with hand-computed totals. Ada (USD, America/Los_Angeles) holds
 * USD, EUR and GBP accounts and a credit card. Rates: EUR→USD 1.1 from 2026-01-01 and 1.2 from
 * 2026-02-15; EUR→GBP 0.8 from 2026-01-01 (so GBP→USD goes through EUR: 1.1/0.8, then 1.2/0.8 = 1.5).
 * Nothing before 2026-01-01: EUR amounts of December 2025 have no rate.
 */
let t: TestApp;
let admin: TestUser;
let ada: TestUser;
let bob: TestUser;
const acc: Record<string, Json> = {};

// The clock stands at 2026-04-01 05:00 UTC = 2026-03-31 22:00 in Los Angeles.
const NOW = new Date('2026-04-01T05:00:00Z');

// startTestApp rather than useTestApp: the shared exchange_rates table must be emptied before
// the app stops (useTestApp's afterAll would run first and close the pool).
beforeAll(async () => {
  t = await startTestApp({}, { clock: NOW });
  await t.db('exchange_rates').delete();
  admin = await registerAndLogin(t);
  await t.db('users').where({ id: admin.id }).update({ role: 'admin' });
  for (const [base, quote, date, rate] of [
    ['EUR', 'USD', '2026-01-01', '1.1'],
    ['EUR', 'USD', '2026-02-15', '1.2'],
    ['EUR', 'GBP', '2026-01-01', '0.8'],
  ]) {
    const res = await t.api('/rates', { method: 'PUT', token: admin.accessToken, json: { base, quote, date, rate } });
    expect(res.status).toBe(200);
  }

  ada = await registerAndLogin(t, { currency: 'USD', timeZone: 'America/Los_Angeles' });
  acc.chk = await createAccount(t, ada, { name: 'Checking', type: 'bank', currency: 'USD', openingBalance: '1000.00' });
  acc.eur = await createAccount(t, ada, { name: 'Euro', type: 'bank', currency: 'EUR' });
  acc.card = await createAccount(t, ada, { name: 'Card', type: 'credit', currency: 'USD' });
  acc.gbp = await createAccount(t, ada, { name: 'Savings', type: 'bank', currency: 'GBP', openingBalance: '500.00' });
  const cat = async (name: string) => (await categoryNamed(t, ada, name)).id;
  const [salary, food, rent, shopping] = [await cat('Salary'), await cat('Food'), await cat('Rent'), await cat('Shopping')];
  const tx = (body: Record<string, unknown>) => createTransaction(t, ada, body);
  await tx({ accountId: acc.chk.id, type: 'income', amount: '3000.00', categoryId: salary, date: '2026-01-05' });
  await tx({ accountId: acc.chk.id, type: 'expense', amount: '100.00', categoryId: food, date: '2026-01-10' });
  await tx({ accountId: acc.chk.id, type: 'transfer', amount: '550.00', toAccountId: acc.eur.id, toAmount: '500.00', date: '2026-01-15' });
  await tx({ accountId: acc.eur.id, type: 'expense', amount: '200.00', categoryId: food, date: '2026-01-20' });
  await tx({ accountId: acc.eur.id, type: 'expense', amount: '10.00', categoryId: food, date: '2025-12-20' });
  await tx({ accountId: acc.chk.id, type: 'expense', amount: '1200.00', categoryId: rent, date: '2026-02-01' });
  await tx({ accountId: acc.card.id, type: 'expense', amount: '300.00', categoryId: shopping, date: '2026-02-05' });
  await tx({ accountId: acc.eur.id, type: 'transfer', amount: '100.00', toAccountId: acc.gbp.id, toAmount: '85.00', date: '2026-02-10' });
  await tx({ accountId: acc.eur.id, type: 'income', amount: '100.00', categoryId: salary, date: '2026-02-20' });
  await tx({ accountId: acc.chk.id, type: 'transfer', amount: '100.00', toAccountId: acc.card.id, date: '2026-03-01' });
  await tx({ accountId: acc.gbp.id, type: 'expense', amount: '40.00', date: '2026-03-10' });
  await tx({ accountId: acc.chk.id, type: 'expense', amount: '80.25', categoryId: food, date: '2026-03-15' });

  // Bob's money lands in the same months and must never count for Ada.
  bob = await registerAndLogin(t, { currency: 'USD', timeZone: 'UTC' });
  const bobAcc = await createAccount(t, bob, { name: 'Bob', type: 'bank', currency: 'USD', openingBalance: '99999.00' });
  await createTransaction(t, bob, { accountId: bobAcc.id, type: 'income', amount: '5000.00', date: '2026-01-07' });
  await createTransaction(t, bob, { accountId: bobAcc.id, type: 'expense', amount: '700.00', categoryId: (await categoryNamed(t, bob, 'Food')).id, date: '2026-01-08' });
});
afterAll(async () => {
  await t.db('exchange_rates').delete();
  await t.stop();
});

const get = async (u: TestUser, path: string) => {
  const res = await t.api(path, { token: u.accessToken });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

describe('GET /reports/monthly', () => {
  it('sums income and expense per month in the user\u2019s currency, every month present, transfers excluded, missing rates listed', async () => {
    expect(await get(ada, '/reports/monthly?from=2025-12&to=2026-04')).toEqual({
      currency: 'USD',
      from: '2025-12',
      to: '2026-04',
      months: [
        // 10 EUR on 2025-12-20 has no rate: left out, listed below — not counted as 10 USD.
        { month: '2025-12', income: '0.00', expense: '0.00', net: '0.00' },
        // 100 USD + 200 EUR × 1.1; the 550 USD → 500 EUR transfer is neither.
        { month: '2026-01', income: '3000.00', expense: '320.00', net: '2680.00' },
        // 100 EUR × 1.2 (rate of 2026-02-15 on 2026-02-20); 1200 + 300 (card).
        { month: '2026-02', income: '120.00', expense: '1500.00', net: '-1380.00' },
        // 80.25 USD + 40 GBP × 1.2 / 0.8 (through EUR).
        { month: '2026-03', income: '0.00', expense: '140.25', net: '-140.25' },
        { month: '2026-04', income: '0.00', expense: '0.00', net: '0.00' },
      ],
      missingRates: [{ from: 'EUR', to: 'USD', date: '2025-12-20' }],
    });
  });

  it('reports in another currency with ?currency= (USD through the inverse rate, GBP through the inverse too)', async () => {
    expect(await get(ada, '/reports/monthly?from=2026-01&to=2026-03&currency=EUR')).toEqual({
      currency: 'EUR',
      from: '2026-01',
      to: '2026-03',
      months: [
        // 3000 / 1.1 = 2727.2727…; 100 / 1.1 + 200 = 290.9090…
        { month: '2026-01', income: '2727.27', expense: '290.91', net: '2436.36' },
        // (1200 + 300) / 1.1 = 1363.6363…
        { month: '2026-02', income: '100.00', expense: '1363.64', net: '-1263.64' },
        // 80.25 / 1.2 = 66.875 exactly, + 40 / 0.8 = 50 → 116.875 → half-even 116.88
        { month: '2026-03', income: '0.00', expense: '116.88', net: '-116.88' },
      ],
      missingRates: [],
    });
  });

  it('cuts the default range at this month in the user\u2019s time zone (Los Angeles: still March while UTC is in April)', async () => {
    const r = await get(ada, '/reports/monthly');
    expect([r.from, r.to]).toEqual(['2025-04', '2026-03']);
    expect((r.months as unknown[]).length).toBe(12);
  });

  it('counts only the caller\u2019s own transactions (another user\u2019s never appear)', async () => {
    const r = await get(bob, '/reports/monthly?from=2026-01&to=2026-01');
    expect(r.months).toEqual([{ month: '2026-01', income: '5000.00', expense: '700.00', net: '4300.00' }]);
  });
});

describe('GET /reports/categories', () => {
  it('totals expenses per category with uncategorised as one row and shares summing to exactly 1 (largest remainder)', async () => {
    expect(await get(ada, '/reports/categories?from=2026-01-01&to=2026-03-31&type=expense')).toEqual({
      currency: 'USD',
      from: '2026-01-01',
      to: '2026-03-31',
      type: 'expense',
      total: '1960.25',
      categories: [
        // Exact shares ×10⁴: 6121.67, 2041.83, 1530.42, 306.08 → floors sum to 9998; the two
        // largest remainders (Food .83, Rent .67) get the last two units.
        { categoryId: expect.any(String), name: 'Rent', total: '1200.00', share: '0.6122' },
        { categoryId: expect.any(String), name: 'Food', total: '400.25', share: '0.2042' },
        { categoryId: expect.any(String), name: 'Shopping', total: '300.00', share: '0.1530' },
        { categoryId: null, name: 'Uncategorised', total: '60.00', share: '0.0306' },
      ],
      missingRates: [],
    });
  });

  it('totals income with ?type=income', async () => {
    const r = await get(ada, '/reports/categories?from=2026-01-01&to=2026-03-31&type=income');
    expect(r).toMatchObject({ total: '3120.00', categories: [{ name: 'Salary', total: '3120.00', share: '1.0000' }] });
  });

  it('leaves out amounts without a rate and lists them, never converting at 1', async () => {
    expect(await get(ada, '/reports/categories?from=2025-12-01&to=2025-12-31')).toEqual({
      currency: 'USD',
      from: '2025-12-01',
      to: '2025-12-31',
      type: 'expense',
      total: '0.00',
      categories: [],
      missingRates: [{ from: 'EUR', to: 'USD', date: '2025-12-20' }],
    });
  });

  it('defaults to this month so far in the user\u2019s time zone', async () => {
    const r = await get(ada, '/reports/categories');
    expect([r.from, r.to, r.total]).toEqual(['2026-03-01', '2026-03-31', '140.25']);
  });

  it('never shows another user\u2019s categories or amounts', async () => {
    const r = await get(bob, '/reports/categories?from=2026-01-01&to=2026-03-31');
    expect(r.categories).toEqual([{ categoryId: expect.any(String), name: 'Food', total: '700.00', share: '1.0000' }]);
  });
});

describe('GET /reports/net-worth', () => {
  it('gives assets, liabilities (the card below zero) and net worth at the end of each month, converted at each point\u2019s rate', async () => {
    expect(await get(ada, '/reports/net-worth?from=2026-01-01&to=2026-03-31&interval=month')).toEqual({
      currency: 'USD',
      from: '2026-01-01',
      to: '2026-03-31',
      interval: 'month',
      points: [
        // Checking 1000 + 3000 − 100 − 550 = 3350; Euro 500 − 200 − 10 = 290 EUR × 1.1 = 319.
        { date: '2026-01-31', assets: '3669.00', liabilities: '0.00', netWorth: '3669.00' },
        // Checking 2150; Euro 290 × 1.2 = 348; Savings 500 + 85 = 585 GBP × 1.5 = 877.50; Card −300.
        { date: '2026-02-28', assets: '3375.50', liabilities: '300.00', netWorth: '3075.50' },
        // Checking 1969.75; Euro 348; Savings 545 × 1.5 = 817.50; Card −200 after a 100 payment.
        { date: '2026-03-31', assets: '3135.25', liabilities: '200.00', netWorth: '2935.25' },
      ],
      missingRates: [],
    });
  });

  it('steps by ISO week (Monday to Sunday), the last point being `to`', async () => {
    const r = await get(ada, '/reports/net-worth?from=2026-02-20&to=2026-03-10&interval=week');
    expect(r.points).toEqual([
      { date: '2026-02-22', assets: '3375.50', liabilities: '300.00', netWorth: '3075.50' },
      { date: '2026-03-01', assets: '3275.50', liabilities: '200.00', netWorth: '3075.50' },
      { date: '2026-03-08', assets: '3275.50', liabilities: '200.00', netWorth: '3075.50' },
      { date: '2026-03-10', assets: '3215.50', liabilities: '200.00', netWorth: '3015.50' },
    ]);
  });

  it('lists a balance without a rate as missing and leaves it out', async () => {
    const r = await get(ada, '/reports/net-worth?from=2025-12-01&to=2025-12-31&interval=month');
    expect(r.points).toEqual([{ date: '2025-12-31', assets: '0.00', liabilities: '0.00', netWorth: '0.00' }]);
    expect(r.missingRates).toEqual([{ from: 'EUR', to: 'USD', date: '2025-12-31' }]);
  });

  it('steps by day', async () => {
    const r = await get(ada, '/reports/net-worth?from=2026-02-27&to=2026-03-02&interval=day');
    expect((r.points as { date: string; netWorth: string }[]).map((p) => `${p.date} ${p.netWorth}`)).toEqual([
      '2026-02-27 3075.50',
      '2026-02-28 3075.50',
      '2026-03-01 3075.50',
      '2026-03-02 3075.50',
    ]);
  });
});

describe('time zones: the local day and month, not UTC\u2019s', () => {
  it('counts an account opened late on 31 March in Los Angeles (1 April UTC) from 31 March', async () => {
    const u = await registerAndLogin(t, { currency: 'USD', timeZone: 'America/Los_Angeles' });
    await createAccount(t, u, { name: 'Cash', type: 'cash', currency: 'USD', openingBalance: '250.00' });
    const r = await get(u, '/reports/net-worth?from=2026-03-30&to=2026-04-01&interval=day');
    expect((r.points as { date: string; netWorth: string }[]).map((p) => `${p.date} ${p.netWorth}`)).toEqual(['2026-03-30 0.00', '2026-03-31 250.00', '2026-04-01 250.00']);
  });

  it('in Auckland, 31 January 12:00 UTC is already February: the default month and the account\u2019s first day follow', async () => {
    t.clock.set(new Date('2026-01-31T12:00:00Z'));
    try {
      const u = await registerAndLogin(t, { currency: 'NZD', timeZone: 'Pacific/Auckland' });
      await createAccount(t, u, { name: 'Kiwi', type: 'bank', currency: 'NZD', openingBalance: '100.00' });
      const monthly = await get(u, '/reports/monthly');
      expect([monthly.from, monthly.to]).toEqual(['2025-03', '2026-02']);
      const nw = await get(u, '/reports/net-worth?from=2026-01-30&to=2026-02-02&interval=day');
      expect((nw.points as { date: string; assets: string }[]).map((p) => `${p.date} ${p.assets}`)).toEqual([
        '2026-01-30 0.00',
        '2026-01-31 0.00',
        '2026-02-01 100.00',
        '2026-02-02 100.00',
      ]);
      expect((await get(u, '/reports/net-worth?interval=day')).to).toBe('2026-02-01');
    } finally {
      t.clock.set(NOW);
    }
  });
});

describe('?format=csv', () => {
  const csv = async (path: string) => {
    const res = await t.api(path, { token: ada.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    return { res, lines: (await res.text()).trimEnd().split('\n') };
  };

  it('monthly: a header row, one row per month, a file name, missing rates in a header', async () => {
    const { res, lines } = await csv('/reports/monthly?from=2025-12&to=2026-02&format=csv');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="numina-monthly-2025-12-2026-02-USD.csv"');
    expect(JSON.parse(res.headers.get('missing-rates')!)).toEqual([{ from: 'EUR', to: 'USD', date: '2025-12-20' }]);
    expect(lines).toEqual(['month,income,expense,net,currency', '2025-12,0.00,0.00,0.00,USD', '2026-01,3000.00,320.00,2680.00,USD', '2026-02,120.00,1500.00,-1380.00,USD']);
  });

  it('categories: one row per category, uncategorised with an empty id', async () => {
    const { res, lines } = await csv('/reports/categories?from=2026-01-01&to=2026-03-31&format=csv');
    expect(res.headers.get('content-disposition')).toMatch(/filename="numina-categories-expense-2026-01-01-2026-03-31-USD.csv"/);
    expect(lines[0]).toBe('categoryId,name,total,share,currency');
    expect(lines.slice(1).map((l) => l.split(',').slice(1).join(','))).toEqual([
      'Rent,1200.00,0.6122,USD',
      'Food,400.25,0.2042,USD',
      'Shopping,300.00,0.1530,USD',
      'Uncategorised,60.00,0.0306,USD',
    ]);
    expect(lines[4].startsWith(',Uncategorised')).toBe(true);
  });

  it('net worth: one row per point', async () => {
    const { lines } = await csv('/reports/net-worth?from=2026-01-01&to=2026-03-31&format=csv');
    expect(lines).toEqual([
      'date,assets,liabilities,netWorth,currency',
      '2026-01-31,3669.00,0.00,3669.00,USD',
      '2026-02-28,3375.50,300.00,3075.50,USD',
      '2026-03-31,3135.25,200.00,2935.25,USD',
    ]);
  });
});

describe('bad input', () => {
  it.each([
    ['/reports/monthly?from=2026-13', 'query.from'],
    ['/reports/monthly?from=2026-1', 'query.from'],
    ['/reports/monthly?from=2026-03&to=2026-01', 'query.from'],
    ['/reports/monthly?from=2016-01&to=2026-01', 'query.to'],
    ['/reports/monthly?currency=XYZ', 'query.currency'],
    ['/reports/monthly?format=xml', 'query.format'],
    ['/reports/monthly?colour=red', 'query'],
    ['/reports/categories?from=2026-02-30', 'query.from'],
    ['/reports/categories?from=2026-03-01&to=2026-02-01', 'query.from'],
    ['/reports/categories?type=transfer', 'query.type'],
    ['/reports/categories?from=2010-01-01&to=2026-01-01', 'query.to'],
    ['/reports/net-worth?interval=year', 'query.interval'],
    ['/reports/net-worth?to=20260101', 'query.to'],
    ['/reports/net-worth?from=0000-01-01&to=0001-01-01', 'query.from'],
  ])('GET %s → 400 naming %s', async (path, field) => {
    const problem = await expectProblem(await t.api(path, { token: ada.accessToken }), 400, 'validation_failed');
    expect(problem.errors?.map((e) => e.path)).toContain(field);
  });

  it('bounds the work: interval=day over more than 3 years is a 400 with a hint', async () => {
    const problem = await expectProblem(await t.api('/reports/net-worth?from=2022-01-01&to=2025-01-01&interval=day', { token: ada.accessToken }), 400);
    expect(problem.errors).toEqual([{ path: 'query.interval', message: expect.stringMatching(/at most 3 years; use interval=week or interval=month/) }]);
    expect((await t.api('/reports/net-worth?from=2022-01-02&to=2025-01-01&interval=day', { token: ada.accessToken })).status).toBe(200);
  });

  it('requires a login', async () => {
    for (const path of ['/reports/monthly', '/reports/categories', '/reports/net-worth']) expect((await t.api(path)).status).toBe(401);
  });
});

describe('rate changes', () => {
  it('show in the next report: a new rate fills a gap, and removing it (even by SQL) brings the gap back', async () => {
    const december = '/reports/monthly?from=2025-12&to=2025-12';
    expect(await get(ada, december)).toMatchObject({ months: [{ expense: '0.00' }], missingRates: [{ from: 'EUR', to: 'USD', date: '2025-12-20' }] });
    const put = await t.api('/rates', { method: 'PUT', token: admin.accessToken, json: { base: 'USD', quote: 'EUR', date: '2025-12-01', rate: '0.8' } });
    expect(put.status).toBe(200);
    // Inverse: 10 EUR / 0.8 = 12.50 USD.
    expect(await get(ada, december)).toMatchObject({ months: [{ expense: '12.50' }], missingRates: [] });
    await t.db('exchange_rates').where({ base: 'USD', quote: 'EUR' }).delete();
    expect(await get(ada, december)).toMatchObject({ months: [{ expense: '0.00' }], missingRates: [{ from: 'EUR', to: 'USD', date: '2025-12-20' }] });
  });
});

describe('largest-remainder shares', () => {
  it('always sums to exactly 1, e.g. three equal parts', () => {
    expect(largestRemainderShares([new Decimal(1), new Decimal(1), new Decimal(1)])).toEqual(['0.3334', '0.3333', '0.3333']);
    const shares = largestRemainderShares(['0.01', '333.33', '12.5', '7', '0.07'].map((v) => new Decimal(v)));
    expect(shares.reduce((s, v) => s.plus(v), new Decimal(0)).toFixed(4)).toBe('1.0000');
  });
});

describe('rounding in the report statements', () => {
  it('round_half_even gives exactly what formatAmount gives: ties to even, the currency\u2019s digits', async () => {
    const values = ['2.5', '3.5', '-2.5', '-3.5', '0.125', '0.135', '-0.125', '-0.135', '-0.001', '0', '12.3', '1.0050000000000000001', '99.995', '-99.985', '1234567.8949999'];
    for (let i = 0; i < 200; i++) values.push(new Decimal(((i * 7919 * 104729) % 2_000_000_001) - 1_000_000_000).div(new Decimal(10).pow(1 + (i % 6))).toFixed());
    for (const [currency, digits] of [['USD', 2], ['JPY', 0], ['BHD', 3]] as const) {
      const { rows } = await t.db.raw<{ rows: { r: string }[] }>('SELECT round_half_even(v, ?)::text AS r FROM unnest(?::numeric[]) WITH ORDINALITY AS u(v, i) ORDER BY i', [digits, values]);
      expect(rows.map((r) => r.r)).toEqual(values.map((v) => formatAmount(v, currency)));
    }
  });
});
