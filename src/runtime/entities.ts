/**
 * Entity extraction for one workspace: dictionary values and their synonyms (case- and
 * accent-insensitive, whole words, longest match per entity), optional fuzzy matching, pattern
 * values as regular expressions, and the enabled system entities. `compileEntities` builds the
 * lookup tables once per workspace; `extract` is then a few map lookups per word.
 */
import { foldPhrase, foldText, isWordChar, wordTokens } from './fold.ts';
import { SYSTEM_ENTITIES, systemEntities, type SystemEntityName } from './system-entities.ts';
import { RegexTimeout, runGuarded, type RegexMatch } from './regex-guard.ts';
import type { LogMessage, RuntimeEntity, WorkspaceEntity } from './types.ts';

interface DictionaryHit {
  entity: string;
  value: string;
}

interface FuzzyKey {
  phrase: string;
  hit: DictionaryHit;
}

/**
 * Fuzzy keys indexed by themselves and every one-character deletion of themselves: two strings
 * within one edit share such a variant, so a lookup costs one probe per character of the input
 * span instead of an edit distance against every synonym.
 */
interface FuzzyIndex {
  variants: Map<string, FuzzyKey[]>;
  maxWords: number;
  maxLength: number;
}

interface PatternValue {
  entity: string;
  value: string;
  re: RegExp;
}

export interface ExtractOptions {
  /** "Today" for sys-date; defaults to the current time. */
  now?: Date;
  /** Told when the workspace's patterns ran out of time on this text (they then find nothing). */
  warn?: (message: LogMessage) => void;
}

export interface EntityMatcher {
  extract(text: string, options?: ExtractOptions): RuntimeEntity[];
  /** Problems found while compiling (e.g. a pattern JavaScript cannot read), for log_messages. */
  warnings: LogMessage[];
  /** Enabled system entities this store does not recognise (sys-person, sys-location, …): never found. */
  unsupported: string[];
}

export function compileEntities(entities: readonly WorkspaceEntity[]): EntityMatcher {
  const dictionary = new Map<string, DictionaryHit[]>();
  const fuzzy: FuzzyIndex = { variants: new Map(), maxWords: 0, maxLength: 0 };
  const patterns: PatternValue[] = [];
  const system: SystemEntityName[] = [];
  const warnings: LogMessage[] = [];
  const unsupported: string[] = [];
  let maxWords = 1;
  const edges: Edges = { lead: 0, trail: 0 };

  for (const e of entities) {
    if ((SYSTEM_ENTITIES as readonly string[]).includes(e.entity)) {
      system.push(e.entity as SystemEntityName);
      continue;
    }
    if (e.entity.startsWith('sys-')) {
      unsupported.push(e.entity);
      continue;
    }
    for (const v of e.values ?? []) {
      if (v.type === 'patterns') {
        for (const source of v.patterns ?? []) {
          const re = compileEntityPattern(source);
          if (re) patterns.push({ entity: e.entity, value: v.value, re });
          else warnings.push({ level: 'warn', code: 'entity.pattern_unsupported', msg: `Pattern /${source}/ of @${e.entity}:${v.value} is not a valid regular expression here; it is ignored.` });
        }
        continue;
      }
      for (const synonym of [v.value, ...(v.synonyms ?? [])]) {
        const phrase = foldPhrase(synonym);
        if (phrase === '') continue;
        const tokens = wordTokens(phrase);
        const words = tokens.length || 1;
        maxWords = Math.max(maxWords, words);
        if (tokens.length > 0) {
          edges.lead = Math.max(edges.lead, tokens[0]!.start);
          edges.trail = Math.max(edges.trail, phrase.length - tokens[tokens.length - 1]!.end);
        }
        const hit = { entity: e.entity, value: v.value };
        const hits = dictionary.get(phrase);
        if (!hits) dictionary.set(phrase, [hit]);
        else if (!hits.some((h) => h.entity === e.entity)) hits.push(hit);
        if (e.fuzzy_match && phrase.length >= MIN_FUZZY_LENGTH) addFuzzyKey(fuzzy, { phrase, hit }, words);
      }
    }
  }

  return {
    warnings,
    unsupported,
    extract(text, options = {}) {
      const found = matchDictionary(text, dictionary, fuzzy, maxWords, edges);
      found.push(...matchPatterns(text, patterns, options.warn));
      const now = options.now ?? new Date();
      for (const name of system) found.push(...systemEntities(name, text, now));
      return found.sort((a, b) => a.location[0] - b.location[0] || b.location[1] - a.location[1]);
    },
  };
}

