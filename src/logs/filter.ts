/**
 * The v1 logs `filter` parameter (Watson's filter query language, the part that applies to a
 * store's logs), compiled to a SQL condition with bind parameters. Grammar:
 *
 *   or    := and ('|' and)*          and := term (',' term)*
 *   term  := '(' or ')' | FIELD OP VALUE
 *   OP    := '::' exact, ':' contains (case-insensitive), '::!' / ':!' their negations,
 *            '<' '<=' '>' '>=' for timestamps and confidences
 *   VALUE := "quoted, with \" and \\" | a bare value up to an unescaped , | or )
 *
 * An unknown field or an operator a field does not take is a 400 that lists what is supported,
 * never a filter silently ignored (which would return, or with user_data delete, touch, more logs
 * than asked for).
 */
import { AppError } from '../errors/index.ts';

type Kind = 'text' | 'time' | 'number';
interface Field {
  kind: Kind;
  /** SQL for the value, with `l` the log row; for `each`, with `e` an element of that array. */
  sql: string;
  /** A JSON array in the row whose elements are matched one by one (true if any matches). */
  each?: string;
}

const FIELDS: Record<string, Field> = {
  language: { kind: 'text', sql: 'l.language' },
  workspace_id: { kind: 'text', sql: 'l.workspace_id::text' },
  customer_id: { kind: 'text', sql: 'l.customer_id' },
  request_timestamp: { kind: 'time', sql: 'l.request_timestamp' },
  response_timestamp: { kind: 'time', sql: 'l.response_timestamp' },
  'request.input.text': { kind: 'text', sql: "l.request #>> '{input,text}'" },
  'response.input.text': { kind: 'text', sql: "l.response #>> '{input,text}'" },
  'request.context.conversation_id': { kind: 'text', sql: "l.request #>> '{context,conversation_id}'" },
  'response.context.conversation_id': { kind: 'text', sql: "l.response #>> '{context,conversation_id}'" },
  'request.context.metadata.deployment': { kind: 'text', sql: "l.request #>> '{context,metadata,deployment}'" },
  'request.context.metadata.user_id': { kind: 'text', sql: "l.request #>> '{context,metadata,user_id}'" },
  'request.context.system.assistant_id': { kind: 'text', sql: "l.request #>> '{context,system,assistant_id}'" },
  'response.top_intent': { kind: 'text', sql: "l.response #>> '{intents,0,intent}'" },
  'response.intents.intent': { kind: 'text', sql: "e ->> 'intent'", each: "l.response -> 'intents'" },
  'response.intents.confidence': { kind: 'number', sql: "(e ->> 'confidence')::float8", each: "l.response -> 'intents'" },
  'response.entities.entity': { kind: 'text', sql: "e ->> 'entity'", each: "l.response -> 'entities'" },
  'response.entities.value': { kind: 'text', sql: "e ->> 'value'", each: "l.response -> 'entities'" },
  'response.output.nodes_visited': { kind: 'text', sql: "e #>> '{}'", each: "l.response #> '{output,nodes_visited}'" },
};

const OPS = ['::!', ':!', '::', ':', '<=', '>=', '<', '>'] as const;
type Op = (typeof OPS)[number];

export interface Condition { field: string; op: Op; value: string }
export type FilterTree = { and: FilterTree[] } | { or: FilterTree[] } | Condition;

export function invalidFilter(message: string): AppError {
  return new AppError('INVALID_FILTER', `Invalid filter: ${message}`, {
    status: 400,
    details: { errors: [{ message: `filter ${message}. Fields: ${Object.keys(FIELDS).join(', ')}; operators: :: (exact), : (contains), ::! and :! (not), < <= > >=; combine with , (and), | (or) and parentheses`, path: '/filter' }] },
  });
}

/** Deeper nesting is refused: the parser recurses once per '(' and ran out of stack (a 500). */
const MAX_DEPTH = 32;

export function parseFilter(text: string): FilterTree {
  // PostgreSQL text cannot hold U+0000: the query failed (a 500) instead of the filter being refused.
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw invalidFilter(`holds the character U+0000 at position ${nul + 1}, which no log field can contain`);
  let at = 0;
  let depth = 0;
  const peek = (): string | undefined => text[at];
  const orExpr = (): FilterTree => {
    const parts = [andExpr()];
    while (peek() === '|') { at++; parts.push(andExpr()); }
    return parts.length === 1 ? parts[0]! : { or: parts };
  };
  const andExpr = (): FilterTree => {
    const parts = [term()];
    while (peek() === ',') { at++; parts.push(term()); }
    return parts.length === 1 ? parts[0]! : { and: parts };
  };
  const term = (): FilterTree => {
    if (peek() === '(') {
      if (++depth > MAX_DEPTH) throw invalidFilter(`nests parentheses more than ${MAX_DEPTH} deep (position ${at + 1})`);
      at++;
      const inner = orExpr();
      if (peek() !== ')') throw invalidFilter(`has an unclosed '(' (position ${at + 1})`);
      at++;
      depth--;
      return inner;
    }
    const start = at;
    while (at < text.length && !/[:<>,|()]/.test(text[at]!)) at++;
    const field = text.slice(start, at).trim();
    if (!field) throw invalidFilter(`expects a field name at position ${start + 1}`);
    const op = OPS.find((o) => text.startsWith(o, at));
    if (!op) throw invalidFilter(`expects an operator after ${field}`);
    at += op.length;
    return { field, op, value: value() };
  };
  /** The character after a backslash; one that ends the filter escapes nothing and is refused. */
  const escaped = (): string => {
    if (at + 1 >= text.length) throw invalidFilter(`ends with a lone backslash (position ${at + 1}); write \\\\ for a backslash`);
    return text[++at]!;
  };
  const value = (): string => {
    while (text[at] === ' ') at++;
    if (peek() === '"') {
      let out = '';
      for (at++; at < text.length && text[at] !== '"'; at++) out += text[at] === '\\' ? escaped() : text[at];
      if (peek() !== '"') throw invalidFilter('has an unclosed quotation mark');
      at++;
      // Spaces after the closing quote, as around a bare value.
      while (text[at] === ' ') at++;
      return out;
    }
    let out = '';
    for (; at < text.length && !/[,|)]/.test(text[at]!); at++) out += text[at] === '\\' ? escaped() : text[at];
    return out.trim();
  };
  const tree = orExpr();
  if (at < text.length) throw invalidFilter(`has unexpected '${text[at]}' at position ${at + 1}`);
  return tree;
}

