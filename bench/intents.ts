/**
 * Intent-model benchmark: every dataset in ../shared/data/intents with its published split,
 * each figure printed beside the published ones (see that folder's README.md), plus few-shot
 * HWU64 and the training time of a 40 intents × 15 examples workspace.
 *
 *   npm run bench:intents [-- braun hwu64 clinc150 hint3 fewshot speed]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  evaluateIntents, parseCsvRecords, parseLabelledCsv, predictAll, scorePredictions, toTrainingData, trainIntentModel,
  type LabelledText, type Prediction,
} from '../src/training/index.ts';

const shared = process.env.ASTORE_SHARED_DIR ?? join(process.cwd(), '..', 'shared');
const root = join(shared, 'data', 'intents');
if (!existsSync(root)) {
  console.log(`skipping: ${root} not found (the benchmark reads the shared datasets beside the checkout)`);
  process.exit(0);
}
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

const pct = (x: number) => (100 * x).toFixed(1).padStart(5);
function line(name: string, ours: string, published: string): void {
  console.log(`  ${name.padEnd(34)} ours ${ours.padEnd(22)} published ${published}`);
}
const verdict = (ok: boolean) => (ok ? 'meets target' : 'BELOW target');

/** Deterministic PRNG so that sampled splits are reproducible run to run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffle<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
function groupByIntent(rows: LabelledText[]): Map<string, LabelledText[]> {
  const m = new Map<string, LabelledText[]>();
  for (const r of rows) (m.get(r.intent) ?? m.set(r.intent, []).get(r.intent)!).push(r);
  return m;
}

function braun(): void {
  console.log('\nBraun et al. 2017 (training flag split; micro-F1 = accuracy)');
  const published: Record<string, string> = { Chatbot: '0.97', AskUbuntu: '0.92', WebApplications: '0.83' };
  let right = 0;
  let total = 0;
  for (const name of ['Chatbot', 'AskUbuntu', 'WebApplications']) {
    const corpus = JSON.parse(readFileSync(join(root, 'braun2017', `${name}Corpus.json`), 'utf8')) as {
      sentences: Array<{ text: string; intent: string; training: boolean }>;
    };
    const rows = corpus.sentences.map((s) => ({ text: s.text, intent: s.intent, training: s.training }));
    const r = evaluateIntents(rows.filter((s) => s.training), rows.filter((s) => !s.training));
    right += Math.round(r.accuracy * r.rows);
    total += r.rows;
    line(name, r.accuracy.toFixed(3), `Watson ${published[name]}`);
  }
  const overall = right / total;
  line(`overall (${total} sentences)`, `${overall.toFixed(4)} (${right}/${total}) ${verdict(overall >= 0.92)}`, 'Watson 0.92, LUIS 0.91, NLP.js 0.93');
}

function hwuRows(): Array<LabelledText & { fold: number }> {
  // Columns: fold,answerid,intent,text,text_annotated (first row is the header).
  const records = parseCsvRecords(readFileSync(join(root, 'hwu64', 'hwu64_liu2019_10fold.csv'), 'utf8')).slice(1);
  return records.map((r) => ({ fold: Number(r[0]), intent: r[2]!, text: r[3]! }));
}

function hwu64(): void {
  console.log('\nHWU64 (Liu et al. 2019), 10-fold cross-validation, pooled accuracy');
  const rows = hwuRows();
  const preds: Prediction[] = [];
  let trainMs = 0;
  for (let k = 1; k <= 10; k++) {
    const t0 = performance.now();
    const model = trainIntentModel(toTrainingData(rows.filter((r) => r.fold !== k)));
    trainMs += performance.now() - t0;
    preds.push(...predictAll(model, rows.filter((r) => r.fold === k)));
  }
  const s = scorePredictions(preds);
  line('accuracy (10 folds pooled)', `${s.accuracy.toFixed(3)} ${verdict(s.accuracy >= 0.882)}`, 'Watson 0.882, Dialogflow 0.864, Rasa 0.863');
  line('macro-F1', s.inScope.macroF1.toFixed(3), '-');
  line('training time per fold', `${(trainMs / 10 / 1000).toFixed(2)} s`, 'scikit-learn SVM 2.8 s');
}

function fewShot(): void {
  console.log('\nHWU64 few-shot: N examples per intent sampled from fold 1 train, tested on fold 1 test (mean of 5 samples)');
  const rows = hwuRows();
  const byIntent = groupByIntent(rows.filter((r) => r.fold !== 1));
  const test = rows.filter((r) => r.fold === 1);
  for (const [n, target] of [[10, 0.78], [30, 0.86]] as const) {
    let sum = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const rand = rng(seed * 1000 + n);
      const train = [...byIntent.values()].flatMap((list) => shuffle(list, rand).slice(0, n));
      sum += evaluateIntents(train, test).accuracy;
    }
    const acc = sum / 5;
    line(`${n} per intent`, `${acc.toFixed(3)} ${verdict(acc >= target)}`, `Watson about ${target}`);
  }
}

function clinc150(): void {
  console.log('\nCLINC150 (Larson et al. 2019), data_full: train + oos_train (as counterexamples) → test');
  const d = JSON.parse(readFileSync(join(root, 'clinc150', 'data_full.json'), 'utf8')) as Record<string, Array<[string, string]>>;
  const rows = (key: string) => d[key]!.map(([text, intent]) => ({ text, intent }));
  const r = evaluateIntents([...rows('train'), ...rows('oos_train')], [...rows('test'), ...rows('oos_test')]);
  line('in-scope accuracy', `${pct(r.inScope.accuracy)} ${verdict(r.inScope.accuracy * 100 > 91.7)}`, 'Dialogflow 91.7, Rasa 91.5, BERT 96.9');
  line(`out-of-scope recall (conf < ${r.threshold})`, pct(r.outOfScope?.recall ?? 0), 'not in the README');
  line('training time', `${(r.trainingMs / 1000).toFixed(2)} s for ${r.trainExamples} examples`, '-');
}

function hint3(): void {
  console.log('\nHINT3 v1 (Arora et al. 2020), full train → test; NO_NODES_DETECTED = out of scope');
  const published: Record<string, number> = { sofmattress: 73.6, curekart: 84.1, powerplay11: 66.5 };
  const who: Record<string, string> = { sofmattress: 'BERT', curekart: 'Rasa', powerplay11: 'Haptik' };
  for (const name of ['sofmattress', 'curekart', 'powerplay11']) {
    const read = (p: string) => parseLabelledCsv(readFileSync(join(root, 'hint3', 'v1', p), 'utf8'), p);
    const r = evaluateIntents(read(`train/${name}_train.csv`), read(`test/${name}_test.csv`));
    const ok = r.inScope.accuracy * 100 > published[name]!;
    line(`${name} in-scope accuracy`, `${pct(r.inScope.accuracy)} ${verdict(ok)}`, `${who[name]} ${published[name]}`);
    line(`${name} OOS recall / overall acc`, `${pct(r.outOfScope?.recall ?? 0)} / ${pct(r.accuracy)}`, '-');
  }
}

function speed(): void {
  console.log('\nTraining speed: workspaces of 40 intents × 15 examples sampled from HWU64');
  const byIntent = [...groupByIntent(hwuRows()).values()];
  const times: number[] = [];
  let classifyMicros = 0;
  for (let w = 0; w < 30; w++) {
    const rand = rng(7 + w);
    const intents = shuffle(byIntent, rand).slice(0, 40).map((list) => shuffle(list, rand));
    const train = intents.flatMap((l) => l.slice(0, 15));
    const test = intents.flatMap((l) => l.slice(15, 20));
    const r = evaluateIntents(train, test);
    times.push(r.trainingMs);
    classifyMicros += r.classifyMicros;
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  line('training time per workspace', `mean ${mean.toFixed(0)} ms, p90 ${times[Math.floor(times.length * 0.9)]!.toFixed(0)} ms ${verdict(mean < 1000)}`, 'target < 1 s');
  line('workspaces per minute per core', (60000 / mean).toFixed(0), 'target ≥ 150 (300 on 2 cores)');
  line('classify time per text', `${(classifyMicros / times.length).toFixed(0)} µs`, 'target well under 1 ms');
}

const suites: Array<[string, () => void]> = [['braun', braun], ['hwu64', hwu64], ['fewshot', fewShot], ['clinc150', clinc150], ['hint3', hint3], ['speed', speed]];
for (const [name, run] of suites) if (wanted(name)) run();
