import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, ExpressionSyntaxError, type RuntimeEntity, type Scope } from '../../src/runtime/index.ts';

function scope(over: Partial<Scope> = {}): Scope {
  const text = over.input?.text ?? 'a large pizza with ham and olives for 3 people';
  const entities: RuntimeEntity[] = over.entities ?? [
    { entity: 'size', location: [2, 7], value: 'large', confidence: 1 },
    { entity: 'topping', location: [19, 22], value: 'ham', confidence: 1 },
    { entity: 'topping', location: [27, 33], value: 'olive', confidence: 1 },
    { entity: 'sys-number', location: [38, 39], value: '3', confidence: 1, interpretation: { numeric_value: 3 } },
    { entity: 'city', location: [0, 0], value: 'New York', confidence: 1 },
  ];
  const entityIndex = new Map<string, RuntimeEntity[]>();
  for (const e of entities) entityIndex.set(e.entity, [...(entityIndex.get(e.entity) ?? []), e]);
  return {
    context: { name: 'Ada', count: 5, zero: 0, empty: '', list: ['a', 'b'], flag: false, date: '2024-03-14', time: '15:00:00' },
    input: { text },
    intents: [{ intent: 'order', confidence: 0.8 }, { intent: 'help', confidence: 0.15 }],
    entities,
    entityIndex,
    conversationStart: false,
    slotInFocus: false,
    now: '2024-03-13 10:00:00',
    instant: new Date('2024-03-13T10:00:00Z'),
    ...over,
  };
}

const evaluate = (src: string, s: Scope = scope()) => compileExpression(src)(s);
const holds = (src: string, s?: Scope) => {
  const v = evaluate(src, s);
  return v !== null && v !== undefined && v !== false && v !== '';
};

test('condition shorthands: #intent, @entity, @entity:value, @entity:(multi word), $var', () => {
  const cases: Array<[string, boolean]> = [
    ['#order', true],
    ['#help', false], // not the top intent
    ['#missing', false],
    ['@size', true],
    ['@crust', false],
    ['@size:large', true],
    ['@size:small', false],
    ['@topping:olive', true], // any match of the entity, not only the first
    ['@city:(new york)', true],
    ['@city:(New York)', true],
    ['@city:(new jersey)', false],
    ['$name', true],
    ['$zero', true], // a set number is a value
    ['$empty', false],
    ['$flag', false],
    ['$unset', false],
    ['$name:Ada', true],
    // Booleans and numbers compare as text: the docs' `$isMember:true AND ($memberlevel:silver OR $memberlevel:gold)`.
    ['$flag:false', true],
    ['$flag:true', false],
    ['$zero:0', true],
    ['$zero:1', false],
  ];
  for (const [src, expected] of cases) assert.equal(holds(src), expected, src);
});

test('intent conditions stop matching below confidence 0.2', () => {
  assert.equal(holds('#order', scope({ intents: [{ intent: 'order', confidence: 0.2 }] })), true);
  assert.equal(holds('#order', scope({ intents: [{ intent: 'order', confidence: 0.19 }] })), false);
  assert.equal(holds('irrelevant', scope({ intents: [{ intent: 'order', confidence: 0.19 }] })), true);
  assert.equal(holds('irrelevant'), false);
  assert.equal(holds('#order', scope({ intents: [] })), false);
});

test('special conditions', () => {
  assert.equal(holds('anything_else'), true);
  assert.equal(holds('true'), true);
  assert.equal(holds('false'), false);
  assert.equal(holds('conversation_start'), false);
  assert.equal(holds('conversation_start', scope({ conversationStart: true })), true);
  assert.equal(holds('welcome', scope({ conversationStart: true })), false); // there is input text
  assert.equal(holds('welcome', scope({ conversationStart: true, input: { text: '' } })), true);
  assert.equal(holds('slot_in_focus', scope({ slotInFocus: true })), true);
});

test('boolean operators, word forms, negation and parentheses', () => {
  const cases: Array<[string, boolean]> = [
    ['#order && @size', true],
    ['#order && @crust', false],
    ['#help || @size:large', true],
    ['#help || @crust', false],
    ['#order and @size', true],
    ['#help or @crust', false],
    ['!@crust', true],
    ['not @size', false],
    ['!(#help || @crust) && $name', true],
    ['#help || (@size && !$flag)', true],
    ['(#help || @crust) && $name', false],
  ];
  for (const [src, expected] of cases) assert.equal(holds(src), expected, src);
});