/** The top-level exact matches of a filter (those every matching log must satisfy). */
export function requiredExact(tree: FilterTree): Map<string, string> {
  const out = new Map<string, string>();
  const terms = 'and' in tree ? tree.and : [tree];
  for (const t of terms) if ('field' in t && t.op === '::') out.set(t.field, t.value);
  return out;
}

/** SQL for `tree`, appending its values to `params` (placeholders continue from params' length). */
export function filterSql(tree: FilterTree, params: unknown[]): string {
  if ('and' in tree) return `(${tree.and.map((t) => filterSql(t, params)).join(' and ')})`;
  if ('or' in tree) return `(${tree.or.map((t) => filterSql(t, params)).join(' or ')})`;
  const f = Object.hasOwn(FIELDS, tree.field) ? FIELDS[tree.field] : undefined;
  if (!f) throw invalidFilter(`names the field '${tree.field}', which is not supported`);
  if (!f.each) return compare(f, tree, params);
  // Per element, a negation means that no element matches (`not exists` of the positive test), not
  // that some element differs: with alternate intents, every log has an intent other than the one
  // named, and a log without any element must match the negation too.
  const negated = tree.op.endsWith('!');
  const test = compare(f, negated ? { ...tree, op: tree.op.slice(0, -1) as Op } : tree, params);
  return `${negated ? 'not ' : ''}exists (select 1 from json_array_elements(case when json_typeof(${f.each}) = 'array' then ${f.each} else '[]' end) e where ${test})`;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * A date (midnight UTC) or timestamp; one without an offset is UTC as well, never the server's
 * local time. Fields out of range (2024-02-31, 25:00) are refused rather than rolled over into the
 * next month or day, and the result stays within what PostgreSQL reads back (years 1 to 9999).
 */
function parseTimestamp(value: string): Date | undefined {
  const m = TIMESTAMP.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > days || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const offset = /^[+-]\d{2}$/.test(zone) ? `${zone}:00` : /^[+-]\d{4}$/.test(zone) ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
  const t = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac.slice(0, 4)}${offset}`);
  if (Number.isNaN(t.getTime()) || t.getUTCFullYear() < 1 || t.getUTCFullYear() > 9999) return undefined;
  return t;
}

function compare(f: Field, c: Condition, params: unknown[]): string {
  const p = (v: unknown): string => { params.push(v); return `$${params.length}`; };
  const negated = c.op.endsWith('!');
  const op = negated ? c.op.slice(0, -1) : c.op;
  if (f.kind === 'text') {
    if (op === '::') return negated ? `${f.sql} is distinct from ${p(c.value)}` : `${f.sql} = ${p(c.value)}`;
    if (op === ':') {
      const like = `%${c.value.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      return negated ? `coalesce(${f.sql} not ilike ${p(like)}, true)` : `${f.sql} ilike ${p(like)}`;
    }
    throw invalidFilter(`compares ${c.field} with '${c.op}'; it takes :: and : (and their negations)`);
  }
  if (f.kind === 'time') {
    const t = parseTimestamp(c.value);
    if (!t) {
      throw invalidFilter(`gives ${c.field} the value '${c.value}', which is not a date (2024-01-31) or timestamp (2024-01-31T09:30:00Z, or +01:00; one without an offset is UTC)`);
    }
    if (op === ':' || op === '::') throw invalidFilter(`compares ${c.field} with '${c.op}'; timestamps take < <= > >=`);
    return `${f.sql} ${op} ${p(t.toISOString())}::timestamptz`;
  }
  const n = Number(c.value);
  if (c.value === '' || !Number.isFinite(n)) throw invalidFilter(`gives ${c.field} the value '${c.value}', which is not a number`);
  if (op === ':') throw invalidFilter(`compares ${c.field} with ':'; numbers take :: < <= > >=`);
  if (op === '::') return negated ? `${f.sql} <> ${p(n)}` : `${f.sql} = ${p(n)}`;
  return `${f.sql} ${op} ${p(n)}`;
}
