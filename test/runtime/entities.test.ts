import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDialog, compileEntities, extractEntities, type RuntimeEntity, type Workspace, type WorkspaceEntity } from '../../src/runtime/index.ts';

const now = new Date(2024, 2, 13, 10, 0, 0); // Wednesday 13 March 2024, local time

const pick = (found: RuntimeEntity[], name?: string) =>
  found.filter((e) => name === undefined || e.entity === name).map((e) => [e.entity, e.value, e.location[0], e.location[1]]);

const food: WorkspaceEntity[] = [
  { entity: 'dish', values: [
    { value: 'crème brûlée', synonyms: ['creme brulee dessert'] },
    { value: 'new york cheesecake', synonyms: ['ny cheesecake'] },
    { value: 'cheesecake', type: 'synonyms' },
    { value: 'café au lait', synonyms: [] },
  ] },
  { entity: 'topping', values: [{ value: 'cheese', synonyms: ['cheesy'] }, { value: 'ham' }] },
  { entity: 'size', values: [{ value: 'large', synonyms: ['big', 'extra large'] }] },
  { entity: 'landmark', fuzzy_match: true, values: [{ value: 'empire state building', synonyms: ['empire state'] }, { value: 'times square' }] },
  { entity: 'phone', values: [{ value: 'us', type: 'patterns', patterns: ['(\\d{3})-(\\d{3})-(\\d{4})'] }] },
  { entity: 'order_id', values: [{ value: 'id', type: 'patterns', patterns: ['(?i)ord-[a-z]+', '[unclosed'] }] },
];

test('dictionary values: case and accents do not matter, locations point into the original text', () => {
  const text = 'Une CRÈME BRULEE et un Café au Lait';
  assert.deepEqual(pick(extractEntities(food, text)), [
    ['dish', 'crème brûlée', 4, 16],
    ['dish', 'café au lait', 23, 35],
  ]);
  assert.equal(text.slice(4, 16), 'CRÈME BRULEE');
  // Decomposed input (e + combining accent) still maps back to the right offsets.
  const decomposed = 'a cre\u0300me brule\u0301e now';
  const [e] = extractEntities(food, decomposed);
  assert.deepEqual(e && [e.value, decomposed.slice(e.location[0], e.location[1])], ['crème brûlée', 'cre\u0300me brule\u0301e']);
});

test('dictionary values: whole words only, longest match wins within an entity, entities may overlap', () => {
  assert.deepEqual(pick(extractEntities(food, 'I like hamburgers and cheesecakes')), []);
  assert.deepEqual(pick(extractEntities(food, 'one New York  Cheesecake, extra large please')), [
    ['dish', 'new york cheesecake', 4, 24],
    ['size', 'large', 26, 37], // the synonym "extra large", not just "large"
  ]);
  // "cheese" is a topping and inside no dish here; "cheesecake" alone is its own dish value.
  assert.deepEqual(pick(extractEntities(food, 'cheese and cheesecake, ham.')), [
    ['topping', 'cheese', 0, 6],
    ['dish', 'cheesecake', 11, 21],
    ['topping', 'ham', 23, 26],
  ]);
  // Synonym punctuation and several matches of one entity.
  assert.deepEqual(pick(extractEntities(food, 'big, BIG!'), 'size'), [['size', 'large', 0, 3], ['size', 'large', 5, 8]]);
});

test('fuzzy matching applies only to entities that ask for it', () => {
  assert.deepEqual(pick(extractEntities(food, 'near the emprie state building')), [['landmark', 'empire state building', 9, 30]]);
  assert.deepEqual(pick(extractEntities(food, 'tmies square')), [['landmark', 'times square', 0, 12]]);
  assert.ok(extractEntities(food, 'near the emprie state building')[0]!.confidence < 1);
  assert.deepEqual(pick(extractEntities(food, 'times sqare')), [['landmark', 'times square', 0, 11]]);
  assert.deepEqual(pick(extractEntities(food, 'chese please')), []); // topping is not fuzzy
});

test('pattern values: regular expressions with capture groups; unreadable patterns are skipped', () => {
  const found = extractEntities(food, 'call 555-123-4567 about ORD-abc');
  assert.deepEqual(pick(found), [['phone', 'us', 5, 17], ['order_id', 'id', 24, 31]]);
  assert.deepEqual(found[0]!.groups, [
    { group: 'group_0', location: [5, 17] },
    { group: 'group_1', location: [5, 8] },
    { group: 'group_2', location: [9, 12] },
    { group: 'group_3', location: [13, 17] },
  ]);
});

