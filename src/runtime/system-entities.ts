/**
 * The system entities the runtime recognises: sys-number, sys-date, sys-time, sys-percentage and
 * sys-currency. Rule-based and English-only; each finder returns matches on the original text, so
 * locations need no mapping. Dates are calendar dates relative to an injected `now`, read in its
 * local fields (the engine passes the user's `$timezone` wall clock that way). The others the API accepts (sys-person, sys-location, …) need a named-entity
 * model; the entity compiler reports them in log_messages instead of silently never matching.
 */
import type { RuntimeEntity } from './types.ts';

export const SYSTEM_ENTITIES = ['sys-number', 'sys-date', 'sys-time', 'sys-percentage', 'sys-currency'] as const;
export type SystemEntityName = (typeof SYSTEM_ENTITIES)[number];

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90,
};
const SCALES: Record<string, number> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 };
const NUMBER_WORD = `(?:${[...Object.keys(UNITS), ...Object.keys(SCALES)].join('|')})`;
const WORDS_RE = new RegExp(`\\b${NUMBER_WORD}(?:(?:\\s+and\\s+|[\\s-]+)${NUMBER_WORD})*\\b`, 'gi');
// With an exponent ("1E10"): one number, not a "1" followed by a word.
const DIGITS = '(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
// A leading minus only counts at the start of a word ("-5"), never between digits. A hyphen
// between two numbers is a range's dash ("5-10 people": 5 and 10); in a chain ("2024-03-11") the
// numbers after the first are a date's or a code's parts, not numbers of their own.
const DIGITS_RE = new RegExp(
  `(?<![\\p{L}\\p{N}_.-])-?${DIGITS}(?!\\d|,\\d{3})|(?<=(?<![\\p{L}\\p{N}_.,-])${DIGITS}-)${DIGITS}(?!\\d|,\\d{3}|-\\d)`,
  'gu',
);

function numbers(text: string): RuntimeEntity[] {
  const out: RuntimeEntity[] = [];
  for (const m of text.matchAll(DIGITS_RE)) {
    const n = Number(m[0].replace(/,/g, ''));
    // A number in exponent form keeps its text as its value (RN 2021-06-14: "1E10" stays a string).
    out.push(entity('sys-number', m.index, m[0].length, /e/i.test(m[0]) ? m[0] : String(n), { numeric_value: n }));
  }
  for (const m of text.matchAll(WORDS_RE)) {
    for (const w of wordNumbers(m[0])) {
      out.push(entity('sys-number', m.index + w.start, w.end - w.start, String(w.value), { numeric_value: w.value }));
    }
  }
  return out;
}

type WordKind = 'zero' | 'unit' | 'teen' | 'tens' | 'hundred' | 'scale';

/** One number being read from words: what it adds up to so far, and what it may still take. */
interface WordNumber {
  start: number;
  end: number;
  /** The completed thousands groups ("two thousand" in "two thousand five"). */
  total: number;
  /** The group under a thousand being read. */
  current: number;
  last: WordKind;
  /** The smallest scale used so far: "thousand million" is two numbers. */
  scale: number;
}

function wordKind(word: string): WordKind {
  if (word === 'hundred') return 'hundred';
  if (word in SCALES) return 'scale';
  const v = UNITS[word]!;
  return v === 0 ? 'zero' : v < 10 ? 'unit' : v < 20 ? 'teen' : 'tens';
}

/**
 * Whether `kind` continues `n` as English writes one number: "twenty one", "one hundred and
 * five", "two thousand three". Words that do not ("five and ten", "one two three") start another.
 */
function continues(n: WordNumber, kind: WordKind, word: string, afterAnd: boolean): boolean {
  const groupDone = n.last === 'hundred' || n.last === 'scale';
  switch (kind) {
    case 'zero': return false;
    case 'unit': return groupDone || (n.last === 'tens' && !afterAnd);
    case 'teen': case 'tens': return groupDone;
    case 'hundred': return !afterAnd && (n.last === 'unit' || n.last === 'teen' || n.last === 'tens') && n.current < 100;
    case 'scale': return !afterAnd && n.last !== 'zero' && n.last !== 'scale' && SCALES[word]! < n.scale;
  }
}

