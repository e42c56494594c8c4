import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the live dashboard (realtime/dashboard/src, TypeScript for the browser) into one ES module
 * with Chart.js and socket.io-client bundled in, next to its page and stylesheet: nothing comes from
 * a CDN, and the server serves the folder as it is (server/system/dashboard.ts).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
/** The sources (this folder). */
export const DASHBOARD_SRC = here;
/** Where `npm start` builds and the development server serves from (git-ignored). */
export const DASHBOARD_BUILD = path.join(here, 'build');
const STATIC_FILES = ['index.html', 'dashboard.css', 'favicon.svg'];
const ROOT = path.resolve(here, '../..');

/** Builds into `outDir` (created); returns the files written. */
export async function buildDashboard(outDir: string = DASHBOARD_BUILD): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(DASHBOARD_SRC, 'src/main.ts')],
    outfile: path.join(outDir, 'dashboard.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'silent',
    metafile: true,
  });
  for (const f of STATIC_FILES) await cp(path.join(DASHBOARD_SRC, f), path.join(outDir, f));
  return [...Object.keys(result.metafile.outputs).map((f) => path.resolve(ROOT, f)), ...STATIC_FILES.map((f) => path.join(outDir, f))];
}

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== DASHBOARD_BUILD) newest = Math.max(newest, await newestSource(full));
    } else newest = Math.max(newest, (await stat(full)).mtimeMs);
  }
  return newest;
}

/** True when the bundle is missing, or older than a source file or the lockfile (a new Chart.js). */
export async function dashboardIsStale(outDir: string = DASHBOARD_BUILD): Promise<boolean> {
  let built: number;
  try {
    const times = await Promise.all(['dashboard.js', ...STATIC_FILES].map(async (f) => (await stat(path.join(outDir, f))).mtimeMs));
    built = Math.min(...times);
  } catch {
    return true;
  }
  const sources = Math.max(await newestSource(DASHBOARD_SRC), (await stat(path.join(ROOT, 'package-lock.json'))).mtimeMs);
  return sources > built;
}

/** Builds when stale; says whether it did. */
export async function ensureDashboard(outDir: string = DASHBOARD_BUILD): Promise<boolean> {
  if (!(await dashboardIsStale(outDir))) return false;
  await buildDashboard(outDir);
  return true;
}
