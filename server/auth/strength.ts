import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FieldError } from '../shared/errors.js';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/**
 * zxcvbn runs in a small worker pool: a burst of registrations must not block the event loop
 * (measured: ~50 ms of CPU per check; 100 at once stalled every request for seconds).
 * One thread (~80 MB with the dictionaries) that exits when idle: registrations are rare, and a
 * second thread cost 100 MB of peak RSS for 100 registrations at once while saving 0.6 s of 3.5 s.
 */
const pool = new Piscina({
  filename: fileURLToPath(new URL('./strength.worker.mjs', import.meta.url)),
  minThreads: 0,
  maxThreads: 1,
  idleTimeout: 500,
});

/** Problems with a new password (length, common or guessable, built from the user's own data); empty when fine. */
export async function passwordProblems(password: string, path: string, userInputs: string[] = []): Promise<FieldError[]> {
  if (password.length < PASSWORD_MIN) return [{ path, message: `must be at least ${PASSWORD_MIN} characters` }];
  if (password.length > PASSWORD_MAX) return [{ path, message: `must be at most ${PASSWORD_MAX} characters` }];
  const weakness = (await pool.run({ password, userInputs })) as string | null;
  return weakness ? [{ path, message: `is too common or easy to guess: ${weakness}` }] : [];
}