function addWord(n: WordNumber, kind: WordKind, word: string, end: number): void {
  if (kind === 'hundred') n.current = (n.current || 1) * 100;
  else if (kind === 'scale') {
    n.total += (n.current || 1) * SCALES[word]!;
    n.current = 0;
    n.scale = SCALES[word]!;
  } else n.current += UNITS[word]!;
  n.last = kind;
  n.end = end;
}

/** The numbers in a run of number words (WORDS_RE), with their offsets in the run. */
function wordNumbers(run: string): Array<{ start: number; end: number; value: number }> {
  const out: Array<{ start: number; end: number; value: number }> = [];
  let n: WordNumber | undefined;
  let afterAnd = false;
  const flush = (): void => {
    if (n) out.push({ start: n.start, end: n.end, value: n.total + n.current });
    n = undefined;
  };
  for (const m of run.matchAll(/[a-z]+/gi)) {
    const word = m[0].toLowerCase();
    const end = m.index + word.length;
    if (word === 'and') {
      // Only "hundred and five", "thousand and one": elsewhere "and" separates two numbers.
      afterAnd = n !== undefined && (n.last === 'hundred' || n.last === 'scale');
      if (!afterAnd) flush();
      continue;
    }
    const kind = wordKind(word);
    if (!n || !continues(n, kind, word, afterAnd)) {
      flush();
      n = { start: m.index, end, total: 0, current: 0, last: kind, scale: Infinity };
    }
    addWord(n, kind, word, end);
    afterAnd = false;
  }
  flush();
  return out;
}

// A number as sys-number reads it, digits or words, for the finders that need one in context.
const NUMBER_TEXT = `(?:${DIGITS}|${NUMBER_WORD}(?:(?:\\s+and\\s+|[\\s-]+)${NUMBER_WORD})*)`;

/**
 * The number a unit applies to in a NUMBER_TEXT match, with its offsets in it: digits are one
 * number; of a run of words, the one beside the unit ("five and ten percent" is 10%, not 15%).
 */
function numberBeside(text: string, side: 'first' | 'last'): { start: number; end: number; value: number } {
  if (/\d/.test(text)) return { start: 0, end: text.length, value: Number(text.replace(/,/g, '')) };
  const found = wordNumbers(text);
  return side === 'first' ? found[0]! : found[found.length - 1]!;
}

/**
 * The span and value of a number with its unit, the number being match group `group`: the unit
 * follows group 1 and takes its last number, and precedes group 2 and takes its first.
 */
function withUnit(m: RegExpMatchArray, group: 1 | 2): { start: number; end: number; value: number } {
  const number = m[group]!;
  const end = m.index! + m[0].length;
  if (group === 1) {
    const n = numberBeside(number, 'last');
    return { start: m.index! + n.start, end, value: n.value };
  }
  const n = numberBeside(number, 'first');
  return { start: m.index!, end: end - number.length + n.end, value: n.value };
}

const PERCENT_RE = new RegExp(`(?<![\\p{L}\\p{N}_.])(${NUMBER_TEXT})\\s*(?:%|per\\s?cent\\b|pct\\b)`, 'giu');

/** "15%", "15 percent", "fifteen per cent": the number as written (Watson's value for 15% is 15). */
function percentages(text: string): RuntimeEntity[] {
  const out: RuntimeEntity[] = [];
  for (const m of text.matchAll(PERCENT_RE)) {
    const { start, end, value } = withUnit(m, 1);
    out.push(entity('sys-percentage', start, end - start, String(value), { numeric_value: value }));
  }
  return out;
}

