/**
 * Offline evaluation: trains exactly as a workspace is trained (rows labelled out-of-scope in
 * the training set become counterexamples) and scores a labelled test set the way Watson's
 * runtime behaves — a top confidence below the threshold means "no intent matched".
 */
import { performance } from 'node:perf_hooks';
import type { LabelledText } from './csv.ts';
import { trainIntentModel, type IntentModel, type TrainingData } from './model.ts';

/** Watson reports no intent when the top confidence is below 0.2. */
export const DEFAULT_THRESHOLD = 0.2;

const OUT_OF_SCOPE = new Set(['oos', 'out_of_scope', 'out-of-scope', 'no_nodes_detected', 'irrelevant']);

export function isOutOfScopeLabel(intent: string): boolean {
  return OUT_OF_SCOPE.has(intent.toLowerCase());
}

export function toTrainingData(rows: LabelledText[], language = 'en'): TrainingData {
  const byIntent = new Map<string, Array<{ text: string }>>();
  const counterexamples: Array<{ text: string }> = [];
  for (const r of rows) {
    if (isOutOfScopeLabel(r.intent)) { counterexamples.push({ text: r.text }); continue; }
    let list = byIntent.get(r.intent);
    if (!list) byIntent.set(r.intent, (list = []));
    list.push({ text: r.text });
  }
  return { language, intents: [...byIntent].map(([intent, examples]) => ({ intent, examples })), counterexamples };
}

export interface Prediction {
  gold: string;
  predicted: string;
  confidence: number;
}

export function predictAll(model: IntentModel, test: LabelledText[]): Prediction[] {
  return test.map((r) => {
    const top = model.classify(r.text)[0];
    return { gold: r.intent, predicted: top?.intent ?? '', confidence: top?.confidence ?? 0 };
  });
}

export interface Scores {
  rows: number;
  /** All rows; when the test set has out-of-scope rows, in-scope rows also need top confidence ≥ threshold. */
  accuracy: number;
  inScope: { rows: number; accuracy: number; macroF1: number };
  /** Present when the test set has out-of-scope rows: share of them whose top confidence < threshold. */
  outOfScope?: { rows: number; recall: number };
  threshold: number;
}

export function scorePredictions(preds: Prediction[], threshold = DEFAULT_THRESHOLD): Scores {
  const inScope = preds.filter((p) => !isOutOfScopeLabel(p.gold));
  const oos = preds.filter((p) => isOutOfScopeLabel(p.gold));
  const argmaxRight = inScope.filter((p) => p.predicted === p.gold).length;
  const oosRight = oos.filter((p) => p.confidence < threshold).length;
  const accepted = oos.length > 0 ? inScope.filter((p) => p.predicted === p.gold && p.confidence >= threshold).length : argmaxRight;
  const scores: Scores = {
    rows: preds.length,
    accuracy: ratio(accepted + oosRight, preds.length),
    inScope: { rows: inScope.length, accuracy: ratio(argmaxRight, inScope.length), macroF1: macroF1(inScope) },
    threshold,
  };
  if (oos.length > 0) scores.outOfScope = { rows: oos.length, recall: ratio(oosRight, oos.length) };
  return scores;
}

/** Macro-F1 over the gold intents of the (in-scope) test rows, from argmax predictions. */
function macroF1(preds: Prediction[]): number {
  const gold = new Set(preds.map((p) => p.gold));
  if (gold.size === 0) return 0;
  let sum = 0;
  for (const intent of gold) {
    let tp = 0, fp = 0, fn = 0;
    for (const p of preds) {
      if (p.predicted === intent && p.gold === intent) tp++;
      else if (p.predicted === intent) fp++;
      else if (p.gold === intent) fn++;
    }
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / gold.size;
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

export interface EvaluationReport extends Scores {
  trainExamples: number;
  counterexamples: number;
  intents: number;
  trainingMs: number;
  /** Mean classify() time per test text. */
  classifyMicros: number;
}

export function evaluateIntents(train: LabelledText[], test: LabelledText[], options: { threshold?: number; language?: string } = {}): EvaluationReport {
  const data = toTrainingData(train, options.language);
  const t0 = performance.now();
  const model = trainIntentModel(data);
  const trainingMs = performance.now() - t0;
  const t1 = performance.now();
  const preds = predictAll(model, test);
  const classifyMicros = test.length === 0 ? 0 : ((performance.now() - t1) * 1000) / test.length;
  return {
    trainExamples: data.intents.reduce((s, i) => s + i.examples.length, 0),
    counterexamples: data.counterexamples?.length ?? 0,
    intents: model.intents.length,
    trainingMs,
    classifyMicros,
    ...scorePredictions(preds, options.threshold),
  };
}
