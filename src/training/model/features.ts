/**
 * Text → hashed sparse features. Every feature is a 32-bit FNV-1a hash computed straight from
 * UTF-16 code units, so extracting features allocates no n-gram strings; the model keeps a
 * vocabulary of the hashes it saw in training (32-bit collisions among a workspace's few
 * thousand features are negligible).
 *
 * Two blocks, normalised separately by the vectorizer so that neither dominates:
 * - words: unigrams and adjacent bigrams (with sentence-boundary markers);
 * - chars: 2–4-grams inside each word padded with spaces (scikit-learn's `char_wb`), which is
 *   what makes the model tolerant of typos, inflection and unseen word forms in any language.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

// Distinct seeds keep a word unigram, a bigram and a char n-gram with equal text apart.
const SEED_WORD = 0x1b873593;
const SEED_BIGRAM = 0x2c1b3c6d;
const SEED_CHAR = 0x5bd1e995;
const BOUNDARY = 0x9e3779b9;

const CHAR_MIN = 2;
// 5-grams added nothing on held-out data (HWU64 few-shot folds 2/3, CV on the HINT3 train files)
// beyond what words and 4-grams say, and cost a third of the char features.
const CHAR_MAX = 4;

/** Lower-cased, diacritics stripped (NFKD then drop combining marks): "Ação" → "acao". */
export function normalizeText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

const TOKEN = /[\p{L}\p{N}]+/gu;

/** Unicode-aware words: runs of letters and digits; every digit run becomes "0" so numbers generalise. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of normalizeText(text).matchAll(TOKEN)) out.push(m[0].replace(/\p{N}+/gu, '0'));
  return out;
}

function fnv(seed: number, s: string): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function mix(a: number, b: number): number {
  return Math.imul(Math.imul(a ^ SEED_BIGRAM, FNV_PRIME) ^ b, FNV_PRIME) >>> 0;
}

export interface TextFeatures {
  /** Unigram and bigram hashes. */
  words: number[];
  chars: number[];
  /** Unigram hashes alone, one per token. */
  unigrams: number[];
  /** The tokens themselves (same order as `unigrams`). */
  tokens: string[];
}

/** The hash of a word unigram feature. */
export function wordHash(token: string): number {
  return fnv(SEED_WORD, token);
}

/**
 * Hashed features of one text; duplicates are kept (they are term counts). `correct` may replace
 * a token for the word features; the char n-grams always come from the text as written.
 */
export function extractFeatures(text: string, correct?: (token: string) => string): TextFeatures {
  const written = tokenize(text);
  const tokens = correct ? written.map(correct) : written;
  const words: number[] = [];
  const chars: number[] = [];
  const unigrams: number[] = [];
  let prev = BOUNDARY;
  for (let i = 0; i < tokens.length; i++) {
    const h = fnv(SEED_WORD, tokens[i]!);
    words.push(h, mix(prev, h));
    unigrams.push(h);
    prev = h;
    charGrams(written[i]!, chars);
  }
  if (tokens.length > 0) words.push(mix(prev, BOUNDARY));
  return { words, chars, unigrams, tokens };
}

function charGrams(tok: string, out: number[]): void {
  // Padded with a space on each side; position -1 and tok.length stand for the padding.
  const n = tok.length;
  for (let start = -1; start < n; start++) {
    let h = (FNV_OFFSET ^ SEED_CHAR) >>> 0;
    for (let len = 1; len <= CHAR_MAX; len++) {
      const pos = start + len - 1;
      if (pos > n) break;
      const code = pos < 0 || pos === n ? 32 : tok.charCodeAt(pos);
      h = Math.imul(h ^ code, FNV_PRIME);
      if (len >= CHAR_MIN) out.push((h ^ len) >>> 0);
    }
  }
}
