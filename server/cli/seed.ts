import { randomBytes } from 'node:crypto';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startInstance } from '../runtime.js';
import { seedDemo } from '../../seeds/demo.js';

/**
 * `npm run seed`: demo data through the API of a short-lived instance on the configured database
 * (embedded when DATABASE_URL is unset). Refused in production. Prints the demo login.
 */
const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
if (config.env === 'production') {
  console.error('numina: refusing to seed demo data in production');
  process.exit(1);
}
const running = await startInstance(config, createLogger('warn'));
try {
  const api = async (path: string, init: { method: string; json?: unknown; token?: string }) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const res = await fetch(running.url + path, { method: init.method, headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  const email = process.env.SEED_EMAIL ?? 'demo@numina.local';
  const password = process.env.SEED_PASSWORD ?? `demo-${randomBytes(9).toString('base64url')}`;
  const result = await seedDemo(api, { email, password, today: new Date().toISOString().slice(0, 10) });
  console.log(
    `seeded ${result.accounts} accounts, ${result.transactions} transactions, ${result.recurringRules} recurring rules (two years of occurrences), ${result.budgets} budgets and ${result.goals} goals\nlog in as ${result.email} / ${result.password}`);
} catch (err) {
  console.error(`seed failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await running.stop();
}
