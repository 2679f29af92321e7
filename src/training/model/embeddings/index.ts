/**
 * English word knowledge, built at development time: word vectors distilled from GloVe 6B 100d
 * (see build.ts; 40k words, int8 with a per-word scale, 4.5 MB), their word classes
 * (clusters.ts) and sentence vectors for the same words (distil.ts, 5.6 MB). Each file is loaded
 * lazily, once per thread (worker threads each load their own copy), and shared by every model
 * of that thread.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WordVectors {
  dims: number;
  /** Row of each word. */
  index: Map<string, number>;
  scales: Float32Array;
  vectors: Int8Array;
}

let cached: WordVectors | undefined;

/** The English word vectors, loaded on first use. */
export function englishVectors(): WordVectors {
  return (cached ??= load(readFileSync(join(import.meta.dirname, 'glove-en.bin'))));
}

/** The file format `load` reads (see build.ts): words, per-word scales, int8 vectors. */
export function encode(words: string[], dims: number, scales: Float32Array, vectors: Int8Array): Buffer {
  const text = Buffer.from(words.join('\n'), 'utf8');
  const head = Buffer.alloc(16);
  head.write('AWE1', 0, 'latin1');
  head.writeUInt32LE(words.length, 4);
  head.writeUInt32LE(dims, 8);
  head.writeUInt32LE(text.length, 12);
  const pad = Buffer.alloc((4 - ((16 + text.length) % 4)) % 4);
  return Buffer.concat([head, text, pad, Buffer.from(scales.buffer, scales.byteOffset, scales.byteLength), Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength)]);
}

/**
 * Decodes a word-vector file. With `rows`, the file must list exactly those words in those rows,
 * and the returned vectors share that map instead of building another.
 */
export function load(buf: Buffer, rows?: Map<string, number>): WordVectors {
  if (buf.toString('latin1', 0, 4) !== 'AWE1') throw new Error('not a word-vector file');
  const count = buf.readUInt32LE(4);
  const dims = buf.readUInt32LE(8);
  const textLength = buf.readUInt32LE(12);
  const words = buf.toString('utf8', 16, 16 + textLength).split('\n');
  if (words.length !== count) throw new Error('word-vector file is corrupt');
  let at = 16 + textLength;
  at += (4 - (at % 4)) % 4;
  const scales = new Float32Array(count);
  Buffer.from(scales.buffer).set(buf.subarray(at, at + 4 * count));
  at += 4 * count;
  const vectors = new Int8Array(count * dims);
  Buffer.from(vectors.buffer).set(buf.subarray(at, at + count * dims));
  if (rows && (rows.size !== count || words.some((w, i) => rows.get(w) !== i))) {
    throw new Error('word-vector file lists other words than the file whose rows it shares');
  }
  const index = rows ?? new Map(words.map((w, i) => [w, i]));
  return { dims, index, scales, vectors };
}

let cachedSentence: WordVectors | undefined;

/**
 * Word vectors distilled from a sentence encoder (see distil.ts): 128 dims, 5.6 MB, the same words
 * in the same rows as `englishVectors()`, so a word's row there indexes both.
 */
export function englishSentenceVectors(): WordVectors {
  return (cachedSentence ??= load(readFileSync(join(import.meta.dirname, 'sentence-en.bin')), englishVectors().index));
}

/** Whether models for this workspace language use the English word vectors. */
export function usesEnglishVectors(language: string): boolean {
  return /^en(\b|[-_])/i.test(language) || language.toLowerCase() === 'en';
}

export interface WordClusters {
  /** Cluster count of each level. */
  ks: number[];
  /** cluster[level * words + row]. */
  cluster: Uint16Array;
  words: number;
}

let cachedClusters: WordClusters | undefined;

/** Word classes of the English word vectors (k-means at several granularities), loaded on first use. */
export function englishClusters(): WordClusters {
  if (cachedClusters) return cachedClusters;
  const buf = readFileSync(join(import.meta.dirname, 'glove-en-clusters.bin'));
  if (buf.toString('latin1', 0, 4) !== 'AWC1') throw new Error('not a word-cluster file');
  const words = buf.readUInt32LE(4);
  const levels = buf.readUInt32LE(8);
  const ks = Array.from({ length: levels }, (_, i) => buf.readUInt32LE(12 + 4 * i));
  const at = 12 + 4 * levels;
  const cluster = new Uint16Array(levels * words);
  Buffer.from(cluster.buffer).set(buf.subarray(at, at + 2 * levels * words));
  return (cachedClusters = { ks, cluster, words });
}
