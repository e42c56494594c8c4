import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { ensureDashboard } from '../../realtime/dashboard/bundle.js';
import { useTestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { closeAllSockets, connect } from '../helpers/sockets.js';
import { registerAndLogin, totpCode, type TestUser } from '../helpers/users.js';

/**
 * The live dashboard in a real Chromium, against the real server: sign in, see the seeded
 * accounts; writes made through the API (as another tab or curl would) change the balances, the
 * transactions list, a budget (one toast when it crosses a threshold) and a goal's bar without a
 * reload; a socket the server ends, two writes while it is down, and the reconnect brings both,
 * in order, once. Screenshots at desktop and phone widths go to test/artifacts/.
 */
const ARTIFACTS = path.resolve('test/artifacts');
/** Generous: a loaded CI machine is slow; the waits are on the DOM, never on time. */
const WAIT = 60_000;
const HOST = 'numina-dashboard.test';

const t = useTestApp();
let browser: Browser;
let user: TestUser;
let token: string;
const ids = { checking: '', savings: '', travel: '', food: '', salary: '', budget: '', goal: '' };

const today = () => t.clock.now().toISOString().slice(0, 10);

async function call<T = Record<string, unknown>>(method: string, url: string, json?: unknown, status = method === 'POST' ? 201 : 200): Promise<T> {
  const res = await t.api(url, { method, json, token });
  if (res.status !== status) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const spend = (accountId: string, amount: string, notes: string, categoryId?: string) =>
  call('POST', '/transactions', { accountId, type: 'expense', amount, date: today(), notes, ...(categoryId ? { categoryId } : {}) });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // The bundle the server serves: built here when missing or stale, as `npm start` does.
  await ensureDashboard();
  // A name other than 127.0.0.1 over plain HTTP: not a "secure context" to the browser, as on a LAN.
  browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  user = await registerAndLogin(t, { name: 'Dana Dashboard', currency: 'USD', timeZone: 'UTC' });
  token = user.accessToken;
  ids.checking = (await call<{ id: string }>('POST', '/accounts', { name: 'Everyday checking', type: 'bank', currency: 'USD', openingBalance: '1000.00' })).id;
  ids.savings = (await call<{ id: string }>('POST', '/accounts', { name: 'Savings', type: 'bank', currency: 'USD', openingBalance: '5000.00' })).id;
  ids.travel = (await call<{ id: string }>('POST', '/accounts', { name: 'Travel cash', type: 'cash', currency: 'EUR', openingBalance: '200.00' })).id;
  const categories = (await call<{ data: { id: string; name: string }[] }>('GET', '/categories?limit=500')).data;
  ids.food = categories.find((c) => c.name === 'Food')!.id;
  ids.salary = categories.find((c) => c.name === 'Salary')!.id;
  await call('POST', '/transactions', { accountId: ids.checking, type: 'income', amount: '2500.00', date: today(), categoryId: ids.salary, notes: 'Salary' });
  await spend(ids.checking, '50.00', 'Groceries', ids.food);
  ids.budget = (await call<{ id: string }>('POST', '/budgets', { categoryId: ids.food, amount: '200.00', period: 'monthly', thresholds: ['0.5', '0.8', '1'] })).id;
  const inAYear = new Date(t.clock.now().getTime() + 365 * 86_400_000).toISOString().slice(0, 10);
  ids.goal = (await call<{ id: string }>('POST', '/goals', { name: 'Holiday', targetAmount: '8000.00', targetDate: inAYear, accountIds: [ids.savings] })).id;
}, 300_000);
afterAll(async () => {
  closeAllSockets();
  await browser?.close();
});

/**
 * The total in the user's currency as the API reports it now (the last net-worth point). Exchange
 * rates are shared by every user of the instance, so whether the EUR account counts (a EUR→USD rate
 * on or before today, which other tests of this run may have stored) is read, not assumed.
 */
