/**
 * The runtime values expressions work with, and the SpEL-style methods dialog designers call on
 * them ($list.size(), @x.literal, now().after('12:00:00'), $date.reformatDateTime('EEEE') ...).
 * Dates and times are strings, as in the service: 'yyyy-MM-dd', 'HH:mm:ss', 'yyyy-MM-dd HH:mm:ss'.
 */
import { RegexTimeout, runGuarded, type RegexMatch, type RegexRequest } from './regex-guard.ts';
import type { RuntimeEntity, RuntimeIntent } from './types.ts';
import { ExpressionError } from './errors.ts';
import { javaFormat } from './java-format.ts';

export { ExpressionError };

/** What `@name` evaluates to: the first match of that entity, aware of all of them. */
export class EntityRef {
  constructor(
    readonly matches: readonly RuntimeEntity[],
    private readonly text: string,
  ) {}

  get first(): RuntimeEntity {
    return this.matches[0]!;
  }

  /** Numbers compare as numbers: `@sys-number > 5`. */
  primitive(): string | number {
    const numeric = this.first.interpretation?.numeric_value;
    return typeof numeric === 'number' ? numeric : this.first.value;
  }

  property(name: string): unknown {
    const e = this.first;
    switch (name) {
      case 'value': return this.primitive();
      case 'literal': return e.location ? this.text.slice(e.location[0], e.location[1]) : e.value;
      case 'location': return e.location;
      case 'confidence': return e.confidence;
      // The captured texts by group number, as the docs use them (`<? @ContactInfo.groups[1] ?>`, the
      // area code); a group that took no part is null, so the numbers never shift.
      case 'groups': return groupTexts(e, this.text);
      case 'entity': return e.entity;
      case 'interpretation': return e.interpretation;
      // All values found, in order: "@toppings.values" fills a list slot in one turn.
      case 'values': return this.matches.map((m) => new EntityRef([m], this.text).primitive());
      case 'length': return this.matches.length;
      default: return undefined;
    }
  }
}

function groupTexts(e: RuntimeEntity, text: string): Array<string | null> {
  const out: Array<string | null> = [];
  // A client may supply entities with groups of any shape (the request schema is loose), and any
  // names: at most three digits bound the array.
  const groups: unknown[] = Array.isArray(e.groups) ? e.groups : [];
  for (const g of groups as Array<Partial<NonNullable<RuntimeEntity['groups']>[number]> | null>) {
    const k = typeof g?.group === 'string' ? /^group_(\d{1,3})$/.exec(g.group)?.[1] : undefined;
    if (k === undefined || !Array.isArray(g!.location)) continue;
    const [from, to] = g!.location;
    if (typeof from === 'number' && typeof to === 'number') out[Number(k)] = text.slice(from, to);
  }
  return Array.from(out, (t) => t ?? null);
}

/**
 * What `intent` evaluates to: the top intent, which compares and prints as its name
 * (`intent == 'help'`) and has its properties (`intent.confidence > 0.7`, the docs' disambiguation
 * example).
 */
export class IntentRef {
  constructor(readonly intent: RuntimeIntent) {}

  primitive(): string {
    return this.intent.intent;
  }

  property(name: string): unknown {
    return name === 'intent' || name === 'confidence' ? this.intent[name] : undefined;
  }
}

/** An element of `intents`: `intents[0] == 'help'` compares its name (the docs' form of `#help`). */
function isIntent(v: unknown): v is RuntimeIntent {
  return typeof v === 'object' && v !== null && typeof (v as RuntimeIntent).intent === 'string' && typeof (v as RuntimeIntent).confidence === 'number';
}

/** `T(String)`, `T(Math)`: a type whose static methods an expression calls. */
export class JavaType {
  constructor(readonly name: string) {}
}

