/**
 * Demo data for a local instance: what a newcomer sees first. One user with two years of a
 * realistic life in three currencies — checking, savings, a wallet and a credit card in USD, a
 * euro and a pound account — salary, rent, a subscription, the card's monthly payment and a
 * monthly saving as recurring rules (their two years of occurrences are created at once), weekly
 * groceries, everyday spending, trips abroad, transfers with exchange, budgets and goals. Written
 * through the public API (the same validation as any client), never used by tests for
 * correctness. Deterministic: the same `today` gives the same data.
 */
export interface SeedResult {
  email: string;
  password: string;
  accounts: number;
  transactions: number;
  recurringRules: number;
  budgets: number;
  goals: number;
}

type Api = (path: string, init: { method: string; json?: unknown; token?: string }) => Promise<{ status: number; body: Record<string, unknown> }>;

const DAY = 86_400_000;

/** A small seeded PRNG (mulberry32): the same demo every time for the same day. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;

export async function seedDemo(api: Api, opts: { email: string; password: string; today: string }): Promise<SeedResult> {
  const reg = await api('/auth/register', { method: 'POST', json: { email: opts.email, password: opts.password, name: 'Demo User', currency: 'USD', timeZone: 'UTC' } });
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  if (reg.status === 409) throw new Error(`${opts.email} exists already: the demo data was seeded before`);
  const login = await api('/auth/login', { method: 'POST', json: { email: opts.email, password: opts.password } });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const token = String(login.body.accessToken);
  const make = async (path: string, json: unknown) => {
    const r = await api(path, { method: 'POST', json, token });
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const account = async (name: string, type: string, currency: string, openingBalance: string) => String((await make('/accounts', { name, type, currency, openingBalance })).id);
  const checking = await account('Checking', 'bank', 'USD', '3200.00');
  const savings = await account('Savings', 'bank', 'USD', '8000.00');
  const wallet = await account('Wallet', 'cash', 'USD', '120.00');
  const card = await account('Credit card', 'credit', 'USD', '0.00');
  const euro = await account('Euro account', 'bank', 'EUR', '450.00');
  const pound = await account('Pound account', 'bank', 'GBP', '200.00');

  const cats = await api('/categories?limit=500', { method: 'GET', token });
  const category = new Map(((cats.body.data as { id: string; name: string }[]) ?? []).map((c) => [c.name, c.id]));
  const cat = (name: string) => {
    const id = category.get(name);
    if (!id) throw new Error(`no default category ${name}`);
    return id;
  };

  const todayMs = Date.parse(`${opts.today}T00:00:00Z`);
  const start = new Date(todayMs - 729 * DAY);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  // The first of the month two years ago: the recurring rules start there.
  const firstOfMonth = `${day(start.getTime()).slice(0, 8)}01`;
  const dayOfMonth = (d: number) => `${firstOfMonth.slice(0, 8)}${String(d).padStart(2, '0')}`;

  // Recurring rules: the regular part of life, two years of occurrences each, created by the
  // server at once (one request per rule, not one per occurrence).
  const rules = [
    { type: 'income', accountId: checking, amount: '4200.00', categoryId: cat('Salary'), notes: 'Salary', frequency: 'monthly', startDate: dayOfMonth(1) },
    { type: 'expense', accountId: checking, amount: '1450.00', categoryId: cat('Rent'), notes: 'Rent', frequency: 'monthly', startDate: dayOfMonth(2) },
    { type: 'transfer', accountId: checking, toAccountId: savings, amount: '400.00', notes: 'Monthly saving', frequency: 'monthly', startDate: dayOfMonth(3) },
    { type: 'expense', accountId: card, amount: '15.99', categoryId: cat('Entertainment'), notes: 'Streaming subscription', frequency: 'monthly', startDate: dayOfMonth(5) },
    { type: 'expense', accountId: checking, amount: '96.40', categoryId: cat('Utilities'), notes: 'Electricity and water', frequency: 'monthly', startDate: dayOfMonth(8) },
    { type: 'transfer', accountId: checking, toAccountId: wallet, amount: '100.00', notes: 'Cash withdrawal', frequency: 'monthly', startDate: dayOfMonth(12) },
    { type: 'expense', accountId: wallet, amount: '45.00', categoryId: cat('Transport'), notes: 'Bus pass', frequency: 'monthly', startDate: dayOfMonth(14) },
    { type: 'transfer', accountId: checking, toAccountId: card, amount: '700.00', notes: 'Credit card payment', frequency: 'monthly', startDate: dayOfMonth(20) },
    { type: 'expense', accountId: card, amount: '92.50', categoryId: cat('Food'), notes: 'Weekly groceries', frequency: 'weekly', startDate: day(start.getTime()) },
  ];
  for (const r of rules) await make('/recurring', { ...r, interval: 1 });

  // The irregular part, day by day: a cinema, an online order, the pharmacy, the market; a week in
  // Portugal each July in euros, a long weekend in London each April in pounds, a year-end bonus.
  const rand = prng(Number(opts.today.replace(/-/g, '')));
  const tx: Record<string, unknown>[] = [];
  for (let ms = start.getTime(); ms <= todayMs; ms += DAY) {
    const date = day(ms);
    const weekday = new Date(ms).getUTCDay();
    const dom = new Date(ms).getUTCDate();
    const month = new Date(ms).getUTCMonth();
    if (weekday === 5 && dom <= 7 && rand() < 0.6) tx.push({ accountId: card, type: 'expense', amount: cents(1200 + Math.floor(rand() * 3000)), date, categoryId: cat('Entertainment'), notes: 'Cinema' });
    if (dom === 15 && rand() < 0.6) tx.push({ accountId: card, type: 'expense', amount: cents(2000 + Math.floor(rand() * 12000)), date, categoryId: cat('Shopping'), notes: 'Online order' });
    if (dom === 25 && month % 3 === 0) tx.push({ accountId: checking, type: 'expense', amount: cents(2500 + Math.floor(rand() * 4000)), date, categoryId: cat('Health'), notes: 'Pharmacy' });
    if (weekday === 0 && dom > 21 && rand() < 0.5) tx.push({ accountId: wallet, type: 'expense', amount: cents(800 + Math.floor(rand() * 2500)), date, categoryId: cat('Food'), notes: 'Farmers market' });
    if (month === 6 && dom === 1) tx.push({ accountId: checking, type: 'transfer', toAccountId: euro, amount: '600.00', toAmount: '552.00', date, notes: 'Euros for the trip' });
    if (month === 6 && dom >= 2 && dom <= 8 && dom % 2 === 0) tx.push({ accountId: euro, type: 'expense', amount: cents(3000 + Math.floor(rand() * 6000)), date, categoryId: cat('Food'), notes: 'Dinner in Lisbon' });
    if (month === 3 && dom === 10) tx.push({ accountId: checking, type: 'transfer', toAccountId: pound, amount: '300.00', toAmount: '237.50', date, notes: 'Pounds for London' });
    if (month === 3 && dom === 11) tx.push({ accountId: pound, type: 'expense', amount: cents(1500 + Math.floor(rand() * 3000)), date, categoryId: cat('Transport'), notes: 'Tube and trains' });
    if (dom === 28 && month === 11) tx.push({ accountId: checking, type: 'income', amount: '1500.00', date, categoryId: cat('Other income'), notes: 'Year-end bonus' });
  }
  for (const t of tx) await make('/transactions', t);

  const budgets = [
    { categoryId: cat('Food'), amount: '650.00', period: 'monthly' },
    { categoryId: cat('Entertainment'), amount: '120.00', period: 'monthly' },
    { categoryId: cat('Transport'), amount: '60.00', period: 'weekly' },
  ];
  for (const b of budgets) await make('/budgets', b);
  const target = day(todayMs + 365 * DAY);
  await make('/goals', { name: 'Emergency fund', targetAmount: '20000.00', targetDate: target, accountIds: [savings] });
  await make('/goals', { name: 'Summer in Portugal', targetAmount: '2500.00', targetDate: target, accountIds: [euro, savings] });

  return { email: opts.email, password: opts.password, accounts: 6, transactions: tx.length, recurringRules: rules.length, budgets: budgets.length, goals: 2 };
}
