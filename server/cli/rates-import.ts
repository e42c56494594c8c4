import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createAuditService } from '../audit/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { migrateLatest, type Db } from '../shared/db.js';
import { EcbImportError, importEcbCsv } from '../rates/index.js';
import { withDatabase } from './db.js';

const USAGE = 'usage: npm run rates:import -- <eurofxref-hist.csv>';

/**
 * `rates-import.ts <file>`: loads an ECB historical CSV into exchange_rates, all or nothing.
 * Exit codes: 0 imported; 2 the operator's input is wrong (no file, unreadable, malformed — with
 * the line number; nothing is kept); 1 anything else. Exported for tests.
 */
export async function runRatesImport(argv: string[], db: Db, clock: Clock = systemClock): Promise<{ code: number; message: string }> {
  const [file, ...extra] = argv;
  if (!file || extra.length > 0) return { code: 2, message: USAGE };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { code: 2, message: `rates:import: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    const r = await importEcbCsv({ db, audit: createAuditService({ clock }), clock }, text, { file });
    const skipped = r.skippedCurrencies.length ? `; skipped unsupported ${r.skippedCurrencies.join(', ')}` : '';
    return { code: 0, message: `rates:import: ${r.rows} rates for ${r.currencies.length} currencies against EUR, ${r.from} to ${r.to}${skipped}` };
  } catch (err) {
    if (err instanceof EcbImportError) return { code: 2, message: `rates:import: ${file}: ${err.message}; nothing was imported` };
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { code, message } = await withDatabase(async (db) => {
      await migrateLatest(db);
      return runRatesImport(process.argv.slice(2), db);
    });
    (code === 0 ? process.stdout : process.stderr).write(`${message}\n`, () => process.exit(code));
  } catch (err) {
    process.stderr.write(`rates:import: ${err instanceof Error ? err.message : String(err)}\n`, () => process.exit(1));
  }
}
