/**
 * SHA-256 of exactly what a model is trained from: language, each non-empty intent's name and
 * example texts, and the counterexample texts. Canonical (sorted) so that reordering intents or
 * examples — which the API allows without changing meaning — does not make a model stale;
 * descriptions, timestamps and intents without examples do not enter it, as they do not enter
 * the model.
 */
import { createHash } from 'node:crypto';
import type { TrainingData } from './model.ts';

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function trainingDataHash(data: TrainingData): string {
  const canonical = {
    language: data.language,
    intents: data.intents
      .filter((i) => i.examples.length > 0)
      .map((i) => [i.intent, i.examples.map((e) => e.text).sort(byCodeUnit)] as const)
      .sort((a, b) => byCodeUnit(a[0], b[0])),
    counterexamples: (data.counterexamples ?? []).map((e) => e.text).sort(byCodeUnit),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
