// Runs in a worker thread (see strength.ts): zxcvbn takes tens of milliseconds of CPU per
// password, which on the main thread would stall every other request. Plain JavaScript so it
// loads the same under node, tsx and jest.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

/** zxcvbn score (0–4) a password needs: 3 = "safely unguessable: moderate protection from offline attacks". */
const MIN_SCORE = 3;

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});

/** @param {{ password: string, userInputs: string[] }} input @returns {string | null} why it is too weak, or null */
export default function weakness({ password, userInputs }) {
  const inputs = userInputs.flatMap((s) => [s, ...s.split(/[@.\s_+-]+/)]).filter((s) => s.length >= 3);
  const r = zxcvbn.check(password, inputs);
  if (r.score >= MIN_SCORE) return null;
  return r.feedback.warning || r.feedback.suggestions[0] || 'it is too easy to guess';
}