function staticMethod(type: string, name: string, a: unknown[]): unknown {
  const numbers = (): number[] => a.map((x) => {
    const n = asNumber(x);
    if (n === undefined) throw new ExpressionError(`T(Math).${name}() needs numbers`);
    return n;
  });
  switch (`${type}.${name}`) {
    // String.join(delimiter, list) or String.join(delimiter, item, item, …)
    case 'String.join': {
      const items = a.length === 2 && Array.isArray(a[1]) ? a[1].map(unwrap) : a.slice(1);
      return bounded(items.map(stringify).join(stringify(a[0])), 'T(String).join()');
    }
    case 'String.valueOf': return stringify(a[0]);
    case 'String.format': return bounded(javaFormat(stringify(a[0]), a.slice(1), stringify), 'T(String).format()');
    case 'Math.abs': return Math.abs(numbers()[0]!);
    case 'Math.max': return Math.max(...numbers());
    case 'Math.min': return Math.min(...numbers());
    case 'Math.round': return Math.round(numbers()[0]!);
    case 'Math.floor': return Math.floor(numbers()[0]!);
    case 'Math.ceil': return Math.ceil(numbers()[0]!);
    case 'Math.sqrt': return Math.sqrt(numbers()[0]!);
    case 'Math.pow': { const [x, y] = numbers(); return Math.pow(x!, y!); }
    case 'Math.random': return Math.random();
  }
  throw new ExpressionError(`unknown method T(${type}).${name}()`);
}

export function unwrap(v: unknown): unknown {
  return v instanceof EntityRef || v instanceof IntentRef ? v.primitive() : v;
}

export function truthy(v: unknown): boolean {
  const u = unwrap(v);
  return u !== null && u !== undefined && u !== false && u !== '';
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

export function equals(a: unknown, b: unknown): boolean {
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === null || x === undefined || y === null || y === undefined) return (x ?? null) === (y ?? null);
  if (typeof x === 'number' || typeof y === 'number') {
    const nx = asNumber(x);
    const ny = asNumber(y);
    if (nx !== undefined && ny !== undefined) return nx === ny;
  }
  if (typeof y === 'string' && isIntent(x)) return x.intent === y;
  if (typeof x === 'string' && isIntent(y)) return y.intent === x;
  if (typeof x === 'object' || typeof y === 'object') return JSON.stringify(x) === JSON.stringify(y);
  return x === y;
}

/**
 * Negative, zero or positive; numbers and numeric text numerically. NaN when a side is missing, so
 * `@sys-number > 5` is simply false when the user gave no number.
 */
export function compare(a: unknown, b: unknown): number {
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === null || x === undefined || y === null || y === undefined) return NaN;
  const nx = asNumber(x);
  const ny = asNumber(y);
  // Numeric text compares as a number, so "20000" > "3" as a person would read it.
  if (nx !== undefined && ny !== undefined) return nx - ny;
  const sx = String(x);
  const sy = String(y);
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}

/**
 * The longest string an expression may build. replaceAll() with the input as the replacement
 * grows a string as the cube of the input's length in two calls: a 400-character input made a
 * 64 MB answer, and a few such turns at once exhausted the server's memory.
 */
export const MAX_STRING = 100_000;

function tooLong(length: number, what: string): never {
  throw new ExpressionError(`${what} would build a string of ${length} characters; at most ${MAX_STRING} are allowed`);
}

function withinLimit(length: number, what: string): void {
  if (length > MAX_STRING) tooLong(length, what);
}

function bounded<T>(value: T, what: string): T {
  if (typeof value === 'string') withinLimit(value.length, what);
  return value;
}

export function plus(a: unknown, b: unknown): unknown {
  const x = unwrap(a);
  const y = unwrap(b);
  if (typeof x === 'number' && typeof y === 'number') return x + y;
  return bounded(stringify(x) + stringify(y), '"+"');
}

export function arithmetic(op: string, a: unknown, b: unknown): number {
  const x = asNumber(unwrap(a));
  const y = asNumber(unwrap(b));
  if (x === undefined || y === undefined) throw new ExpressionError(`"${op}" needs numbers`);
  switch (op) {
    case '-': return x - y;
    case '*': return x * y;
    case '/': return x / y;
    default: return x % y;
  }
}

/** How a value prints in a response: lists as the service prints them, nothing for null. */
export function stringify(v: unknown): string {
  const u = unwrap(v);
  if (u === null || u === undefined) return '';
  if (typeof u === 'string') return u;
  if (Array.isArray(u)) return JSON.stringify(u.map(unwrap));
  if (typeof u === 'object') return JSON.stringify(u);
  return String(u);
}

/** A JSON-safe copy for storing in context: entity references become their values. */
export function toJson(v: unknown): unknown {
  const u = unwrap(v);
  if (Array.isArray(u)) return u.map(toJson);
  return u;
}

