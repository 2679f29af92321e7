/**
 * The dialog expression language: the SpEL subset that node conditions, context values and
 * `<? ... ?>` output use, with the shorthands #intent, @entity, @entity:value,
 * @entity:(multi word value), $variable and the special conditions (anything_else, welcome,
 * conversation_start, irrelevant, true, false). An expression is parsed once into a closure tree;
 * evaluating it against a turn's scope allocates almost nothing.
 */
import { formatWallClock, wallClock } from './time-zone.ts';
import type { RuntimeEntity, RuntimeIntent } from './types.ts';
import {
  EntityRef, ExpressionError, IntentRef, JavaType, arithmetic, callMethod, compare, equals, index, plus, property, stringify, truthy, unwrap,
} from './values.ts';

/** Intent conditions stop matching below this confidence (DOC-INT). */
export const INTENT_THRESHOLD = 0.2;

/** Everything an expression can see during one turn. */
export interface Scope {
  /** The conversation's variables (context minus system fields); `$name` reads and nodes write here. */
  context: Record<string, unknown>;
  input: { text: string } & Record<string, unknown>;
  intents: RuntimeIntent[];
  entities: RuntimeEntity[];
  /** Entities grouped by name, so `@name` is one lookup. */
  entityIndex: Map<string, RuntimeEntity[]>;
  conversationStart: boolean;
  slotInFocus: boolean;
  /** While a node's question is asked again after a digression returned to it. */
  returningFromDigression?: boolean;
  /** While a slot's Found (filled) handlers run: its value before this turn, and now. */
  event?: { previous_value: unknown; current_value: unknown };
  /** 'yyyy-MM-dd HH:mm:ss', the service's now(): the user's wall-clock time (see time-zone.ts). */
  now: string;
  /** The moment of the turn, for now('Europe/London'). */
  instant: Date;
  /** While filter()'s condition runs on an element: its temporary variable's name and the element. */
  bound?: { name: string; value: unknown };
  /** While a projection's or selection's expression runs on an element (`list.![name]`): the element, whose properties are bare names. */
  root?: unknown;
  /** The turn's output so far (`<? output.number + 1 ?>` in a node reached by a jump): its custom keys, `generic` and `text`. */
  output?: () => Record<string, unknown>;
}

export type Evaluate = (scope: Scope) => unknown;

export class ExpressionSyntaxError extends Error {}

type Token =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  | { k: 'var'; v: string; value?: string }
  | { k: 'ent'; v: string; value?: string }
  | { k: 'int'; v: string }
  | { k: 'id'; v: string }
  | { k: 'op'; v: string }
  | { k: 'eof' };

