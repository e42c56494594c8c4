import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FieldError } from '../shared/errors.js';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/**
 * zxcvbn runs in a small worker pool: a burst of registrations must not block the event loop
 * (measured: ~50 ms of CPU per check; 100 at once stalled every request for seconds).
 * Threads exit when idle, so the pool costs nothing between uses and never keeps a process alive.
 */
const pool = new Piscina({
  filename: fileURLToPath(new URL('./strength.worker.mjs', import.meta.url)),
  minThreads: 0,
  maxThreads: 2,
  idleTimeout: 500,
});

/** Problems with a new password (length, common or guessable, built from the user's own data); empty when fine. */
export async function passwordProblems(password: string, path: string, userInputs: string[] = []): Promise<FieldError[]> {
  if (password.length < PASSWORD_MIN) return [{ path, message: `must be at least ${PASSWORD_MIN} characters` }];
  if (password.length > PASSWORD_MAX) return [{ path, message: `must be at most ${PASSWORD_MAX} characters` }];
  const weakness: string | null = await pool.run({ password, userInputs });
  return weakness ? [{ path, message: `is too common or easy to guess: ${weakness}` }] : [];
}
