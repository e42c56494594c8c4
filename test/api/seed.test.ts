import { seedDemo } from '../../seeds/demo.js';
import { checkLedger } from '../../server/transactions/index.js';
import { useTestApp } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';

const t = useTestApp();

interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

describe('demo seed', () => {
  it('gives the demo user two years in three currencies with recurring rules, budgets and goals, balances that add up, and refuses to run twice', async () => {
    const api = async (path: string, init: { method: string; json?: unknown; token?: string }) => {
      const res = await t.api(path, { method: init.method, json: init.json, token: init.token });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    const today = new Date().toISOString().slice(0, 10);
    const email = uniqueEmail('demo');
    const result = await seedDemo(api, { email, password: 'Demo-seed-passphrase-42', today });
    expect(result).toMatchObject({ accounts: 6, recurringRules: 9, budgets: 3, goals: 2 });
    const login = await api('/auth/login', { method: 'POST', json: { email, password: 'Demo-seed-passphrase-42' } });
    const token = String(login.body.accessToken);
    const get = async <T>(path: string) => (await api(path, { method: 'GET', token })).body as unknown as T;

    const accounts = await get<Page<{ id: string; name: string; currency: string; balance: string }>>('/accounts');
    expect(new Set(accounts.data.map((a) => a.currency))).toEqual(new Set(['USD', 'EUR', 'GBP']));

    // Every transaction, page by page: two years of them, the recurring rules' occurrences among them.
    const all: { date: string; recurringId: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<{ date: string; recurringId: string | null }> = await get(`/transactions?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    const dates = all.map((x) => x.date).sort();
    const spanDays = (Date.parse(dates[dates.length - 1]) - Date.parse(dates[0])) / 86_400_000;
    expect(spanDays).toBeGreaterThanOrEqual(700);
    // 8 monthly rules over two years (24 or 25 occurrences each) and the weekly groceries (104 or 105).
    const occurrences = all.filter((x) => x.recurringId).length;
    expect(occurrences).toBeGreaterThanOrEqual(8 * 24 + 104);
    expect(all.length).toBe(result.transactions + occurrences);

    // The stored balances are what the ledger proves them to be.
    const user = (login.body.user as { id: string }).id;
    expect(await checkLedger(t.db, { userId: user })).toMatchObject({ ok: true, accountsChecked: 6, transactionsChecked: all.length });

    expect((await get<Page<unknown>>('/budgets')).data).toHaveLength(3);
    expect((await get<Page<unknown>>('/goals')).data).toHaveLength(2);
    expect((await get<Page<unknown>>('/recurring')).data).toHaveLength(9);

    await expect(seedDemo(api, { email, password: 'Demo-seed-passphrase-42', today })).rejects.toThrow(/seeded before/);
  }, 120_000);
});
