/**
 * Demo data for a local instance: one user with a bank account, a cash account, a credit card,
 * a month of salary, rent, groceries and a transfer. Written through the public API (the same
 * validation as any client), never used by tests for correctness.
 */
export interface SeedResult {
  email: string;
  password: string;
  accounts: number;
  transactions: number;
}

type Api = (path: string, init: { method: string; json?: unknown; token?: string }) => Promise<{ status: number; body: Record<string, unknown> }>;

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
  const bank = await make('/accounts', { name: 'Checking', type: 'bank', currency: 'USD', openingBalance: '2500.00' });
  const cash = await make('/accounts', { name: 'Wallet', type: 'cash', currency: 'USD', openingBalance: '120.00' });
  await make('/accounts', { name: 'Credit card', type: 'credit', currency: 'USD', openingBalance: '0.00' });
  const cats = await api('/categories', { method: 'GET', token });
  const byName = new Map(((cats.body.data as { id: string; name: string }[]) ?? []).map((c) => [c.name, c.id]));
  const month = opts.today.slice(0, 7);
  const tx = [
    { accountId: bank.id, type: 'income', amount: '4200.00', date: `${month}-01`, categoryId: byName.get('Salary'), notes: 'Salary' },
    { accountId: bank.id, type: 'expense', amount: '1450.00', date: `${month}-02`, categoryId: byName.get('Rent'), notes: 'Rent' },
    { accountId: bank.id, type: 'expense', amount: '86.40', date: `${month}-03`, categoryId: byName.get('Food'), notes: 'Groceries' },
    { accountId: cash.id, type: 'expense', amount: '12.50', date: `${month}-04`, categoryId: byName.get('Transport'), notes: 'Bus pass top-up' },
    { accountId: bank.id, type: 'transfer', amount: '200.00', date: `${month}-05`, toAccountId: cash.id, notes: 'Cash withdrawal' },
  ];
  for (const t of tx) await make('/transactions', t);
  return { email: opts.email, password: opts.password, accounts: 3, transactions: tx.length };
}