test('pattern values written in Java syntax match: inline flags anywhere, possessive quantifiers, atomic groups', () => {
  // Before: only a leading (?i) was understood; these three were skipped as invalid.
  const java: WorkspaceEntity[] = [{ entity: 'code', values: [
    { value: 'flag', type: 'patterns', patterns: ['ref(?i)-[a-z]+'] },
    { value: 'possessive', type: 'patterns', patterns: ['#\\d++'] },
    { value: 'atomic', type: 'patterns', patterns: ['(?>zip|zap)\\d'] },
  ] }];
  assert.deepEqual(pick(extractEntities(java, 'ref-AB and #42 and zap7')),
    [['code', 'flag', 0, 6], ['code', 'possessive', 11, 14], ['code', 'atomic', 19, 23]]);
});

const withSystem: WorkspaceEntity[] = [{ entity: 'sys-number' }, { entity: 'sys-date' }, { entity: 'sys-time', values: [] }];

test('system entities are only extracted when the workspace enabled them', () => {
  assert.deepEqual(extractEntities(food, 'tomorrow at 3pm, 2 of them'), []);
  assert.deepEqual(pick(extractEntities([{ entity: 'sys-number' }], 'tomorrow at 3pm, 2 of them')), [
    ['sys-number', '3', 12, 13],
    ['sys-number', '2', 17, 18],
  ]);
});

test('sys-number: digits, decimals, thousands, negatives and number words', () => {
  const found = extractEntities(withSystem, 'twenty one guests, 1,500.25 dollars, -3 degrees, 0.5 kg and one hundred and five');
  assert.deepEqual(pick(found, 'sys-number'), [
    ['sys-number', '21', 0, 10],
    ['sys-number', '1500.25', 19, 27],
    ['sys-number', '-3', 37, 39],
    ['sys-number', '0.5', 49, 52],
    ['sys-number', '105', 60, 80],
  ]);
  assert.deepEqual(found.find((e) => e.value === '1500.25')!.interpretation, { numeric_value: 1500.25 });
  assert.deepEqual(pick(extractEntities(withSystem, 'room 2024-03-11'), 'sys-number'), [['sys-number', '2024', 5, 9]]);
});

test('sys-date: ISO, relative days, weekdays and month names, relative to the injected now', () => {
  const dates = (text: string) => extractEntities(withSystem, text, { now }).filter((e) => e.entity === 'sys-date').map((e) => [e.value, text.slice(e.location[0], e.location[1])]);
  assert.deepEqual(dates('on 2024-12-25'), [['2024-12-25', '2024-12-25']]);
  assert.deepEqual(dates('today or Tomorrow, not yesterday'), [['2024-03-13', 'today'], ['2024-03-14', 'Tomorrow'], ['2024-03-12', 'yesterday']]);
  assert.deepEqual(dates('the day after tomorrow'), [['2024-03-15', 'the day after tomorrow']]);
  assert.deepEqual(dates('friday'), [['2024-03-15', 'friday']]);
  assert.deepEqual(dates('wednesday'), [['2024-03-13', 'wednesday']]); // today is Wednesday
  assert.deepEqual(dates('next Wednesday'), [['2024-03-20', 'next Wednesday']]);
  assert.deepEqual(dates('March 3'), [['2024-03-03', 'March 3']]);
  assert.deepEqual(dates('the 5th of april, 2025'), [['2025-04-05', '5th of april, 2025']]);
  assert.deepEqual(dates('Feb 29 2024 and feb 30'), [['2024-02-29', 'Feb 29 2024']]);
  assert.deepEqual(dates('12/31'), [['2024-12-31', '12/31']]);
  assert.deepEqual(dates('may I help'), []);
});

test('sys-time: clock times, am/pm and noon', () => {
  const times = (text: string) => extractEntities(withSystem, text, { now }).filter((e) => e.entity === 'sys-time').map((e) => e.value);
  assert.deepEqual(times('at 3pm or 10:30 or 7:05 p.m.'), ['15:00:00', '10:30:00', '19:05:00']);
  assert.deepEqual(times('12am, noon and 13:00:15'), ['00:00:00', '12:00:00', '13:00:15']);
  assert.deepEqual(times('at 25:00 or 13pm'), []);
});

