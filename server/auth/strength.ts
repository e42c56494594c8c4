import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import type { FieldError } from '../shared/errors.js';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;
/** zxcvbn score (0–4) a password needs: 3 = "safely unguessable: moderate protection from offline attacks". */
const MIN_SCORE = 3;

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});

/** Problems with a new password (length, common or guessable, built from the user's own data); empty when fine. */
export function passwordProblems(password: string, path: string, userInputs: string[] = []): FieldError[] {
  if (password.length < PASSWORD_MIN) return [{ path, message: `must be at least ${PASSWORD_MIN} characters` }];
  if (password.length > PASSWORD_MAX) return [{ path, message: `must be at most ${PASSWORD_MAX} characters` }];
  const inputs = userInputs.flatMap((s) => [s, ...s.split(/[@.\s_+-]+/)]).filter((s) => s.length >= 3);
  const r = zxcvbn.check(password, inputs);
  if (r.score < MIN_SCORE) {
    const hint = r.feedback.warning || r.feedback.suggestions[0] || 'it is too easy to guess';
    return [{ path, message: `is too common or easy to guess: ${hint}` }];
  }
  return [];
}