const compiled = new WeakMap<readonly WorkspaceEntity[], EntityMatcher>();

/** Entities of `text` for a workspace's entity list (the compiled tables are cached per list). */
export function extractEntities(entities: readonly WorkspaceEntity[], text: string, options?: ExtractOptions): RuntimeEntity[] {
  let matcher = compiled.get(entities);
  if (!matcher) compiled.set(entities, (matcher = compileEntities(entities)));
  return matcher.extract(text, options);
}

/**
 * The longest runs of punctuation any synonym begins or ends with (`.NET`, `C++`, `100%`): word
 * tokens leave such characters out, so spans are widened over them by at most this much.
 */
interface Edges {
  lead: number;
  trail: number;
}

const SPACE = /\s/u;

/** A character that is neither part of a word nor whitespace; false past either end. */
function isPunctuation(text: string, i: number): boolean {
  return i >= 0 && i < text.length && !isWordChar(text, i) && !SPACE.test(text[i]!);
}

/**
 * The spans around the word span [start, end) that take in punctuation next to it, longest first
 * (the word span itself not included). A run of punctuation counts only where it stands between
 * words and spaces or the text's ends: ".net" is not found in "asp.net", nor "c++" in "c++x".
 */
function widened(text: string, start: number, end: number, edges: Edges): Array<[number, number]> {
  let from = start;
  while (start - from < edges.lead && isPunctuation(text, from - 1)) from--;
  if (from < start && isWordChar(text, from - 1)) from = start;
  let to = end;
  while (to - end < edges.trail && isPunctuation(text, to)) to++;
  if (to > end && isWordChar(text, to)) to = end;
  const spans: Array<[number, number]> = [];
  for (let s = from; s <= start; s++) for (let e = to; e >= end; e--) if (s < start || e > end) spans.push([s, e]);
  return spans.sort((a, b) => (b[1] - b[0]) - (a[1] - a[0]));
}

function matchDictionary(text: string, dictionary: Map<string, DictionaryHit[]>, fuzzy: FuzzyIndex, maxWords: number, edges: Edges): RuntimeEntity[] {
  const folded = foldText(text);
  const tokens = wordTokens(folded.text);
  const out: RuntimeEntity[] = [];
  const phraseOf = (s: number, e: number): string => folded.text.slice(s, e).replace(/\s+/g, ' ');
  // Per entity, the end of its last match: one entity never matches overlapping spans, so
  // "christmas eve" is one holiday, not also "christmas". Different entities may overlap.
  const coveredUntil = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    for (let j = Math.min(tokens.length, i + maxWords) - 1; j >= i; j--) {
      let start = tokens[i]!.start;
      let end = tokens[j]!.end;
      let found: DictionaryHit[] | undefined;
      if (edges.lead + edges.trail > 0) {
        for (const [s, e] of widened(folded.text, start, end, edges)) {
          found = dictionary.get(phraseOf(s, e));
          if (found) {
            [start, end] = [s, e];
            break;
          }
        }
      }
      const phrase = phraseOf(start, end);
      found ??= dictionary.get(phrase);
      let hits: Array<DictionaryHit & { confidence: number }> | undefined = found?.map((h) => ({ ...h, confidence: 1 }));
      if (!hits && j - i < fuzzy.maxWords && phrase.length <= fuzzy.maxLength + 1) hits = fuzzyHits(phrase, fuzzy);
      for (const hit of hits ?? []) {
        if ((coveredUntil.get(hit.entity) ?? -1) > start) continue;
        coveredUntil.set(hit.entity, end);
        out.push({ entity: hit.entity, location: [folded.origin[start]!, folded.origin[end]!], value: hit.value, confidence: hit.confidence });
      }
    }
  }
  return out;
}

