/**
 * TF-IDF over the hashed features: a vocabulary of the features seen in training, sublinear term
 * frequency, smoothed IDF, and per-block L2 normalisation (words and chars each get unit length,
 * then the concatenation is rescaled to unit length) so that long and short texts are comparable.
 */
import { extractFeatures } from './features.ts';

export interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

export interface Transformed extends SparseVector {
  /**
   * Share of the text's information (IDF-weighted words) that the vocabulary knows; unseen words
   * count with the highest IDF. Low coverage means the text is mostly about something the
   * workspace was never trained on, which the margins alone cannot tell.
   */
  coverage: number;
}

export interface VectorizerState {
  /** Feature hashes; position = column. Word features first, then char features. */
  hashes: Uint32Array;
  idf: Float32Array;
  /** Columns below this index are word features. */
  wordColumns: number;
}

export class Vectorizer {
  readonly state: VectorizerState;
  private readonly column = new Map<number, number>();
  private readonly unseenIdf: number;

  constructor(state: VectorizerState) {
    this.state = state;
    state.hashes.forEach((h, i) => this.column.set(h, i));
    this.unseenIdf = state.idf.reduce((m, v) => Math.max(m, v), 1);
  }

  get size(): number {
    return this.state.hashes.length;
  }

  /** Vocabulary and IDF from the training texts. */
  static fit(texts: string[]): Vectorizer {
    const wordDf = new Map<number, number>();
    const charDf = new Map<number, number>();
    for (const text of texts) {
      const f = extractFeatures(text);
      for (const h of new Set(f.words)) wordDf.set(h, (wordDf.get(h) ?? 0) + 1);
      for (const h of new Set(f.chars)) charDf.set(h, (charDf.get(h) ?? 0) + 1);
    }
    const n = texts.length;
    const words = [...wordDf.keys()].sort((a, b) => a - b);
    const chars = [...charDf.keys()].filter((h) => !wordDf.has(h)).sort((a, b) => a - b);
    const hashes = Uint32Array.from([...words, ...chars]);
    const idf = new Float32Array(hashes.length);
    hashes.forEach((h, i) => {
      const df = i < words.length ? wordDf.get(h)! : charDf.get(h)!;
      idf[i] = Math.log((1 + n) / (1 + df)) + 1;
    });
    return new Vectorizer({ hashes, idf, wordColumns: words.length });
  }

  transform(text: string): Transformed {
    const f = extractFeatures(text);
    let known = 0;
    let total = 0;
    for (const h of f.unigrams) {
      const col = this.column.get(h);
      const idf = col === undefined ? this.unseenIdf : this.state.idf[col]!;
      total += idf;
      if (col !== undefined) known += idf;
    }
    const counts = new Map<number, number>();
    for (const h of f.words) this.count(counts, h);
    for (const h of f.chars) this.count(counts, h);
    const idx = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const val = new Float32Array(idx.length);
    let wordNorm = 0;
    let charNorm = 0;
    for (let k = 0; k < idx.length; k++) {
      const col = idx[k]!;
      const v = (1 + Math.log(counts.get(col)!)) * this.state.idf[col]!;
      val[k] = v;
      if (col < this.state.wordColumns) wordNorm += v * v;
      else charNorm += v * v;
    }
    const blocks = (wordNorm > 0 ? 1 : 0) + (charNorm > 0 ? 1 : 0);
    const ws = wordNorm > 0 ? 1 / Math.sqrt(wordNorm * blocks) : 0;
    const cs = charNorm > 0 ? 1 / Math.sqrt(charNorm * blocks) : 0;
    for (let k = 0; k < idx.length; k++) val[k]! *= idx[k]! < this.state.wordColumns ? ws : cs;
    return { idx, val, coverage: total > 0 ? known / total : 0 };
  }

  private count(counts: Map<number, number>, hash: number): void {
    const col = this.column.get(hash);
    if (col !== undefined) counts.set(col, (counts.get(col) ?? 0) + 1);
  }
}
