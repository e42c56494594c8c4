import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { useTestApp } from '../helpers/app.js';
import { registerAdmin } from '../helpers/admin.js';
import { closeAllSockets, connect } from '../helpers/sockets.js';
import { registerAndLogin, totpCode } from '../helpers/users.js';

/**
 * The admin panel in a real Chromium: an admin with 2FA signs in, finds the Users list with the
 * database's total, disables a user (whose API login and live socket end at once) and finds the
 * disable in the audit logs. Screenshots of each page go to test/artifacts/.
 */
const ARTIFACTS = path.resolve('test/artifacts');
const STEP = 30_000;

let browser: Browser;
const t = useTestApp(
  {},
  {
    startTimeoutMs: 300_000,
    beforeStop: async () => {
      closeAllSockets();
      await browser?.close();
    },
  },
);
beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 300_000);

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `admin-${name}.png`), fullPage: true });

it('an admin signs in with TOTP, disables a user (their login and socket end), and finds it in the audit logs', async () => {
  const admin = await registerAdmin(t);
  const { secret } = await (await t.api('/auth/2fa/setup', { method: 'POST', token: admin.accessToken })).json();
  expect((await t.api('/auth/2fa/enable', { method: 'POST', token: admin.accessToken, json: { code: totpCode(secret, t.clock.now()), password: admin.password } })).status).toBe(200);
  const target = await registerAndLogin(t, { name: 'Tess Target' });
  const socket = await connect(t, target.accessToken);

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  // A loaded CI machine can take a while to parse AdminJS's bundles on first load; waits stay event-driven.
  page.setDefaultTimeout(60_000);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });

  // Sign in: anonymous /admin lands on the sign-in form.
  await page.goto(`${t.url}/admin`);
  await page.waitForURL(/\/admin\/login$/);
  await page.locator('input[name=email]').fill(admin.email);
  await page.locator('input[name=password]').fill(admin.password);
  t.clock.advance(STEP);
  await page.locator('input[name=code]').fill(totpCode(secret, t.clock.now()));
  await shot(page, 'login');
  await page.locator('button[type=submit]').click();
  await page.waitForURL(`${t.url}/admin`);
  const usersTotal = Number((await t.db('users').count({ n: '*' }).first())!.n);
  await page.getByTestId('users-total').getByText(String(usersTotal), { exact: true }).waitFor();
  await page.getByTestId('chain-status').getByText('intact').waitFor();
  await shot(page, 'dashboard');

  // Users list with the database's total.
  await page.goto(`${t.url}/admin/resources/users`);
  const totalNow = Number((await t.db('users').count({ n: '*' }).first())!.n);
  // AdminJS shows the list's total as a badge by the heading: the resource's count(), not a page length.
  await page.locator('h2').filter({ hasText: 'List' }).getByText(String(totalNow), { exact: true }).waitFor();
  await shot(page, 'users');
  // The target through the list's email filter: in a shared test database it need not be on page 1
  // (other files' users may carry later created_at from their own moved clocks).
  await page.goto(`${t.url}/admin/resources/users?filters.email=${encodeURIComponent(target.email)}`);
  await page.getByText(target.email).first().waitFor();

  // Disable the target through the record's action and its confirmation page.
  await page.goto(`${t.url}/admin/resources/users/records/${target.id}/show`);
  await page.getByText(target.email).first().waitFor();
  await shot(page, 'user-show');
  await page.locator('a, button').filter({ hasText: /^\s*Disable\s*$/ }).first().click();
  await page.getByTestId('confirm-action').waitFor();
  await shot(page, 'disable-confirm');
  await page.getByTestId('confirm-button').click();
  await page.waitForURL(new RegExp(`/admin/resources/users/records/${target.id}/show$`));
  expect(await socket.disconnected).toMatchObject({ reason: 'io server disconnect' });
  const login = await t.api('/auth/login', { method: 'POST', json: { email: target.email, password: target.password } });
  expect(login.status).toBe(401);
  expect((await login.json()).code).toBe('account_disabled');
  expect((await t.db('users').where({ id: target.id }).first()).disabled).toBe(true);

  // The audit logs show the disable, newest first, with the admin as actor.
  await page.goto(`${t.url}/admin/resources/audit_logs`);
  const row = page.locator('tr').filter({ hasText: 'user.disabled' }).filter({ hasText: target.id.slice(0, 8) }).first();
  await row.waitFor();
  await shot(page, 'audit-logs');
  const entry = await t.db('audit_logs').where({ user_id: target.id, action: 'user.disabled' }).first();
  expect(entry.actor_id).toBe(admin.id);

  // The chain verification page.
  await page.locator('a, button').filter({ hasText: /^\s*Verify chain\s*$/ }).first().click();
  await page.getByTestId('chain-ok').getByText(`${await t.db('audit_logs').count({ n: '*' }).first().then((r) => r!.n)} entries checked`, { exact: false }).waitFor();
  await shot(page, 'audit-chain');

  // The panel's CSP lets everything it needs load; the one thing it blocks on purpose is AdminJS's
  // Google Fonts stylesheet (a third-party request from an admin's browser; the system font is used).
  expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e) && !e.includes('https://fonts.googleapis.com/'))).toEqual([]);
  await context.close();
}, 300_000);
