/**
 * Output text and context values. Text may embed `<? expression ?>` and the shorthands `$name` and
 * `@name` (the variable's or the entity's value); context values that are one reference or one
 * expression keep their type ("@toppings.values" stores a list, "<? $n + 1 ?>" a number), other
 * strings are text ("$month/$day" is "3/14").
 */
import { compileExpression, compileReference, ExpressionSyntaxError, type Evaluate } from './expression.ts';
import { stringify, toJson } from './values.ts';

// `$5` and `support@ibm.com` stay text: a variable starts with a letter (or is `$(card-type)` /
// `${card-type}`, for names with hyphens or dots), an entity follows no word.
// Property chains ($order.size, @toppings.length) are read; a sentence's final "." is not one.
const PROPS = '(?:\\.[\\p{L}_][\\p{L}\\p{N}_]*)*';
// A backslash before $, @ or # keeps that character as text (feedback\@example.com, \$2, \#1;
// "\\@" in JSON), as Watson's dialog docs tell authors to write it; the backslash is dropped.
const PART = new RegExp(
  `\\\\([$@#])|<\\?([\\s\\S]*?)\\?>|(\\$(?:[\\p{L}_][\\p{L}\\p{N}_]*|\\([^()\\s]+\\)|\\{[^{}\\s]+\\})${PROPS})|((?<![\\p{L}\\p{N}_])@[\\p{L}\\p{N}_-]*[\\p{L}\\p{N}_]${PROPS})`,
  'gu',
);

/** Compiles text with embedded expressions; throws ExpressionSyntaxError for a malformed `<? ?>`. */
export function compileTemplate(text: string): Evaluate {
  if (!text.includes('$') && !text.includes('@') && !text.includes('<?') && !text.includes('\\')) return () => text;
  const parts: Array<string | Evaluate> = [];
  let last = 0;
  for (const m of text.matchAll(PART)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(m[1] !== undefined ? m[1] : compileExpression(m[2] ?? m[3] ?? m[4]!));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (s) => parts.map((p) => (typeof p === 'string' ? p : stringify(p(s)))).join('');
}

const WHOLE_EXPRESSION = /^\s*<\?([\s\S]*)\?>\s*$/;
/**
 * Conditions join with these and text hardly ever holds them: a value using them is a condition,
 * as the tooling copies a slot's Check for ("@reply && slot_in_focus") into its context.
 */
const CONDITION = /&&|\|\|/;

/** Compiles a node's context value (recursively for objects and lists) into its evaluator. */
export function compileValue(value: unknown): Evaluate {
  if (typeof value === 'string') {
    const typed = compileTyped(value);
    return typed ? (s) => toJson(typed(s)) : compileTemplate(value);
  }
  if (Array.isArray(value)) {
    const items = value.map(compileValue);
    return (s) => items.map((i) => i(s));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, compileValue(v)] as const);
    return (s) => Object.fromEntries(entries.map(([k, e]) => [k, e(s)]));
  }
  return () => value;
}

/**
 * The evaluator of a context string that is one value with its type: one `<? ?>` expression, one
 * reference ("@toppings.values" stores a list) or a condition. Anything else is text with its
 * references filled in: "$month/$day" is a date as written, not a division.
 */
function compileTyped(value: string): Evaluate | undefined {
  const whole = WHOLE_EXPRESSION.exec(value);
  if (whole && !whole[1]!.includes('?>')) return compileExpression(whole[1]!);
  if (!/^\s*[$@#]/.test(value)) return undefined;
  try {
    return CONDITION.test(value) ? compileExpression(value) : compileReference(value);
  } catch (err) {
    // Not an expression after all ("$5 && more"): it is text with shorthands.
    if (err instanceof ExpressionSyntaxError) return undefined;
    throw err;
  }
}
