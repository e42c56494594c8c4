import { pathToFileURL } from 'node:url';
import { createAuditService } from '../audit/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { migrateLatest, type Db } from '../shared/db.js';
import { systemActor } from '../shared/write-context.js';
import { changeRole } from '../users/index.js';
import { describeError, EXIT_OPERATOR, withDatabase } from './db.js';

const USAGE = 'usage: npm run admin:promote -- <email>   |   npm run admin:demote -- <email>';

/**
 * `admin-role.ts promote|demote <email>` against `db`: sets the role (audited, actor = operator on
 * the command line). Returns the exit code and the line to print; exported for tests.
 */
export async function runAdminRole(argv: string[], db: Db, clock: Clock = systemClock): Promise<{ code: number; message: string }> {
  const [command, email] = argv;
  if ((command !== 'promote' && command !== 'demote') || !email) return { code: EXIT_OPERATOR, message: USAGE };
  const role = command === 'promote' ? 'admin' : 'user';
  const result = await changeRole(db, createAuditService({ clock }), clock, { email, role, via: `cli:${command}` }, systemActor());
  // An operator's mistake, like a bad argument: exit 2 (never 1, which scripts read as "found a problem").
  if (!result) return { code: EXIT_OPERATOR, message: `no user with email ${email}` };
  return {
    code: 0,
    message: result.before === result.after ? `${result.email} already has the role ${role}` : `${result.email}: ${result.before} -> ${result.after}`,
  };
}

// Run as a command (not when imported by a test): the server's database, embedded when DATABASE_URL is unset.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { code, message } = await withDatabase(async (db) => {
      await migrateLatest(db);
      return runAdminRole(process.argv.slice(2), db);
    });
    // An explicit exit once the line is written: the exit code is what scripts check.
    (code === 0 ? process.stdout : process.stderr).write(`${message}\n`, () => process.exit(code));
  } catch (err) {
    process.stderr.write(`${process.argv[2] ?? 'admin-role'}: ${describeError(err)}\n`, () => process.exit(EXIT_OPERATOR));
  }
}