const OPERATORS = ['&&', '||', '==', '!=', '>=', '<=', '?:', '?.', '>', '<', '!', '+', '-', '*', '/', '%', '?', ':', '.', ',', '(', ')', '[', ']', '='];
const NAME = /[\p{L}\p{N}_]/u;
const ENTITY_NAME = /[\p{L}\p{N}_-]/u;
const INTENT_NAME = /[\p{L}\p{N}_.-]/u;
const BARE_VALUE = /[^\s()&|!=<>,?]/u;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const readWhile = (re: RegExp): string => {
    const start = i;
    while (i < src.length && re.test(src[i]!)) i++;
    return src.slice(start, i);
  };
  // `@size:large` and `@size:(extra large)`; a space before ':' makes it the ternary's instead.
  const readValue = (): string | undefined => {
    if (src[i] !== ':' || i + 1 >= src.length) return undefined;
    i++;
    if (src[i] === '(') {
      const close = src.indexOf(')', i);
      if (close === -1) throw new ExpressionSyntaxError('missing ")" after entity value');
      const v = src.slice(i + 1, close);
      i = close + 1;
      return v;
    }
    const v = readWhile(BARE_VALUE);
    if (v === '') throw new ExpressionSyntaxError('missing value after ":"');
    return v;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/\d/.test(c)) {
      const num = readWhile(/[\d.]/);
      out.push({ k: 'num', v: Number(num.replace(/\.$/, '')) });
      if (num.endsWith('.')) i--;
      // Java's type suffixes (24*60*60*1000L, 1.5d, 2f): the value is the same number.
      else if (/[lLdDfF]/.test(src[i] ?? '') && !NAME.test(src[i + 1] ?? '')) i++;
    } else if (c === "'" || c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpressionSyntaxError('unterminated string');
        const ch = src[i++]!;
        // A backslash is an ordinary character, as in SpEL: '\d+' is the regular expression \d+
        // (the docs write one backslash in a response, two in JSON, which decode to one).
        if (ch === c && src[i] === c) { s += c; i++; } // SpEL doubles a quote to escape it
        else if (ch === c) break;
        else s += ch;
      }
      out.push({ k: 'str', v: s });
    } else if (c === '$' && (src[i + 1] === '(' || src[i + 1] === '{')) {
      // $(card-type) and ${card-type}: a variable whose name holds characters a bare $name cannot.
      const close = src.indexOf(src[i + 1] === '(' ? ')' : '}', i + 2);
      const name = close === -1 ? '' : src.slice(i + 2, close).trim();
      if (name === '') throw new ExpressionSyntaxError(`"${src.slice(i, i + 2)}" must be followed by a variable name and "${src[i + 1] === '(' ? ')' : '}'}"`);
      out.push({ k: 'var', v: name });
      i = close + 1;
    } else if (c === '$' || c === '@' || c === '#') {
      i++;
      const name = readWhile(c === '$' ? NAME : c === '@' ? ENTITY_NAME : INTENT_NAME);
      if (name === '') throw new ExpressionSyntaxError(`"${c}" must be followed by a name`);
      if (c === '#') out.push({ k: 'int', v: name.replace(/\.+$/, '') });
      else {
        const value = readValue();
        out.push(value === undefined ? { k: c === '$' ? 'var' : 'ent', v: name } : { k: c === '$' ? 'var' : 'ent', v: name, value });
      }
    } else if (NAME.test(c)) {
      out.push({ k: 'id', v: readWhile(NAME) });
    } else {
      const op = OPERATORS.find((o) => src.startsWith(o, i));
      if (!op) throw new ExpressionSyntaxError(`unexpected "${c}"`);
      out.push({ k: 'op', v: op });
      i += op.length;
    }
  }
  out.push({ k: 'eof' });
  return out;
}

const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!', AND: '&&', OR: '||', NOT: '!' };

