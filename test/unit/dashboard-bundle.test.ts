import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dashboardIsStale, ensureDashboard } from '../../realtime/dashboard/bundle.js';

/**
 * The bundle `npm start` builds when missing or stale (and `npm run build` writes into dist/): built
 * into a folder of its own here, so the checkout's build is left alone.
 */
const out = mkdtempSync(path.join(tmpdir(), 'numina-dashboard-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('is built when missing, left alone when current, and rebuilt when older than a source', async () => {
  expect(await dashboardIsStale(out)).toBe(true);
  expect(await ensureDashboard(out)).toBe(true);
  expect(await dashboardIsStale(out)).toBe(false);
  expect(await ensureDashboard(out)).toBe(false);
  // As after a pull that changed a source: the bundle is older than it.
  const old = new Date('2000-01-01T00:00:00Z');
  utimesSync(path.join(out, 'dashboard.js'), old, old);
  expect(await dashboardIsStale(out)).toBe(true);
  expect(await ensureDashboard(out)).toBe(true);
  expect(await dashboardIsStale(out)).toBe(false);
}, 120_000);

it('holds a page with no inline script or style, and one script with Chart.js and socket.io-client inside (no CDN)', async () => {
  await ensureDashboard(out);
  const html = readFileSync(path.join(out, 'index.html'), 'utf8');
  expect(html).toContain('<script type="module" src="/dashboard/assets/dashboard.js"></script>');
  expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/dashboard/assets/dashboard.js">']);
  expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  const js = readFileSync(path.join(out, 'dashboard.js'), 'utf8');
  // Bundled, not imported at run time; nothing fetched from elsewhere.
  expect(js).not.toMatch(/\bimport\s*[^;]*["'](chart\.js|socket\.io-client)["']/);
  expect(js).toContain('Chart');
  expect(js).toContain('socket.io');
  expect(js).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs|jsdelivr)/);
}, 120_000);
