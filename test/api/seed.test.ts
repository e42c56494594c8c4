import { seedDemo } from '../../seeds/demo.js';
import { useTestApp } from '../helpers/app.js';
import { uniqueEmail } from '../helpers/users.js';

const t = useTestApp();

describe('demo seed', () => {
  it('creates a demo user whose balances add up, and refuses to run twice for the same email', async () => {
    const api = async (path: string, init: { method: string; json?: unknown; token?: string }) => {
      const res = await t.api(path, { method: init.method, json: init.json, token: init.token });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    const email = uniqueEmail('demo');
    const result = await seedDemo(api, { email, password: 'Demo-seed-passphrase-42', today: '2026-11-25' });
    expect(result).toMatchObject({ accounts: 3, transactions: 5 });
    const login = await api('/auth/login', { method: 'POST', json: { email, password: 'Demo-seed-passphrase-42' } });
    const accounts = await api('/accounts', { method: 'GET', token: String(login.body.accessToken) });
    const balances = Object.fromEntries((accounts.body.data as { name: string; balance: string }[]).map((a) => [a.name, a.balance]));
    // 2500 + 4200 - 1450 - 86.40 - 200 ; 120 - 12.50 + 200
    expect(balances).toEqual({ Checking: '4963.60', Wallet: '307.50', 'Credit card': '0.00' });
    await expect(seedDemo(api, { email, password: 'Demo-seed-passphrase-42', today: '2026-11-25' })).rejects.toThrow(/seeded before/);
  });
});
