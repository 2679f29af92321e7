/**
 * Development-time tool (run once after build.ts, output committed): spherical k-means of the
 * distilled word vectors at several granularities, written to `glove-en-clusters.bin`. A word's
 * cluster ids are discrete "word class" features (like Brown clusters): two words with related
 * meanings share them, which lets a model trained on a few examples generalise to words it has
 * never seen in them. Deterministic (fixed-seed initialisation).
 *
 *   npx tsx src/training/model/embeddings/clusters.ts 64,512,2048
 *
 * Format (little-endian): "AWC1" | u32 count | u32 levels | u32 k[levels] | u16 cluster[levels][count]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from './index.ts';

const ks = (process.argv[2] ?? '64,512,2048').split(',').map(Number);
const iterations = Number(process.argv[3] ?? 12);
const wv = load(readFileSync(join(import.meta.dirname, 'glove-en.bin')));
const n = wv.index.size;
const dims = wv.dims;
const x = new Float32Array(n * dims);
for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) x[i * dims + d] = wv.vectors[i * dims + d]! * wv.scales[i]!;

let seed = 0x9e3779b9;
const rand = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 4294967296; };

function kmeans(k: number): Uint16Array {
  const c = new Float32Array(k * dims);
  const picked = new Set<number>();
  for (let j = 0; j < k; j++) {
    let i: number;
    do i = Math.floor(rand() * n); while (picked.has(i));
    picked.add(i);
    c.set(x.subarray(i * dims, (i + 1) * dims), j * dims);
  }
  const assign = new Uint16Array(n);
  for (let it = 0; it < iterations; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = -Infinity, arg = 0;
      const o = i * dims;
      for (let j = 0; j < k; j++) {
        let s = 0;
        const p = j * dims;
        for (let d = 0; d < dims; d++) s += x[o + d]! * c[p + d]!;
        if (s > best) { best = s; arg = j; }
      }
      if (assign[i] !== arg || it === 0) changed++;
      assign[i] = arg;
    }
    c.fill(0);
    for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) c[assign[i]! * dims + d]! += x[i * dims + d]!;
    for (let j = 0; j < k; j++) {
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += c[j * dims + d]! ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) { const i = Math.floor(rand() * n); c.set(x.subarray(i * dims, (i + 1) * dims), j * dims); continue; }
      for (let d = 0; d < dims; d++) c[j * dims + d]! /= norm;
    }
    console.error(`k=${k} iteration ${it}: ${changed} changed`);
    if (changed < n / 1000) break;
  }
  return assign;
}

const levels = ks.map(kmeans);
const head = Buffer.alloc(12 + 4 * ks.length);
head.write('AWC1', 0, 'latin1');
head.writeUInt32LE(n, 4);
head.writeUInt32LE(ks.length, 8);
ks.forEach((k, i) => head.writeUInt32LE(k, 12 + 4 * i));
const out = Buffer.concat([head, ...levels.map((a) => Buffer.from(a.buffer))]);
writeFileSync(join(import.meta.dirname, 'glove-en-clusters.bin'), out);
const words = [...wv.index.keys()];
for (const probe of ['song', 'alarm', 'weather', 'email', 'cancel', 'pizza', 'tomorrow']) {
  const i = wv.index.get(probe)!;
  console.log(probe, ks.map((k, l) => `${k}: ${words.filter((_, j) => levels[l]![j] === levels[l]![i]).slice(0, 12).join(' ')}`).join(' | '));
}