test('comparisons against numbers and strings', () => {
  const cases: Array<[string, boolean]> = [
    ['$count == 5', true],
    ['$count != 5', false],
    ['$count > 4 && $count < 6', true],
    ['$count >= 5 && $count <= 5', true],
    ['$count == "5"', true], // numeric text compares as a number
    ['$name == "Ada"', true],
    ["$name == 'Bob'", false],
    ["$name != 'Bob'", true],
    ['$name > "Ab"', true],
    ['@sys-number > 2', true],
    ['@sys-number < 3', false],
    ['@sys-number == 3', true],
    ['@size == "large"', true],
    ['intents[0].confidence > 0.7', true],
    ['intents[1].intent == "help"', true],
    ["input.text.contains('pizza')", true],
    ['$unset == null', true],
    ["$current == \"\" || $current == null", true],
  ];
  for (const [src, expected] of cases) assert.equal(holds(src), expected, src);
});

test('values, methods and arithmetic used in real dialogs', () => {
  assert.deepEqual(evaluate('@topping.values'), ['ham', 'olive']);
  assert.equal(evaluate('@topping.length'), 2);
  assert.equal(evaluate('@topping.literal'), 'ham');
  assert.equal(evaluate("$list.join(', ')"), 'a, b');
  assert.equal(evaluate('$list.size() > 1'), true);
  assert.equal(evaluate("$list.contains('b')"), true);
  assert.equal(evaluate('$count + 1'), 6);
  assert.equal(evaluate("'Hi ' + $name"), 'Hi Ada');
  assert.equal(evaluate('$count * 2 - 1'), 9);
  assert.equal(evaluate("$count > 3 ? 'many' : 'few'"), 'many');
  assert.equal(evaluate("$unset ?: 'default'"), 'default');
  assert.equal(evaluate("entities['sys-number'][0].value"), 3);
  assert.equal(evaluate('entities.size()'), 5);
  assert.equal(evaluate("input.text.matches('.*pizza.*')"), true);
  assert.equal(evaluate("'  x '.trim().toUpperCase()"), 'X');
  assert.equal(evaluate("$date.reformatDateTime('EEEE d MMMM yyyy')"), 'Thursday 14 March 2024');
  assert.equal(evaluate("$time.reformatDateTime('h a')"), '3 PM');
  assert.equal(evaluate('$date.before(now())'), false);
  assert.equal(evaluate('$date.after(today())'), true);
  assert.equal(evaluate("now().after('09:59:59') && now().before('10:00:01')"), true);
  assert.equal(evaluate("$time.after('17:30:00') || $time.before('11:00:00')"), false);
});

test('syntax errors are reported when compiling; evaluation errors at run time', () => {
  for (const bad of ['#order &&', '($name', "'unterminated", '@', '$a == == 1', 'foo(1)', '@size:(open']) {
    assert.throws(() => compileExpression(bad), ExpressionSyntaxError, bad);
  }
  assert.throws(() => evaluate('$unset.size()'), /cannot call size\(\) on null/);
  assert.throws(() => evaluate('$name.frobnicate()'), /unknown method frobnicate\(\)/);
});

test('SpEL strings keep backslashes: \\d in a regular expression is a digit class, not the letter d', () => {
  // Before, the tokenizer dropped the backslash: find('\d') looked for the letter "d", so the
  // tutorial fixture's "input.text.find('\\d')" fired on "I don't know".
  const s = (text: string) => scope({ input: { text } });
  assert.equal(evaluate("input.text.find('\\d')", s("I don't know")), false);
  assert.equal(evaluate("input.text.find('\\d')", s('order 42')), true);
  assert.equal(evaluate("input.text.extract('([\\d]+)(\\b [A-Za-z]+)', 2)", s('Hello 123 this is 456')), ' this');
  assert.equal(evaluate("'a\\b'.length()"), 3);
  assert.equal(evaluate("'it''s'"), "it's");
});

