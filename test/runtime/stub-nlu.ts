/**
 * A deliberately simple intent classifier for runtime tests: an intent's score is the best word
 * overlap between the text and one of its examples. Tests inject it where the store injects the
 * trained model, so dialog behaviour is tested without depending on the model's quality.
 */
import type { Nlu, RuntimeIntent, WorkspaceIntent } from '../../src/runtime/index.ts';

const words = (t: string): string[] => t.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

export function keywordNlu(intents: readonly WorkspaceIntent[]): Nlu {
  const examples = intents.map((i) => ({ intent: i.intent, examples: (i.examples ?? []).map((e) => words(e.text)) }));
  return {
    classify(text: string): RuntimeIntent[] {
      const tw = new Set(words(text));
      return examples
        .map(({ intent, examples: ex }) => {
          let best = 0;
          for (const ew of ex) {
            if (ew.length === 0) continue;
            const hits = ew.filter((w) => tw.has(w)).length;
            best = Math.max(best, hits / Math.max(ew.length, tw.size));
          }
          return { intent, confidence: best };
        })
        .sort((a, b) => b.confidence - a.confidence);
    },
  };
}

/** A classifier that always answers the given ranking, for tests about thresholds and ranking. */
export function fixedNlu(ranking: RuntimeIntent[]): Nlu {
  return { classify: () => ranking };
}