async function totalShown(): Promise<string> {
  const report = await call<{ points: { netWorth: string }[]; currency: string }>('GET', '/reports/net-worth?interval=month');
  const [int, frac] = report.points[report.points.length - 1].netWorth.split('.');
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac} ${report.currency}`;
}

const balance = (page: Page, accountId: string) => page.locator(`[data-account-id="${accountId}"] .balance`);
const rows = (page: Page) => page.locator('#transactions tr .description');
const goalBar = (page: Page) => page.locator(`[data-goal-id="${ids.goal}"] [role=progressbar]`);
const budgetBar = (page: Page) => page.locator(`[data-budget-id="${ids.budget}"] [role=progressbar]`);
const connection = (page: Page, state: string) => page.locator(`#connection[data-state="${state}"]`);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });

it('signs in, shows the accounts, and follows writes made elsewhere live: balances, transactions, a budget alert toast once, a goal bar, a reconnect that misses nothing', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });

  // The page comes from the server itself, under a CSP without inline script or style.
  const res = await page.goto(`http://${HOST}:${new URL(t.url).port}/dashboard`);
  expect(res!.status()).toBe(200);
  const csp = res!.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain('unsafe-inline');

  // Sign in (keyboard only: the form submits on Enter).
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByLabel('Password').press('Enter');
  await balance(page, ids.checking).filter({ hasText: '3,450.00 USD' }).waitFor();
  await balance(page, ids.savings).filter({ hasText: '5,000.00 USD' }).waitFor();
  await balance(page, ids.travel).filter({ hasText: '200.00 EUR' }).waitFor();
  await page.locator('[data-total-currency="USD"]').filter({ hasText: '8,450.00 USD' }).waitFor();
  await page.locator('[data-total="user-currency"]').filter({ hasText: await totalShown() }).waitFor();
  await rows(page).first().filter({ hasText: 'Groceries' }).waitFor();
  await page.locator('#networth-chart').waitFor();
  await connection(page, 'live').waitFor();
  expect(await budgetBar(page).getAttribute('aria-valuenow')).toBe('25');
  expect(await goalBar(page).getAttribute('aria-valuenow')).toBe('62.5');
  // A marker that a reload would wipe: everything below happens on this one page load.
  await page.evaluate(() => ((window as unknown as { numinaMarker: number }).numinaMarker = 42));

  // An expense through the API: the balance and the transactions list change in place.
  await spend(ids.checking, '30.00', 'Coffee beans', ids.food);
  await balance(page, ids.checking).filter({ hasText: '3,420.00 USD' }).waitFor();
  await rows(page).first().filter({ hasText: 'Coffee beans' }).waitFor();
  await page.locator(`[data-budget-id="${ids.budget}"] [role=progressbar][aria-valuenow="40"]`).waitFor();

  // Crossing the budget's 50 % threshold: one toast, and the alert among the unread notifications.
  await spend(ids.checking, '25.00', 'Dinner out', ids.food);
  await page.locator('.toast').filter({ hasText: 'Food budget passed 50%' }).waitFor();
  await page.locator('#notifications li').filter({ hasText: 'reached 50%' }).waitFor();
  // A later write is the barrier: once it shows, any repeat of the alert would have arrived before it.
  await spend(ids.checking, '1.00', 'Gum', ids.food);
  await rows(page).first().filter({ hasText: 'Gum' }).waitFor();
  expect(await page.locator('.toast').count()).toBe(1);

  // Income into the goal's account: the goal's bar moves.
  await call('POST', '/transactions', { accountId: ids.savings, type: 'income', amount: '1000.00', date: today(), notes: 'Bonus saved' });
  await page.locator(`[data-goal-id="${ids.goal}"] [role=progressbar][aria-valuenow="75"]`).waitFor();
  await balance(page, ids.savings).filter({ hasText: '6,000.00 USD' }).waitFor();
  await page.locator('[data-total-currency="USD"]').filter({ hasText: '9,394.00 USD' }).waitFor();
  await page.locator('[data-total="user-currency"]').filter({ hasText: await totalShown() }).waitFor();

  // The page's own form (keyboard only): a bad amount is named next to its field and changes
  // nothing; a good one shows up through the same live path.
  await page.getByLabel('Amount').fill('4.505');
  await page.getByLabel('Category').selectOption({ label: 'Food' });
  await page.getByLabel('Notes').fill('Typed in the form');
  await page.getByLabel('Notes').press('Enter');
  await page.locator('#add-amount[aria-invalid="true"]').waitFor();
  expect(await page.locator('#add-amount-error').textContent()).toMatch(/\S/);
  await page.getByLabel('Amount').fill('4.50');
  await page.getByLabel('Amount').press('Enter');
  await rows(page).first().filter({ hasText: 'Typed in the form' }).waitFor();
  await balance(page, ids.checking).filter({ hasText: '3,389.50 USD' }).waitFor();
  expect(await rows(page).filter({ hasText: 'Typed in the form' }).count()).toBe(1);
  expect(await t.db('transactions').where({ user_id: user.id, notes: 'Typed in the form' }).count({ n: '*' }).first()).toEqual({ n: '1' });

  // The budget and the total follow the form's expense too (reloaded after the event).
  await page.locator(`[data-budget-id="${ids.budget}"]`).filter({ hasText: '110.50 USD of 200.00 USD' }).waitFor();
  await page.locator('[data-total-currency="USD"]').filter({ hasText: '9,389.50 USD' }).waitFor();
  await page.locator('[data-total="user-currency"]').filter({ hasText: await totalShown() }).waitFor();

  await shot(page, 'desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  // Readable at phone width: once the chart has followed the resize, nothing is wider than the screen.
  await page.waitForFunction(() => document.documentElement.scrollWidth <= 390);
  await shot(page, 'phone');
  await page.setViewportSize({ width: 1366, height: 900 });

  // The server ends the socket (its token expires on the app clock); the page's token refresh is
  // held while two writes happen, then let through: the socket reconnects, resumes from its last
  // seq, and shows both writes, in order, once.
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await page.route('**/auth/refresh', async (route: Route) => {
    await released;
    await route.continue();
  });
  t.clock.advance(16 * 60_000);
  await connection(page, 'reconnecting').waitFor();
  const login = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } });
  token = ((await login.json()) as { accessToken: string }).accessToken;
  await spend(ids.checking, '11.00', 'While away 1');
  await spend(ids.checking, '12.00', 'While away 2');
  release();
  await connection(page, 'live').waitFor();
  await balance(page, ids.checking).filter({ hasText: '3,366.50 USD' }).waitFor();
  await rows(page).nth(1).filter({ hasText: 'While away 1' }).waitFor();
  const texts = await rows(page).allTextContents();
  expect(texts.slice(0, 3)).toEqual(['While away 2', 'While away 1', 'Typed in the form']);
  expect(texts.filter((x) => x.startsWith('While away'))).toHaveLength(2);
  // Delivered in seq order: the second write's event came right after the first's pair (transaction, balance).
  const seqOf = async (notes: string) => Number(await page.locator('#transactions tr').filter({ hasText: notes }).getAttribute('data-seq'));
  expect(await seqOf('While away 2')).toBe((await seqOf('While away 1')) + 2);
  await page.unroute('**/auth/refresh');

  expect(await page.evaluate(() => (window as unknown as { numinaMarker?: number }).numinaMarker)).toBe(42);
  expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
  // The one failed request is the form's deliberate bad amount (its 400 is also what Chromium logs).
  expect(failed).toEqual(['400 POST /transactions']);
  // Chromium's notice that helmet's Cross-Origin-Opener-Policy has no effect on plain HTTP to a LAN name is not an error of the page.
  const expected = (p: string) => /^Failed to load resource: the server responded with a status of 400/.test(p) || /^The Cross-Origin-Opener-Policy header has been ignored/.test(p);
  expect(problems.filter((p) => !expected(p))).toEqual([]);
  await context.close();
}, 300_000);