export function property(target: unknown, name: string): unknown {
  if (target instanceof EntityRef || target instanceof IntentRef) return target.property(name);
  // Reading a property of nothing is nothing, so "@toppings.values" is simply false without toppings.
  if (target === null || target === undefined) return null;
  if ((typeof target === 'string' || Array.isArray(target)) && name === 'length') return target.length;
  if (typeof target === 'object') return (target as Record<string, unknown>)[name];
  return undefined;
}

export function index(target: unknown, key: unknown): unknown {
  const t = unwrap(target);
  if (t === null || t === undefined) return null;
  if (Array.isArray(t) && typeof key === 'number') return t[key < 0 ? t.length + key : key];
  if (typeof t === 'object') return (t as Record<string, unknown>)[String(unwrap(key))];
  return undefined;
}

const MAX_LIST = 100_000;

function grow(list: unknown[], items: unknown[], what: string): unknown[] {
  if (list.length + items.length > MAX_LIST) throw new ExpressionError(`${what}() would build a list of ${list.length + items.length} items; at most ${MAX_LIST} are allowed`);
  list.push(...items);
  return list;
}

/** An index into `list` for remove() and set(): a whole number in range, else an error saying which. */
function listIndex(list: unknown[], index: unknown, what: string): number {
  const i = Number(index);
  if (!Number.isInteger(i) || i < 0 || i >= list.length) throw new ExpressionError(`${what}(${stringify(index)}): no such index in a list of ${list.length}`);
  return i;
}

/**
 * joinToArray's template filled in for one element: `%e.name%` (or a path, `%e.a.b%`) is the
 * element's property. A string template that is one placeholder gives the value itself when
 * `retainDataType`, and otherwise its text, as a number when it reads as one (as Watson may);
 * objects and lists are filled in leaf by leaf.
 */
function fillTemplate(template: unknown, element: unknown, retainDataType: boolean): unknown {
  if (typeof template === 'string') {
    const only = /^%e\.([\p{L}\p{N}_.-]+)%$/u.exec(template);
    if (only) {
      const v = path(element, only[1]!);
      if (retainDataType) return v ?? null;
      const text = stringify(v);
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    }
    return bounded(template.replace(/%e\.([\p{L}\p{N}_.-]+)%/gu, (_, p: string) => stringify(path(element, p))), 'joinToArray()');
  }
  if (Array.isArray(template)) return template.map((t) => fillTemplate(t, element, retainDataType));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, t]) => [k, fillTemplate(t, element, retainDataType)]));
  }
  return template;
}

function path(value: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, key) => property(v, key), value);
}

export function callMethod(target: unknown, name: string, args: unknown[]): unknown {
  return bounded(method(target, name, args), `${name}()`);
}

