import { migrateLatest, migrateRollback } from '../shared/db.js';
import { withDatabase } from './db.js';

/** `npm run migrate` (latest) and `npm run migrate:rollback` (last batch; `--all` for every one). */
const command = process.argv[2] ?? 'latest';
try {
  const names = await withDatabase((db) => (command === 'rollback' ? migrateRollback(db, process.argv.includes('--all')) : migrateLatest(db)));
  console.log(names.length ? `${command === 'rollback' ? 'rolled back' : 'applied'}:\n  ${names.join('\n  ')}` : 'nothing to do');
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