it('renews its token before expiry and re-authenticates the open socket, which outlives the first token', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  // The page refreshes a minute before `expiresIn`: the login's answer says 65 s (the token itself
  // still lives 15 min on the server), so the refresh is due after 5 s. It is held until the app
  // clock has moved, so the new token's expiry is clearly past the first one's.
  await page.route('**/auth/login', async (route: Route) => {
    // Fetched from the test process, which resolves the browser's host name itself.
    const response = await route.fetch({ url: route.request().url().replace(`//${HOST}:`, '//127.0.0.1:') });
    const body = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: response.ok() ? { ...body, expiresIn: 65 } : body });
  });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await page.route('**/auth/refresh', async (route: Route) => {
    await released;
    await route.continue();
  });
  await page.goto(`http://${HOST}:${new URL(t.url).port}/dashboard`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await connection(page, 'live').waitFor();
  // A witness: a socket of another login, whose token is never renewed.
  const login = await t.api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
  const witness = await connect(t, ((await login.json()) as { accessToken: string }).accessToken);
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { numinaStates: string[] }).numinaStates = seen;
    const el = document.getElementById('connection')!;
    new MutationObserver(() => seen.push(el.dataset.state ?? '')).observe(el, { attributes: true, attributeFilter: ['data-state'] });
  });

  t.clock.advance(10 * 60_000);
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/auth/refresh'));
  release();
  expect((await refreshed).status()).toBe(200);
  await page.locator('#connection[data-renewed-at]').waitFor();

  // Past the first token's expiry: the server ends the witness (token_expired) in the same sweep that
  // checks the page's socket, which now holds the renewed token and stays.
  t.clock.advance(6 * 60_000);
  expect(await witness.disconnected).toEqual({ reason: 'io server disconnect', ended: 'token_expired' });
  // And it still delivers: a write shows up, and the connection never left "live".
  const again = await t.api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
  token = ((await again.json()) as { accessToken: string }).accessToken;
  await spend(ids.checking, '2.00', 'After the renewal');
  await rows(page).first().filter({ hasText: 'After the renewal' }).waitFor();
  expect(await page.evaluate(() => (window as unknown as { numinaStates: string[] }).numinaStates)).toEqual([]);
  await context.close();
}, 300_000);