/** Binding power of binary operators; higher binds tighter. */
const BINARY: Record<string, number> = {
  '?': 1, '?:': 1, '||': 2, '&&': 3, '==': 4, '!=': 4, '=': 4, '>': 5, '<': 5, '>=': 5, '<=': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
};

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private op(t: Token): string | undefined {
    if (t.k === 'op') return t.v;
    if (t.k === 'id') return WORD_OPERATORS[t.v];
    return undefined;
  }

  private expect(op: string): void {
    const t = this.next();
    if (this.op(t) !== op) throw new ExpressionSyntaxError(`expected "${op}"`);
  }

  parseAll(): Evaluate {
    const e = this.parse(0);
    if (this.peek().k !== 'eof') throw new ExpressionSyntaxError('unexpected text after the expression');
    return e;
  }

  /**
   * One reference and what follows it (`$order.size`, `@toppings.values`, `$list.size()`, `$a[0]`),
   * the whole source, else undefined. `@size:large` is a condition, not a reference.
   */
  parseReference(): Evaluate | undefined {
    const t = this.peek();
    const reference = ((t.k === 'var' || t.k === 'ent') && t.value === undefined) || t.k === 'int';
    if (!reference) return undefined;
    const e = this.postfix(this.primary());
    return this.peek().k === 'eof' ? e : undefined;
  }

  private parse(minPower: number): Evaluate {
    let left = this.unary();
    for (;;) {
      const op = this.op(this.peek());
      const power = op === undefined ? undefined : BINARY[op];
      if (op === undefined || power === undefined || power <= minPower) return left;
      this.next();
      if (op === '?') {
        const yes = this.parse(0);
        this.expect(':');
        const no = this.parse(power - 1); // right-associative
        const cond = left;
        left = (s) => (truthy(cond(s)) ? yes(s) : no(s));
        continue;
      }
      const right = this.parse(power);
      left = binary(op, left, right);
    }
  }

  private unary(): Evaluate {
    const op = this.op(this.peek());
    if (op === '!') {
      this.next();
      const e = this.unary();
      return (s) => !truthy(e(s));
    }
    if (op === '-') {
      this.next();
      const e = this.unary();
      return (s) => arithmetic('-', 0, e(s));
    }
    return this.postfix(this.primary());
  }

  private postfix(target: Evaluate): Evaluate {
    for (;;) {
      const op = this.op(this.peek());
      if (op === '.' || op === '?.') {
        this.next();
        // SpEL's projection `.![expr]` and selection `.?[condition]`, run on each element.
        const kind = this.op(this.peek());
        if (op === '.' && (kind === '!' || kind === '?')) {
          this.next();
          this.expect('[');
          const each = this.parse(0);
          this.expect(']');
          target = kind === '!' ? project(target, each) : select(target, each);
          continue;
        }
        const name = this.next();
        if (name.k !== 'id') throw new ExpressionSyntaxError(`expected a name after "${op}"`);
        if (this.op(this.peek()) === '(') {
          const args = this.args();
          const t = target;
          if (name.v === 'filter') {
            target = filter(t, args, op === '?.');
            continue;
          }
          // `?.` (SpEL's safe navigation): a method of nothing is nothing, not an error.
          target = op === '?.'
            ? (s) => { const v = t(s); return v === null || v === undefined ? null : callMethod(v, name.v, args.map((a) => a(s))); }
            : (s) => callMethod(t(s), name.v, args.map((a) => a(s)));
        } else {
          const t = target;
          target = (s) => property(t(s), name.v);
        }
      } else if (op === '[') {
        this.next();
        const key = this.parse(0);
        this.expect(']');
        const t = target;
        target = (s) => index(t(s), unwrap(key(s)));
      } else {
        return target;
      }
    }
  }

  private args(): Evaluate[] {
    this.expect('(');
    const args: Evaluate[] = [];
    if (this.op(this.peek()) === ')') {
      this.next();
      return args;
    }
    for (;;) {
      args.push(this.parse(0));
      const op = this.op(this.next());
      if (op === ')') return args;
      if (op !== ',') throw new ExpressionSyntaxError('expected "," or ")" in arguments');
    }
  }

  private primary(): Evaluate {
    const t = this.next();
    switch (t.k) {
      case 'num':
      case 'str': {
        const v = t.v;
        return () => v;
      }
      case 'int': {
        const name = t.v;
        return (s) => {
          const top = s.intents[0];
          return top !== undefined && top.intent === name && top.confidence >= INTENT_THRESHOLD;
        };
      }
      case 'ent': {
        const { v: name, value } = t;
        if (value === undefined) return (s) => entityRef(s, name);
        const wanted = value.trim().toLowerCase();
        return (s) => (s.entityIndex.get(name) ?? []).some((e) => e.value.toLowerCase() === wanted);
      }
      case 'var': {
        const { v: name, value } = t;
        if (value === undefined) return (s) => s.context[name];
        // `$isMember:true` (the docs' own example) holds for a boolean true, and `$count:3` for a
        // number: the shorthand's value is text, compared with the variable's value as text.
        return (s) => {
          const v = s.context[name];
          return typeof v === 'boolean' || typeof v === 'number' ? String(v) === value : equals(v, value);
        };
      }
      case 'id':
        return this.identifier(t.v);
      case 'op':
        if (t.v === '(') {
          const e = this.parse(0);
          this.expect(')');
          return e;
        }
        throw new ExpressionSyntaxError(`unexpected "${t.v}"`);
      case 'eof':
        throw new ExpressionSyntaxError('unexpected end of expression');
    }
  }

  private identifier(name: string): Evaluate {
    if (name === 'T' && this.op(this.peek()) === '(') {
      // A type for its static methods: T(String).join(", ", list), T(Math).max(a, b).
      this.next();
      let type = this.next();
      while (type.k === 'id' && this.op(this.peek()) === '.') { this.next(); type = this.next(); }
      if (type.k !== 'id') throw new ExpressionSyntaxError('T( must be followed by a type name');
      this.expect(')');
      const t = new JavaType(type.v);
      return () => t;
    }
    if (this.op(this.peek()) === '(') return globalFunction(name, this.args());
    switch (name) {
      case 'true': case 'anything_else': return () => true;
      case 'false': return () => false;
      case 'null': return () => null;
      case 'welcome': return (s) => s.conversationStart && s.input.text === '';
      case 'conversation_start': return (s) => s.conversationStart;
      case 'irrelevant': return (s) => !(s.intents[0] && s.intents[0].confidence >= INTENT_THRESHOLD);
      case 'slot_in_focus': return (s) => s.slotInFocus;
      case 'returning_from_digression': return (s) => s.returningFromDigression === true;
      case 'event': return (s) => s.event ?? null;
      case 'input': return (s) => s.input;
      case 'input_text': return (s) => s.input.text;
      case 'intents': return (s) => s.intents;
      case 'intent': return (s) => (s.intents[0] ? new IntentRef(s.intents[0]) : null);
      case 'entities': return (s) => entitiesObject(s);
      case 'context': return (s) => s.context;
      case 'output': return (s) => s.output?.() ?? {};
      default:
        // The service resolves unknown names to nothing rather than failing the whole condition;
        // inside filter()'s condition, its temporary variable is the element.
        // inside a projection or selection, a property of the element.
        return (s) => (s.bound?.name === name ? s.bound.value : s.root !== undefined ? property(s.root, name) ?? null : null);
    }
  }
}