test('$(name) and ${name} reach variables whose names hold hyphens or dots; ?. is safe navigation', () => {
  const s = scope({ context: { 'card-type': 'visa', 'a.b': 2, user: null, city: 'Boston' } });
  assert.equal(evaluate('$(card-type)', s), 'visa');
  assert.equal(evaluate("${card-type} == 'visa'", s), true);
  assert.equal(evaluate('$(a.b) + 1', s), 3);
  assert.equal(evaluate('$user?.name', s), null);
  assert.equal(evaluate("$user?.contains('x')", s), null);
  assert.equal(evaluate("$city?.contains('Bos')", s), true);
  assert.equal(evaluate("entities['topping']?.contains('olive')"), true);
  assert.equal(evaluate("entities['nothing']?.contains('olive')"), null);
  assert.throws(() => compileExpression('$(card-type'), ExpressionSyntaxError);
});

test('number literals with Java type suffixes', () => {
  assert.equal(evaluate('24*60*60*1000L'), 86_400_000);
  assert.equal(evaluate('1.5d + 2f'), 3.5);
});

test('intent is the top intent: compares as its name and has a confidence; intents methods', () => {
  assert.equal(evaluate("intent == 'order'"), true);
  assert.equal(evaluate('intent.confidence > 0.7'), true);
  assert.equal(evaluate("'x' + intent"), 'xorder');
  assert.equal(evaluate("intents[0] == 'order'"), true);
  assert.equal(evaluate("intents[1] == 'order'"), false);
  assert.equal(evaluate("intents.indexOf('help')"), 1);
  assert.equal(evaluate("intents.containsIntent('help', 0.1)"), true);
  assert.equal(evaluate("intents.containsIntent('help', 0.2)"), false);
  assert.equal(evaluate("intents.containsIntent('help', 0.1, 1)"), false);
  assert.equal(evaluate("intents.containsIntent('order', 0.5, 1)"), true);
  assert.equal(evaluate('intent', scope({ intents: [] })), null);
  assert.equal(evaluate("$list.containsIgnoreCase('B')"), true);
});

test('toJson(): JSON text to a value; a list as itself', () => {
  const s = scope({ context: { json: '{ "firstname": "John", "n": [1, 2] }', bad: '{oops' } });
  assert.equal(evaluate('$json.toJson().firstname', s), 'John');
  assert.equal(evaluate('$json.toJson().n.size()', s), 2);
  assert.deepEqual(evaluate('$list.toJson()'), ['a', 'b']);
  assert.throws(() => evaluate('$bad.toJson()', s), /not JSON/);
});

test('date and time arithmetic keeps the form it was given', () => {
  const cases: Array<[string, string]> = [
    ["'2018-03-09'.plusDays(1)", '2018-03-10'],
    ["'2024-02-28'.plusDays(2)", '2024-03-01'],
    ["'2024-01-31'.plusMonths(1)", '2024-02-29'],
    ["'2023-01-31'.plusMonths(1)", '2023-02-28'],
    ["'2024-02-29'.minusYears(1)", '2023-02-28'],
    ["'2024-03-01'.minusMonths(14)", '2023-01-01'],
    ["'08:00:00'.minusMinutes(30)", '07:30:00'],
    ["'23:30:00'.plusHours(1)", '00:30:00'],
    ["'2024-03-13 23:30:00'.plusHours(1)", '2024-03-14 00:30:00'],
    ["'2024-03-13 10:00:00'.minusSeconds(61)", '2024-03-13 09:58:59'],
    ['now().minusHours(12)', '2024-03-12 22:00:00'],
    ['today().plusDays(1)', '2024-03-14'],
  ];
  for (const [src, want] of cases) assert.equal(evaluate(src), want, src);
  assert.throws(() => evaluate("'08:00:00'.plusDays(1)"), /needs a date/);
  assert.throws(() => evaluate("'2024-01-01'.plusDays(1000000000000)"), /years 0 to 9999/);
});

test('a date compared with a time is false every way', () => {
  for (const m of ['before', 'after', 'sameMoment', 'sameOrBefore', 'sameOrAfter']) {
    assert.equal(evaluate(`'2018-03-09'.${m}('10:00:00')`), false, m);
  }
  assert.equal(evaluate("'2018-03-09 10:00:00'.sameMoment('10:00:00')"), true);
});