function method(target: unknown, name: string, args: unknown[]): unknown {
  const t = unwrap(target);
  const a = args.map(unwrap);
  if (t === null || t === undefined) throw new ExpressionError(`cannot call ${name}() on null`);
  if (t instanceof JavaType) return staticMethod(t.name, name, a);
  if (Array.isArray(t)) {
    const list = t.map(unwrap);
    switch (name) {
      case 'size': case 'length': return list.length;
      case 'isEmpty': return list.length === 0;
      case 'get': return t[Number(a[0])];
      case 'contains': return list.some((x) => equals(x, a[0]));
      case 'containsIgnoreCase': return list.some((x) => stringify(x).toLowerCase() === stringify(a[0]).toLowerCase());
      // On `intents`, an intent's position by name (equals compares an intent with its name).
      case 'indexOf': return list.findIndex((x) => equals(x, a[0]));
      // intents.containsIntent(name, minScore[, topN]): among the first topN (all when absent or
      // negative), that intent with at least that confidence.
      case 'containsIntent': {
        const top = a[2] === undefined || Number(a[2]) < 0 ? list : list.slice(0, Number(a[2]));
        return top.some((x) => isIntent(x) && x.intent === String(a[0]) && x.confidence >= Number(a[1] ?? 0));
      }
      case 'toJson': return t;
      case 'join': return list.map(stringify).join(a[0] === undefined ? ',' : String(a[0]));
      case 'toString': return stringify(t);
      case 'getRandomItem': return t.length === 0 ? null : t[Math.floor(Math.random() * t.length)];
      case 'joinToArray': return t.map((e) => fillTemplate(a[0], unwrap(e), a[1] === true));
      // The changing methods change the list itself, as on Watson's JSONArray: `$list.clear()` in
      // an output field empties the context variable. (Every list an expression sees is the turn's
      // own: the request's context is cloned, and a node's literal lists are built afresh.)
      case 'append': return grow(t, a, name);
      case 'addAll': {
        if (!Array.isArray(a[0])) throw new ExpressionError('addAll() takes a list');
        grow(t, a[0], name);
        return null;
      }
      case 'clear': t.length = 0; return null;
      case 'remove': t.splice(listIndex(t, a[0], name), 1); return t;
      case 'removeValue': {
        const i = list.findIndex((x) => equals(x, a[0]));
        if (i >= 0) t.splice(i, 1);
        return t;
      }
      case 'set': t[listIndex(t, a[0], name)] = a[1] ?? null; return t;
    }
  }
  if (typeof t === 'string') {
    switch (name) {
      case 'size': case 'length': return t.length;
      case 'isEmpty': return t.length === 0;
      case 'contains': return t.includes(String(a[0]));
      case 'startsWith': return t.startsWith(String(a[0]));
      case 'endsWith': return t.endsWith(String(a[0]));
      case 'equals': return t === String(a[0]);
      case 'equalsIgnoreCase': return t.toLowerCase() === String(a[0]).toLowerCase();
      case 'toLowerCase': return t.toLowerCase();
      case 'toUpperCase': return t.toUpperCase();
      case 'trim': return t.trim();
      case 'indexOf': return t.indexOf(String(a[0]));
      case 'substring': return t.substring(Number(a[0]), a[1] === undefined ? undefined : Number(a[1]));
      case 'concat': return t + String(a[0]);
      case 'charAt': return t.charAt(Number(a[0]));
      case 'split': return guarded({ op: 'split', ...javaRegex(String(a[0])), text: t });
      case 'replace': {
        const parts = t.split(String(a[0]));
        withinLimit(t.length + (parts.length - 1) * String(a[1]).length, name);
        return parts.join(String(a[1]));
      }
      case 'replaceAll': {
        // Counted before the string is built: one call can otherwise ask for gigabytes.
        const r = guarded({ op: 'replace', ...javaRegex(String(a[0]), 'g'), text: t, replacement: String(a[1]), max: MAX_STRING }) as string | { length: number };
        return typeof r === 'string' ? r : tooLong(r.length, name);
      }
      // Java's matches() is a whole-string match; find() is the substring search.
      case 'matches': return guarded({ op: 'test', ...javaRegex(`^(?:${String(a[0])})$`), text: t });
      case 'find': return guarded({ op: 'test', ...javaRegex(String(a[0])), text: t });
      case 'extract': {
        const m = (guarded({ op: 'matchAll', ...javaRegex(String(a[0]), 'g'), text: t }) as RegexMatch[])[0];
        return m ? (m.groups[Number(a[1] ?? 0)] ?? '') : '';
      }
      case 'toInt': case 'toLong': case 'toDouble': {
        const n = Number(t);
        if (Number.isNaN(n)) throw new ExpressionError(`"${t}" is not a number`);
        return name === 'toDouble' ? n : Math.trunc(n);
      }
      case 'toString': return t;
      case 'toJson': {
        try {
          return JSON.parse(t) as unknown;
        } catch {
          throw new ExpressionError(`toJson(): the text is not JSON (${t.length > 40 ? `${t.slice(0, 40)}…` : t})`);
        }
      }
      case 'plusDays': case 'minusDays': case 'plusMonths': case 'minusMonths': case 'plusYears': case 'minusYears':
      case 'plusHours': case 'minusHours': case 'plusMinutes': case 'minusMinutes': case 'plusSeconds': case 'minusSeconds':
        return shiftDateTime(t, name, Number(a[0]));
      case 'before': return compareDateTime(t, String(a[0])) < 0;
      case 'after': return compareDateTime(t, String(a[0])) > 0;
      case 'sameMoment': return compareDateTime(t, String(a[0])) === 0;
      case 'sameOrBefore': return compareDateTime(t, String(a[0])) <= 0;
      case 'sameOrAfter': return compareDateTime(t, String(a[0])) >= 0;
      case 'reformatDateTime': return reformatDateTime(t, String(a[0]));
    }
  }
  if (typeof t === 'number') {
    switch (name) {
      case 'toString': return String(t);
      case 'toInt': case 'toLong': return Math.trunc(t);
      case 'toDouble': return t;
    }
  }
  if (typeof t === 'object' && name === 'get') return (t as Record<string, unknown>)[String(a[0])];
  throw new ExpressionError(`unknown method ${name}() on ${Array.isArray(t) ? 'a list' : typeof t}`);
}