const SYMBOLS: Record<string, string> = { '$': 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR' };
const CODES = ['USD', 'EUR', 'GBP', 'JPY', 'INR', 'CAD', 'AUD', 'CHF', 'CNY', 'BRL', 'MXN'];
// Units in words, with the factor to the currency's base unit ("20 cents" is 0.2 USD).
const UNIT_WORDS: Record<string, [string, number]> = {
  dollar: ['USD', 1], dollars: ['USD', 1], bucks: ['USD', 1], cent: ['USD', 0.01], cents: ['USD', 0.01],
  euro: ['EUR', 1], euros: ['EUR', 1], pound: ['GBP', 1], pounds: ['GBP', 1], yen: ['JPY', 1], rupees: ['INR', 1], rupee: ['INR', 1],
};
const SYMBOL = `[${Object.keys(SYMBOLS).join('')}]`;
/** `number` is the match group holding the amount; `unit` gives the ISO code and the factor to the base unit. */
interface CurrencyRule {
  re: RegExp;
  number: 1 | 2;
  unit(m: RegExpMatchArray): [string, number];
}

const CURRENCY_RULES: CurrencyRule[] = [
  { re: new RegExp(`(${SYMBOL})\\s?(${NUMBER_TEXT})`, 'giu'), number: 2, unit: (m) => [SYMBOLS[m[1]!]!, 1] },
  { re: new RegExp(`(?<![\\p{L}\\p{N}_.])(${NUMBER_TEXT})\\s?(${SYMBOL})`, 'giu'), number: 1, unit: (m) => [SYMBOLS[m[2]!]!, 1] },
  { re: new RegExp(`\\b(${CODES.join('|')})\\s?(${NUMBER_TEXT})`, 'gu'), number: 2, unit: (m) => [m[1]!, 1] },
  { re: new RegExp(`(?<![\\p{L}\\p{N}_.])(${NUMBER_TEXT})\\s?(${CODES.join('|')})\\b`, 'gu'), number: 1, unit: (m) => [m[2]!, 1] },
  {
    re: new RegExp(`(?<![\\p{L}\\p{N}_.])(${NUMBER_TEXT})\\s+(${Object.keys(UNIT_WORDS).join('|')})\\b`, 'giu'),
    number: 1,
    unit: (m) => UNIT_WORDS[m[2]!.toLowerCase()]!,
  },
];

/** "$10", "1,234.56 EUR", "twenty dollars", "20 cents": value in the currency's base unit, ISO code as unit. */
function currencies(text: string): RuntimeEntity[] {
  const found: RuntimeEntity[] = [];
  for (const rule of CURRENCY_RULES) {
    for (const m of text.matchAll(rule.re)) {
      const [unit, factor] = rule.unit(m);
      const amount = withUnit(m, rule.number);
      const value = Number((amount.value * factor).toFixed(10));
      if (Number.isFinite(value)) found.push(entity('sys-currency', amount.start, amount.end - amount.start, String(value), { numeric_value: value, unit }));
    }
  }
  return longestFirst(found);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '(?:,?\\s+(\\d{4}))?';
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

interface DateRule {
  re: RegExp;
  date(m: RegExpMatchArray, today: Date): Date | undefined;
}

const DATE_RULES: DateRule[] = [
  { re: /\b(\d{4})-(\d{1,2})-(\d{1,2})\b/gi, date: (m) => ymd(+m[1]!, +m[2]!, +m[3]!) },
  // US order, as the English service reads "3/11": March 11.
  { re: /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?\b/gi, date: (m, t) => ymd(year(m[3], t), +m[1]!, +m[2]!) },
  { re: new RegExp(`\\b${MONTH}\\s+${DAY}${YEAR}\\b`, 'gi'), date: (m, t) => ymd(year(m[3], t), month(m[1]!), +m[2]!) },
  { re: new RegExp(`\\b${DAY}\\s+(?:of\\s+)?${MONTH}${YEAR}\\b`, 'gi'), date: (m, t) => ymd(year(m[3], t), month(m[2]!), +m[1]!) },
  { re: /\b(?:the\s+)?day\s+after\s+tomorrow\b/gi, date: (_m, t) => addDays(t, 2) },
  { re: /\b(?:the\s+)?day\s+before\s+yesterday\b/gi, date: (_m, t) => addDays(t, -2) },
  { re: /\b(today|tonight|tomorrow|yesterday)\b/gi, date: (m, t) => addDays(t, { today: 0, tonight: 0, tomorrow: 1, yesterday: -1 }[m[1]!.toLowerCase()]!) },
  {
    // "friday" is the next Friday on or after today; "next friday" is strictly after today;
    // "last friday" strictly before it.
    re: new RegExp(`\\b(?:(next|this|last)\\s+)?(${WEEKDAYS.join('|')})\\b`, 'gi'),
    date(m, t) {
      const wanted = WEEKDAYS.indexOf(m[2]!.toLowerCase());
      const which = m[1]?.toLowerCase();
      if (which === 'last') return addDays(t, -((t.getDay() - wanted + 7) % 7 || 7));
      let ahead = (wanted - t.getDay() + 7) % 7;
      if (ahead === 0 && which === 'next') ahead = 7;
      return addDays(t, ahead);
    },
  },
];

function month(name: string): number {
  return MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;
}

function year(text: string | undefined, today: Date): number {
  if (text === undefined) return today.getFullYear();
  const y = Number(text);
  return text.length === 2 ? 2000 + y : y;
}

function ymd(y: number, m: number, d: number): Date | undefined {
  const date = new Date(y, m - 1, d);
  return date.getFullYear() === y && date.getMonth() === m - 1 && date.getDate() === d ? date : undefined;
}

function addDays(today: Date, days: number): Date {
  return new Date(today.getFullYear(), today.getMonth(), today.getDate() + days);
}

export function formatDate(d: Date): string {
  return `${String(d.getFullYear()).padStart(4, '0')}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function dates(text: string, now: Date): RuntimeEntity[] {
  const found: RuntimeEntity[] = [];
  for (const rule of DATE_RULES) {
    for (const m of text.matchAll(rule.re)) {
      const d = rule.date(m, now);
      if (d) found.push(entity('sys-date', m.index, m[0].length, formatDate(d), { granularity: 'day' }));
    }
  }
  return longestFirst(found);
}

const TIME_RULES: Array<{ re: RegExp; time(m: RegExpMatchArray): [number, number, number] | undefined }> = [
  {
    re: /\b(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap])\.?m\b\.?)?/gi,
    time: (m) => clock(+m[1]!, +m[2]!, +(m[3] ?? 0), m[4]),
  },
  { re: /\b(\d{1,2})\s*([ap])\.?m\b\.?/gi, time: (m) => clock(+m[1]!, 0, 0, m[2]) },
  { re: /\b(noon|midday|midnight)\b/gi, time: (m) => (m[1]!.toLowerCase() === 'midnight' ? [0, 0, 0] : [12, 0, 0]) },
];

function clock(h: number, min: number, s: number, half: string | undefined): [number, number, number] | undefined {
  if (half !== undefined) {
    if (h < 1 || h > 12) return undefined;
    h = (h % 12) + (half.toLowerCase() === 'p' ? 12 : 0);
  }
  return h < 24 && min < 60 && s < 60 ? [h, min, s] : undefined;
}

function times(text: string): RuntimeEntity[] {
  const found: RuntimeEntity[] = [];
  for (const rule of TIME_RULES) {
    for (const m of text.matchAll(rule.re)) {
      const t = rule.time(m);
      if (t) found.push(entity('sys-time', m.index, m[0].trimEnd().length, t.map(pad).join(':'), { granularity: 'second' }));
    }
  }
  return longestFirst(found);
}

/** Several rules can read the same words ("march 3" and "3"); keep the longest, leftmost reading. */
function longestFirst(found: RuntimeEntity[]): RuntimeEntity[] {
  found.sort((a, b) => a.location[0] - b.location[0] || b.location[1] - a.location[1]);
  const kept: RuntimeEntity[] = [];
  let end = -1;
  for (const e of found) {
    if (e.location[0] >= end) {
      kept.push(e);
      end = e.location[1];
    }
  }
  return kept;
}

function entity(name: string, start: number, length: number, value: string, interpretation: Record<string, unknown>): RuntimeEntity {
  return { entity: name, location: [start, start + length], value, confidence: 1, interpretation };
}

export function systemEntities(name: SystemEntityName, text: string, now: Date): RuntimeEntity[] {
  switch (name) {
    case 'sys-number':
      return numbers(text);
    case 'sys-date':
      return dates(text, now);
    case 'sys-time':
      return times(text);
    case 'sys-percentage':
      return percentages(text);
    case 'sys-currency':
      return currencies(text);
  }
}