test("now('zone'): that zone's time with its GMT offset, as Java prints the docs' pattern; '$var' names a variable", () => {
  // The turn's moment is 2024-03-13 10:00:00 UTC: New York has just gone to daylight time, Sydney is on it.
  assert.equal(evaluate("now('Europe/London')"), '2024-03-13 10:00:00 GMTZ');
  assert.equal(evaluate("now('Asia/Kolkata')"), '2024-03-13 15:30:00 GMT+05:30');
  assert.equal(evaluate("now('America/New_York')"), '2024-03-13 06:00:00 GMT-04:00');
  assert.equal(evaluate("now('$myzone')", scope({ context: { myzone: 'Australia/Sydney' } })), '2024-03-13 21:00:00 GMT+11:00');
  // The other date methods take its value.
  assert.equal(evaluate("now('Asia/Kolkata').after('15:00:00')"), true);
  assert.equal(evaluate("now('Asia/Kolkata').reformatDateTime('HH:mm')"), '15:30');
  assert.throws(() => evaluate("now('Nowhere/City')"), /now\(\): "Nowhere\/City" is not an IANA time zone name/);
  assert.throws(() => compileExpression("today('Europe/London')"), /unknown function today\(\) with 1 argument/);
});

test('reformatDateTime knows Java\'s other letters, with US week rules, and refuses the ones it cannot print', () => {
  const at = (date: string, pattern: string) => evaluate(`'${date}'.reformatDateTime('${pattern.replace(/'/g, "''")}')`);
  // 29 December 2024 is a Sunday: the week holding 1 January 2025 starts there.
  assert.equal(at('2024-12-29', 'YYYY-ww u'), '2025-01 7');
  assert.equal(at('2024-12-28', 'YYYY-ww u'), '2024-52 6');
  assert.equal(at('2025-01-04', 'Y w'), '2025 1');
  assert.equal(at('2025-01-05', 'Y w W F'), '2025 2 2 1');
  assert.equal(at('2024-03-14', 'D G'), '74 AD');
  assert.equal(at('2024-12-31 00:05:09', 'DDD k K:mm:ss.SSS'), '366 24 0:05:09.000');
  assert.equal(at('2024-03-14 15:00:00', "h 'o''clock' a, ''yy"), "3 o'clock PM, '24");
  assert.throws(() => at('2024-03-14', 'dd.MM.yyyy at HH'), /the pattern letter "t" is not one this runtime formats.*single quotes/);
  assert.throws(() => at('2024-03-14', 'HH:mm z'), /carry no time zone/);
});

test('T(String).format: Java\'s conversions and flags, decimals rounded half up from the shortest form, and clear refusals', () => {
  const s = scope({ context: { amount: 1234567.005, price: 1.005, n: -42, name: 'Ada' } });
  const f = (src: string) => evaluate(`T(String).format(${src})`, s);
  assert.equal(f("'%,.2f', $amount"), '1,234,567.01');
  // C's printf says 1.00 (the double is 1.00499…); Java rounds the shortest form, 1.005.
  assert.equal(f("'%.2f', $price"), '1.01');
  assert.equal(f("'%.2f %.0f %.1f %.3f %f', 9.9999, 0.5, 0.05, 0.0004, 2"), '10.00 1 0.1 0.000 2.000000');
  assert.equal(f("'%d items for %s, %s'' total', 3, $name, 2.5"), "3 items for Ada, 2.5' total");
  assert.equal(f("'%05d|%-5d|%+d|%(d|%,d|%x|%X|%o', $n, 7, 7, $n, 1234567, $n, 255, 8"), '-0042|7    |+7|(42)|1,234,567|ffffffd6|FF|10');
  assert.equal(f("'%.3e|%10.2e|%E', $amount, 0.000123456, 0"), '1.235e+06|  1.23e-04|0.000000E+00');
  assert.equal(f("'%2$s %1$s %% %n', 'a', 'b'"), 'b a % \n');
  assert.equal(f("'%8.3f|%-6s|%.2s|%S|%b|%b|%c', 3.14159, 'hi', 'abc', 'up', null, 'x', 65"), '   3.142|hi    |ab|UP|false|true|A');
  assert.throws(() => f("'%d', 2.5"), /"%d" needs a whole number, not 2.5/);
  assert.throws(() => f("'%s and %s', 1"), /"%s" has no argument \(1 given\)/);
  assert.throws(() => f("'%q', 1"), /"%q" is not a conversion/);
  assert.throws(() => f("'%99999s', 1"), /wider than 10000/);
});
