import { buildDashboard, DASHBOARD_BUILD, ensureDashboard } from '../../realtime/dashboard/bundle.js';

/**
 * `tsx server/cli/dashboard.ts [--if-stale] [--out <dir>]`: bundles the live dashboard (esbuild).
 * `npm start` runs it with --if-stale (a fresh clone or an edited source builds, otherwise nothing
 * happens); `npm run build` writes it into dist/ for the production server.
 */
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : DASHBOARD_BUILD;
if (!out) {
  console.error('dashboard: --out needs a folder');
  process.exit(2);
}
try {
  if (args.includes('--if-stale')) {
    if (await ensureDashboard(out)) console.error(`dashboard: bundled into ${out}`);
  } else {
    await buildDashboard(out);
    console.error(`dashboard: bundled into ${out}`);
  }
} catch (err) {
  console.error(`dashboard: build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
