/**
 * The SVM solver against a reference: the primal optimum of the same objective found by plain
 * gradient descent, on a small problem with repeated rows (merged by the solver) and a row that
 * appears under two classes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainOneVsRest } from '../../src/training/model/svm.ts';

const DIMS = 6;
const C = 1;
const OFFSET = -1;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32; };
}

/** Dense rows as the solver's sparse vectors; zero entries left out, so rows differ in shape. */
function sparse(row: number[]): { idx: Int32Array; val: Float32Array } {
  const idx: number[] = [];
  const val: number[] = [];
  row.forEach((v, i) => { if (v !== 0) { idx.push(i); val.push(v); } });
  return { idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

/** argmin ½‖w‖² + C Σ max(0, 1 − y(w·x + offset))², by gradient descent (smooth and strongly convex). */
function reference(rows: number[][], y: number[]): number[] {
  const w = new Array<number>(DIMS).fill(0);
  // 1 / (a bound on the gradient's Lipschitz constant): a step that cannot overshoot.
  const rate = 1 / (1 + 2 * C * rows.reduce((s, x) => s + x.reduce((t, v) => t + v * v, 0), 0));
  for (let step = 0; step < 50_000; step++) {
    const grad = [...w];
    rows.forEach((x, i) => {
      const slack = 1 - y[i]! * (x.reduce((s, v, d) => s + v * w[d]!, 0) + OFFSET);
      if (slack > 0) x.forEach((v, d) => { grad[d]! -= 2 * C * slack * y[i]! * v; });
    });
    grad.forEach((g, d) => { w[d]! -= rate * g; });
  }
  return w;
}

test('repeated rows and a row under two classes: the solver reaches the reference optimum', () => {
  const rand = rng(7);
  // Values that survive the solver's float32 storage exactly, so both sides see the same rows.
  const value = () => Math.fround(Math.round(rand() * 8 - 2) / 4);
  const distinct = Array.from({ length: 9 }, () => Array.from({ length: DIMS }, value));
  const rows: number[][] = [];
  const labels: number[] = [];
  distinct.forEach((row, i) => {
    const times = 1 + (i % 3);
    for (let t = 0; t < times; t++) { rows.push(row); labels.push(i % 3); }
  });
  // The same text as an example of class 0 and of class 1, and a counterexample (-1) twice.
  rows.push(distinct[0]!); labels.push(1);
  rows.push(distinct[4]!, distinct[4]!); labels.push(-1, -1);

  const weights: number[][] = [];
  trainOneVsRest(rows.map(sparse), Int32Array.from(labels), 3, DIMS, {
    c: C, offset: OFFSET, maxPasses: 10_000, epsilon: 1e-7,
  }, (c, w) => { weights[c] = [...w]; });
  for (let c = 0; c < 3; c++) {
    const want = reference(rows, labels.map((l) => (l === c ? 1 : -1)));
    const got = weights[c]!;
    got.forEach((g, d) => assert.ok(Math.abs(g - want[d]!) < 1e-3, `class ${c}, weight ${d}: solver ${g}, reference ${want[d]}`));
  }
});