/** Sources and flags already checked to compile. */
const compiled = new Set<string>();
const COMPILED_SIZE = 512;

/**
 * A regular expression of the dialog, checked to compile here (an ExpressionError if it does not),
 * to be run by `guarded` in the regex worker: the source comes from the workspace's author.
 */
function javaRegex(source: string, flags = ''): { source: string; flags: string } {
  const key = `${flags}/${source}`;
  if (!compiled.has(key)) {
    try {
      void new RegExp(source, flags);
    } catch {
      throw new ExpressionError(`invalid regular expression "${source}"`);
    }
    // The sources are mostly the dialog's own literals, checked once; bounded because an argument can be built from input.
    if (compiled.size >= COMPILED_SIZE) compiled.clear();
    compiled.add(key);
  }
  return { source, flags };
}

function guarded(request: RegexRequest): unknown {
  try {
    return runGuarded([request])[0];
  } catch (err) {
    if (err instanceof RegexTimeout) throw new ExpressionError(`${err.message} on this input; a pattern with nested repetition, such as (a+)+, can take time exponential in the input's length`);
    throw err;
  }
}

interface DateTimeParts {
  date?: [number, number, number];
  /** seconds since midnight */
  time?: number;
}

function parseDateTime(s: string): DateTimeParts {
  const m = /^\s*(?:(\d{4})-(\d{2})-(\d{2}))?(?:[ T]?(\d{1,2}):(\d{2})(?::(\d{2}))?)?/.exec(s);
  const parts: DateTimeParts = {};
  if (m?.[1]) parts.date = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (m?.[4]) parts.time = Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6] ?? 0);
  if (!parts.date && parts.time === undefined) throw new ExpressionError(`"${s}" is not a date or time`);
  return parts;
}

/**
 * Compares what both sides have: a time against a date-time compares the time of day. A date
 * against a time has nothing to compare: NaN, so every comparison is false (as the docs say).
 */
function compareDateTime(a: string, b: string): number {
  const x = parseDateTime(a);
  const y = parseDateTime(b);
  if (x.date && y.date) {
    const d = (x.date[0] - y.date[0]) * 10000 + (x.date[1] - y.date[1]) * 100 + (x.date[2] - y.date[2]);
    if (d !== 0 || x.time === undefined || y.time === undefined) return d;
  }
  if (x.time !== undefined && y.time !== undefined) return x.time - y.time;
  return NaN;
}

const DAY_SECONDS = 86_400;

/** A number with leading zeros to `width` digits, as the date and time forms print them. */
function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * plusDays(n) … minusSeconds(n) on 'yyyy-MM-dd', 'HH:mm:ss' or 'yyyy-MM-dd HH:mm:ss', answered in
 * the same form. Months and years keep the day where the month has it, else take its last day
 * (31 January plus a month is 28 or 29 February), as Java's date arithmetic does; a time alone
 * wraps around midnight.
 */
