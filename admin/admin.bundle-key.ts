/**
 * The panel's own React components, and the content hash that names their bundle. Kept apart from
 * admin.panel.ts: it must load before any AdminJS module does.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const COMPONENT_FILES = {
  Login: 'login.jsx',
  Dashboard: 'dashboard.jsx',
  ConfirmAction: 'confirm-action.jsx',
  ChainStatus: 'chain-status.jsx',
} as const;

export const componentPath = (file: string) => path.join(here, 'components', file);

/**
 * A hash of everything that goes into the components bundle (component sources, the AdminJS
 * version, the mode): a restart with the same code reuses the bundle built before, a new version
 * never serves a stale one.
 */
export async function bundleKey(): Promise<string> {
  const h = createHash('sha256');
  h.update(process.env.NODE_ENV === 'production' ? 'production' : 'development');
  h.update(await readFile(path.join(here, '..', 'node_modules', 'adminjs', 'package.json')).catch(() => Buffer.from('adminjs')));
  for (const [name, file] of Object.entries(COMPONENT_FILES)) h.update(name).update(await readFile(componentPath(file)));
  return h.digest('hex').slice(0, 16);
}