const MIN_FUZZY_LENGTH = 4;

function deletions(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.slice(0, i) + s.slice(i + 1));
  return out;
}

function addFuzzyKey(index: FuzzyIndex, key: FuzzyKey, words: number): void {
  index.maxWords = Math.max(index.maxWords, words);
  index.maxLength = Math.max(index.maxLength, key.phrase.length);
  for (const variant of [key.phrase, ...deletions(key.phrase)]) {
    const keys = index.variants.get(variant);
    if (!keys) index.variants.set(variant, [key]);
    else if (!keys.includes(key)) keys.push(key);
  }
}

/** Misspellings of fuzzy entities: one edit (a transposition counts as one), closest key wins. */
function fuzzyHits(phrase: string, index: FuzzyIndex): Array<DictionaryHit & { confidence: number }> | undefined {
  if (phrase.length < MIN_FUZZY_LENGTH) return undefined;
  let best: { key: FuzzyKey; distance: number } | undefined;
  for (const variant of [phrase, ...deletions(phrase)]) {
    for (const key of index.variants.get(variant) ?? []) {
      const d = editDistance(phrase, key.phrase, 1);
      if (d <= 1 && (!best || d < best.distance)) best = { key, distance: d };
    }
  }
  if (!best) return undefined;
  return [{ ...best.key.hit, confidence: 1 - best.distance / best.key.phrase.length }];
}

/** Levenshtein distance with adjacent transpositions; stops early once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      row.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > limit) return limit + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Workspace patterns are written for Java's regex engine; the shared subset reads the same in
 * JavaScript. A leading (?i) is Java's inline flag; patterns are matched case-insensitively anyway.
 */
/**
 * An entity value's pattern as a JavaScript RegExp, or undefined when it does not compile. Patterns
 * are written for Java's engine: its constructs JavaScript lacks are rewritten to their plain forms
 * first — inline flags such as (?i) dropped (matching is case-insensitive throughout, as Watson's
 * is), possessive quantifiers and atomic groups made ordinary (they only limit backtracking). Only
 * a leading (?i) used to be handled, so `a(?i)b` or `\d++`, valid for the API, never matched.
 */
export function compileEntityPattern(source: string): RegExp | undefined {
  const plain = source
    .replace(/\(\?[a-zA-Z]+(?:-[a-zA-Z]*)?\)|\(\?-[a-zA-Z]+\)/g, '')
    .replace(/\(\?[a-zA-Z]*-?[a-zA-Z]*:/g, '(?:')
    .replace(/\(\?>/g, '(?:')
    .replace(/([*+?}])\+/g, '$1');
  try {
    return new RegExp(plain, 'gid');
  } catch {
    return undefined;
  }
}

/** Every pattern's matches, found in the regex worker (see regex-guard.ts) within one time budget. */
function matchPatterns(text: string, patterns: PatternValue[], warn: ExtractOptions['warn']): RuntimeEntity[] {
  if (patterns.length === 0) return [];
  let results: RegexMatch[][];
  try {
    results = runGuarded(patterns.map((p) => ({ op: 'matchAll', source: p.re.source, flags: p.re.flags, text }))) as RegexMatch[][];
  } catch (err) {
    if (!(err instanceof RegexTimeout)) throw err;
    warn?.({
      level: 'warn', code: 'entity.pattern_timeout',
      msg: `The workspace's entity patterns took too long on this input, so none was recognized: a pattern with nested repetition, such as (a+)+, can take time exponential in the input's length; rewrite it. ${err.message}.`,
    });
    return [];
  }
  const out: RuntimeEntity[] = [];
  results.forEach((matches, i) => {
    const p = patterns[i]!;
    for (const m of matches) {
      const whole = m.groups[0] ?? '';
      if (whole === '') continue;
      const groups: NonNullable<RuntimeEntity['groups']> = [];
      m.indices.forEach((span, k) => {
        if (span) groups.push({ group: `group_${k}`, location: [span[0], span[1]] });
      });
      out.push({ entity: p.entity, location: [m.index, m.index + whole.length], value: p.value, confidence: 1, groups });
    }
  });
  return out;
}