function shiftDateTime(s: string, method: string, amount: number): string {
  if (!Number.isInteger(amount)) throw new ExpressionError(`${method}() needs a whole number`);
  const n = method.startsWith('minus') ? -amount : amount;
  const unit = method.replace(/^(plus|minus)/, '');
  const p = parseDateTime(s);
  if (!p.date && ['Days', 'Months', 'Years'].includes(unit)) throw new ExpressionError(`${method}() needs a date, not the time "${s}"`);
  let [y, mo, d] = p.date ?? [1970, 1, 1];
  let secs = p.time ?? 0;
  if (unit === 'Months' || unit === 'Years') {
    const months = y * 12 + (mo - 1) + (unit === 'Years' ? 12 * n : n);
    y = Math.floor(months / 12);
    mo = (months % 12) + 1;
    d = Math.min(d, new Date(Date.UTC(y, mo, 0)).getUTCDate());
  } else {
    const delta = unit === 'Days' ? n * DAY_SECONDS : unit === 'Hours' ? n * 3600 : unit === 'Minutes' ? n * 60 : n;
    const total = Date.UTC(y, mo - 1, d) / 1000 + secs + delta;
    const day = Math.floor(total / DAY_SECONDS);
    secs = total - day * DAY_SECONDS;
    const at = new Date(day * DAY_SECONDS * 1000);
    [y, mo, d] = [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate()];
  }
  if (!(y >= 0 && y <= 9999)) throw new ExpressionError(`${method}(${amount}) on "${s}" leaves the years 0 to 9999`);
  const date = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  const time = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor((secs % 3600) / 60))}:${pad(secs % 60)}`;
  if (!p.date) return time;
  return p.time === undefined ? date : `${date} ${time}`;
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Java's SimpleDateFormat letters, with the week fields of its default (US) locale: weeks start
 * on Sunday and week 1 is the one holding 1 January, so 29 December 2024 is in week 1 of 2025.
 * Quoted text ('at', with '' for a quote) is copied; any other letter is refused, as Java refuses
 * it, rather than printed as if it were text. The values carry no zone, so z, Z and X are refused too.
 */
function reformatDateTime(s: string, pattern: string): string {
  const p = parseDateTime(s);
  const [y, mo, d] = p.date ?? [1970, 1, 1];
  const secs = p.time ?? 0;
  const h = Math.floor(secs / 3600);
  const mi = Math.floor((secs % 3600) / 60);
  const se = secs % 60;
  const day = Date.UTC(y, mo - 1, d) / (DAY_SECONDS * 1000);
  const wd = new Date(day * DAY_SECONDS * 1000).getUTCDay();
  const dayOfYear = day - Date.UTC(y, 0, 1) / (DAY_SECONDS * 1000) + 1;
  const week = usWeek(y, dayOfYear, wd);
  return pattern.replace(/''|'((?:[^']|'')*)'|([A-Za-z])\2*/g, (tok, quoted: string | undefined) => {
    if (tok === "''") return "'";
    if (quoted !== undefined) return quoted.replace(/''/g, "'");
    const n = tok.length;
    switch (tok[0]) {
      case 'G': return 'AD';
      case 'E': return n >= 4 ? DAY_NAMES[wd]! : DAY_NAMES[wd]!.slice(0, 3);
      case 'M': case 'L': return n >= 4 ? MONTH_NAMES[mo - 1]! : n === 3 ? MONTH_NAMES[mo - 1]!.slice(0, 3) : pad(mo, n);
      case 'd': return pad(d, n);
      case 'D': return pad(dayOfYear, n);
      case 'F': return pad(Math.floor((d - 1) / 7) + 1, n);
      case 'u': return pad(wd === 0 ? 7 : wd, n);
      case 'w': return pad(week.week, n);
      case 'W': return pad(Math.floor((d - 1 + new Date(Date.UTC(y, mo - 1, 1)).getUTCDay()) / 7) + 1, n);
      case 'y': return n === 2 ? pad(y % 100, 2) : pad(y, n);
      case 'Y': return n === 2 ? pad(week.year % 100, 2) : pad(week.year, n);
      case 'H': return pad(h, n);
      case 'k': return pad(h === 0 ? 24 : h, n);
      case 'K': return pad(h % 12, n);
      case 'h': return pad(h % 12 === 0 ? 12 : h % 12, n);
      case 'm': return pad(mi, n);
      case 's': return pad(se, n);
      case 'S': return pad(0, n);
      case 'a': return h < 12 ? 'AM' : 'PM';
      default:
        throw new ExpressionError(`reformatDateTime(): the pattern letter "${tok[0]}" is not one this runtime formats${'zZX'.includes(tok[0]!) ? ' (dates and times here carry no time zone)' : ''}; put literal text in single quotes, as in "h 'o''clock'"`);
    }
  });
}

/** The week-based year and week of a date, US rules (see reformatDateTime). */
function usWeek(y: number, dayOfYear: number, wd: number): { year: number; week: number } {
  const daysInYear = new Date(Date.UTC(y, 1, 29)).getUTCDate() === 29 ? 366 : 365;
  // The week's Saturday falls in the next year: this is that year's week 1.
  if (dayOfYear + (6 - wd) > daysInYear) return { year: y + 1, week: 1 };
  const jan1 = (wd - ((dayOfYear - 1) % 7) + 7) % 7;
  return { year: y, week: Math.floor((dayOfYear - 1 + jan1) / 7) + 1 };
}