test('sys-percentage and sys-currency: symbols, codes and words, values in base units', () => {
  const money: WorkspaceEntity[] = [{ entity: 'sys-percentage' }, { entity: 'sys-currency' }];
  const read = (text: string) => extractEntities(money, text, { now }).map((e) => [e.entity, e.value, text.slice(e.location[0], e.location[1]), e.interpretation?.unit]);
  assert.deepEqual(read('a 15% discount or fifteen per cent'), [['sys-percentage', '15', '15%', undefined], ['sys-percentage', '15', 'fifteen per cent', undefined]]);
  assert.deepEqual(read('twenty dollars'), [['sys-currency', '20', 'twenty dollars', 'USD']]);
  assert.deepEqual(read('it was $1,234.56'), [['sys-currency', '1234.56', '$1,234.56', 'USD']]);
  assert.deepEqual(read('20 cents, 30 EUR, £4 and 5€'), [
    ['sys-currency', '0.2', '20 cents', 'USD'], ['sys-currency', '30', '30 EUR', 'EUR'], ['sys-currency', '4', '£4', 'GBP'], ['sys-currency', '5', '5€', 'EUR'],
  ]);
  assert.deepEqual(read('version 2.5 of 3 apps'), []);
});

test('a system entity the store cannot recognise is reported when the dialog uses it, not silently dead', () => {
  const matcher = compileEntities([{ entity: 'sys-person' }, { entity: 'sys-location' }, { entity: 'sys-number' }]);
  assert.deepEqual(matcher.unsupported, ['sys-person', 'sys-location']);
  assert.deepEqual(matcher.extract('call John 3 times').map((e) => e.entity), ['sys-number']);
  const dialog = compileDialog({
    entities: [{ entity: 'sys-person' }, { entity: 'sys-location' }],
    dialog_nodes: [{ dialog_node: 'who', conditions: '@sys-person', output: { text: 'Hi @sys-person' } }],
  } as Workspace);
  assert.deepEqual(dialog.warnings.map((w) => w.code), ['entity.system_unsupported']);
  assert.match(dialog.warnings[0]!.msg, /@sys-person is not recognised by this store/);
});

test('synonyms that begin or end with punctuation match as written, and only where the punctuation stands free', () => {
  // Word tokens left "++", "." and "%" out, so these synonyms never matched at all.
  const tech: WorkspaceEntity[] = [
    { entity: 'lang', values: [{ value: 'C++', synonyms: ['cpp'] }, { value: 'C' }, { value: '.NET', synonyms: ['dotnet'] }, { value: 'C#' }] },
    { entity: 'discount', values: [{ value: 'full', synonyms: ['100%'] }] },
  ];
  assert.deepEqual(pick(extractEntities(tech, 'I know C++, C and .NET.')), [
    ['lang', 'C++', 7, 10], ['lang', 'C', 12, 13], ['lang', '.NET', 18, 22],
  ]);
  assert.deepEqual(pick(extractEntities(tech, 'Is C# free? (100%)')), [['lang', 'C#', 3, 5], ['discount', 'full', 13, 17]]);
  // Punctuation inside a word is not a synonym's edge: "asp.net" holds no ".NET", "c++x" no "C++"
  // (only the word "c", as before).
  assert.deepEqual(pick(extractEntities(tech, 'asp.net and c++x')), [['lang', 'C', 12, 13]]);
});

test('Chinese and Japanese synonyms match inside unspaced text', () => {
  const places: WorkspaceEntity[] = [{ entity: 'city', values: [{ value: '東京', synonyms: ['とうきょう'] }, { value: '北京' }] }];
  const text = '明日東京に行きたい、北京も';
  assert.deepEqual(pick(extractEntities(places, text)), [['city', '東京', 2, 4], ['city', '北京', 10, 12]]);
  assert.deepEqual(pick(extractEntities(places, 'とうきょうへ')), [['city', '東京', 0, 5]]);
});

test('a Greek final sigma matches its medial form: synonym ΟΔΟΣ, input οδος or ΟΔΟΣ', () => {
  const streets: WorkspaceEntity[] = [{ entity: 'street', values: [{ value: 'ΟΔΟΣ' }, { value: 'πλατεία', synonyms: ['ΠΛΑΤΕΙΑΣ'] }] }];
  assert.deepEqual(pick(extractEntities(streets, 'στην ΟΔΟΣ και οδος')), [['street', 'ΟΔΟΣ', 5, 9], ['street', 'ΟΔΟΣ', 14, 18]]);
  assert.deepEqual(pick(extractEntities(streets, 'της πλατειας')), [['street', 'πλατεία', 4, 12]]);
});
