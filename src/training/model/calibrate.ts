/**
 * Development-time tool (run after any change to features or solver, then paste its output into
 * model.ts as CALIBRATION): fits the sigmoid that turns the top intent's margin and the text's
 * vocabulary coverage into a confidence, by weighted maximum likelihood of "the top intent is
 * right". The data never touches a benchmark's test split:
 * - HWU64 trained without fold 1 (the few-shot benchmark's test fold) and without fold k, tested
 *   on fold k (k = 2, 3), at 10, 30 and all examples per intent; 12 intents are left out of
 *   training and their test texts count as out of scope (weight 3);
 * - CLINC150's train (+ oos_train as counterexamples) tested on its validation split with oos_val.
 *
 *   node --import tsx src/training/model/calibrate.ts [shared dir]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvRecords } from './csv.ts';
import { isOutOfScopeLabel, toTrainingData } from './evaluate.ts';
import { trainIntentModel } from './model.ts';

const root = join(process.argv[2] ?? join(process.cwd(), '..', 'shared'), 'data', 'intents');

interface Sample { margin: number; uncovered: number; right: boolean; weight: number }
const samples: Sample[] = [];

function collect(train: Array<{ text: string; intent: string }>, test: Array<{ text: string; intent: string }>, known: Set<string>): void {
  const model = trainIntentModel(toTrainingData(train));
  for (const r of test) {
    const { margins, coverage } = model.score(r.text);
    let top = 0;
    for (let c = 1; c < margins.length; c++) if (margins[c]! > margins[top]!) top = c;
    const inScope = known.has(r.intent);
    samples.push({ margin: margins[top]!, uncovered: 1 - coverage, right: inScope && model.intents[top] === r.intent, weight: inScope ? 1 : 3 });
  }
}

const hwu = parseCsvRecords(readFileSync(join(root, 'hwu64', 'hwu64_liu2019_10fold.csv'), 'utf8')).slice(1)
  .map((r) => ({ fold: Number(r[0]), intent: r[2]!, text: r[3]! }));
const intents = [...new Set(hwu.map((r) => r.intent))].sort();
for (const fold of [2, 3]) {
  // A fixed stride picks the left-out intents, different ones per fold.
  const left = new Set(intents.filter((_, i) => i % 5 === fold % 5).slice(0, 12));
  const pool = hwu.filter((r) => r.fold !== 1 && r.fold !== fold && !left.has(r.intent));
  const test = hwu.filter((r) => r.fold === fold);
  const known = new Set(intents.filter((i) => !left.has(i)));
  for (const n of [10, 30, Infinity]) {
    const seen = new Map<string, number>();
    // Every k-th row of each intent: a deterministic spread over the pool.
    const perIntent = new Map<string, number>();
    for (const r of pool) perIntent.set(r.intent, (perIntent.get(r.intent) ?? 0) + 1);
    const train = pool.filter((r) => {
      const i = seen.get(r.intent) ?? 0;
      seen.set(r.intent, i + 1);
      const total = perIntent.get(r.intent)!;
      return n >= total || Math.floor((i * n) / total) !== Math.floor(((i + 1) * n) / total);
    });
    collect(train, test, known);
  }
}
const clinc = JSON.parse(readFileSync(join(root, 'clinc150', 'data_full.json'), 'utf8')) as Record<string, Array<[string, string]>>;
const rows = (key: string) => clinc[key]!.map(([text, intent]) => ({ text, intent }));
collect([...rows('train'), ...rows('oos_train')], [...rows('val'), ...rows('oos_val')], new Set(rows('train').map((r) => r.intent).filter((i) => !isOutOfScopeLabel(i))));

// Newton's method on the weighted logistic log-likelihood of (margin, uncovered, 1).
let w = [1, 0, 0];
for (let it = 0; it < 50; it++) {
  const g = [0, 0, 0];
  const h = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (const s of samples) {
    const x = [s.margin, s.uncovered, 1];
    const p = 1 / (1 + Math.exp(-(w[0]! * x[0]! + w[1]! * x[1]! + w[2]!)));
    for (let a = 0; a < 3; a++) {
      g[a]! += s.weight * ((s.right ? 1 : 0) - p) * x[a]!;
      for (let b = 0; b < 3; b++) h[a]![b]! += s.weight * p * (1 - p) * x[a]! * x[b]!;
    }
  }
  w = w.map((v, a) => v + solve(h, g)[a]!);
}
console.log(`{ margin: ${w[0]!.toFixed(3)}, uncovered: ${w[1]!.toFixed(3)}, offset: ${w[2]!.toFixed(3)} } from ${samples.length} texts`);

/** 3×3 linear system by Cramer's rule. */
function solve(m: number[][], v: number[]): number[] {
  const det = (a: number[][]) => a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!)
    - a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) + a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  const d = det(m);
  return [0, 1, 2].map((col) => det(m.map((row, r) => row.map((x, c) => (c === col ? v[r]! : x)))) / d);
}