function binary(op: string, l: Evaluate, r: Evaluate): Evaluate {
  switch (op) {
    case '&&': return (s) => truthy(l(s)) && truthy(r(s));
    case '||': return (s) => truthy(l(s)) || truthy(r(s));
    case '?:': return (s) => { const v = l(s); return truthy(v) ? v : r(s); };
    case '==': case '=': return (s) => equals(l(s), r(s));
    case '!=': return (s) => !equals(l(s), r(s));
    case '>': return (s) => compare(l(s), r(s)) > 0;
    case '<': return (s) => compare(l(s), r(s)) < 0;
    case '>=': return (s) => compare(l(s), r(s)) >= 0;
    case '<=': return (s) => compare(l(s), r(s)) <= 0;
    case '+': return (s) => plus(l(s), r(s));
    default: return (s) => arithmetic(op, l(s), r(s));
  }
}

function globalFunction(name: string, args: Evaluate[]): Evaluate {
  switch (`${name}/${args.length}`) {
    case 'now/0': return (s) => s.now;
    case 'now/1': return (s) => nowIn(s, args[0]!(s));
    case 'today/0': return (s) => s.now.slice(0, 10);
    default: throw new ExpressionSyntaxError(`unknown function ${name}() with ${args.length} argument${args.length === 1 ? '' : 's'}`);
  }
}

/**
 * now('Europe/London'): the time in that zone, as the docs' pattern `yyyy-MM-dd HH:mm:ss 'GMT'XXX`
 * prints it in Java ("2024-07-01 11:00:00 GMT+01:00"; XXX is "Z" for a zero offset). The docs
 * also write the zone as '$myzone', meaning the variable's value.
 */