it('asks for the authenticator code when two-factor is on, and goes back to sign-in when that login is revoked elsewhere', async () => {
  const owner = await registerAndLogin(t, { name: 'Tess Two-Factor', currency: 'USD', timeZone: 'UTC' });
  const { secret } = (await (await t.api('/auth/2fa/setup', { method: 'POST', token: owner.accessToken })).json()) as { secret: string };
  expect((await t.api('/auth/2fa/enable', { method: 'POST', token: owner.accessToken, json: { code: totpCode(secret, t.clock.now()), password: owner.password } })).status).toBe(200);
  const wallet = (await (await t.api('/accounts', { method: 'POST', token: owner.accessToken, json: { name: 'Wallet', type: 'cash', currency: 'USD', openingBalance: '42.00' } })).json()) as { id: string };

  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`http://${HOST}:${new URL(t.url).port}/dashboard`);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByLabel('Password').press('Enter');
  // The code the enable used cannot be replayed: the next 30 s step's.
  await page.getByLabel('Authenticator code').waitFor();
  t.clock.advance(30_000);
  await page.getByLabel('Authenticator code').fill(totpCode(secret, t.clock.now()));
  await page.getByLabel('Authenticator code').press('Enter');
  await balance(page, wallet.id).filter({ hasText: '42.00 USD' }).waitFor();
  await connection(page, 'live').waitFor();

  // The page's login, revoked from another device: the socket is ended and the page signs out.
  const sessions = (await (await t.api('/auth/sessions', { token: owner.accessToken })).json()) as { data: { id: string; current: boolean }[] };
  const theirs = sessions.data.filter((s) => !s.current);
  expect(theirs).toHaveLength(1);
  expect((await t.api(`/auth/sessions/${theirs[0].id}`, { method: 'DELETE', token: owner.accessToken })).status).toBe(204);
  await page.locator('#signin-error').filter({ hasText: 'ended elsewhere' }).waitFor();
  await connection(page, 'offline').waitFor();
  expect(await page.locator('#dashboard').isHidden()).toBe(true);
  await context.close();
}, 300_000);