function nowIn(s: Scope, zoneArg: unknown): string {
  const raw = stringify(unwrap(zoneArg));
  const zone = /^\$[\p{L}_][\p{L}\p{N}_]*$/u.test(raw) ? stringify(unwrap(s.context[raw.slice(1)])) : raw;
  const wall = wallClock(s.instant, zone);
  if (!wall) throw new ExpressionError(`now(): "${zone}" is not an IANA time zone name (such as "Europe/London")`);
  const minutes = Math.round((Date.UTC(wall.getFullYear(), wall.getMonth(), wall.getDate(), wall.getHours(), wall.getMinutes(), wall.getSeconds())
    - Math.floor(s.instant.getTime() / 1000) * 1000) / 60_000);
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${formatWallClock(wall)} GMT${minutes === 0 ? 'Z' : `${minutes < 0 ? '-' : '+'}${hhmm(Math.abs(minutes))}`}`;
}

function entityRef(s: Scope, name: string): EntityRef | null {
  const matches = s.entityIndex.get(name);
  return matches && matches.length > 0 ? new EntityRef(matches, s.input.text) : null;
}

/** `entities` is the list of all entities, which also answers `entities['sys-number']`. */
function entitiesObject(s: Scope): unknown {
  const all = s.entities.map((e) => new EntityRef([e], s.input.text));
  const byName = all as unknown as Record<string, unknown>;
  for (const [name, matches] of s.entityIndex) byName[name] = matches.map((e) => new EntityRef([e], s.input.text));
  return all;
}

function elements(target: Evaluate, s: Scope, what: string): unknown[] {
  const list = unwrap(target(s));
  if (!Array.isArray(list)) throw new ExpressionError(`${what} needs a list`);
  return list;
}

function project(target: Evaluate, each: Evaluate): Evaluate {
  return (s) => elements(target, s, 'a projection (.![ ])').map((e) => each({ ...s, root: unwrap(e) }));
}

function select(target: Evaluate, each: Evaluate): Evaluate {
  return (s) => elements(target, s, 'a selection (.?[ ])').filter((e) => truthy(each({ ...s, root: unwrap(e) })));
}

/** filter()'s conditions, compiled once each (they are usually literals in the dialog). */
const filterConditions = new Map<string, Evaluate>();
const MAX_FILTER_CONDITIONS = 1000;

/**
 * `list.filter("city", "city.population > $min")`: the elements for which the condition, run with
 * the temporary variable naming the element, holds. A new list; the one filtered is unchanged.
 */
function filter(target: Evaluate, args: Evaluate[], safe: boolean): Evaluate {
  if (args.length !== 2) throw new ExpressionSyntaxError('filter() takes a variable name and a condition');
  const [nameArg, conditionArg] = args as [Evaluate, Evaluate];
  return (s) => {
    if (safe && (unwrap(target(s)) ?? null) === null) return null;
    const list = elements(target, s, 'filter()');
    const name = String(unwrap(nameArg(s)));
    const source = String(unwrap(conditionArg(s)));
    let condition = filterConditions.get(source);
    if (!condition) {
      try {
        condition = compileExpression(source);
      } catch (err) {
        throw new ExpressionError(`filter(): the condition ${JSON.stringify(source)} does not parse: ${(err as Error).message}`);
      }
      if (filterConditions.size >= MAX_FILTER_CONDITIONS) filterConditions.clear();
      filterConditions.set(source, condition);
    }
    return list.filter((value) => truthy(condition({ ...s, bound: { name, value: unwrap(value) } })));
  };
}

export function compileExpression(source: string): Evaluate {
  return new Parser(tokenize(source)).parseAll();
}

/** The evaluator of a source that is exactly one reference (see `parseReference`), else undefined. */
export function compileReference(source: string): Evaluate | undefined {
  return new Parser(tokenize(source)).parseReference();
}
