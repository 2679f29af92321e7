import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/errors/index.ts';
import { parseCsvRecords, parseLabelledCsv } from '../../src/training/index.ts';

test('quoted fields keep commas, doubled quotes and newlines; CRLF, BOM and blank lines are handled', () => {
  const csv = '\ufefftext,intent\r\n"hello, world",greet\r\n"she said ""hi""",greet\r\n\r\n"two\nlines",multi\nlast,x';
  assert.deepEqual(parseCsvRecords(csv), [
    ['text', 'intent'], ['hello, world', 'greet'], ['she said "hi"', 'greet'], ['two\nlines', 'multi'], ['last', 'x'],
  ]);
  assert.deepEqual(parseLabelledCsv(csv), [
    { text: 'hello, world', intent: 'greet' }, { text: 'she said "hi"', intent: 'greet' },
    { text: 'two\nlines', intent: 'multi' }, { text: 'last', intent: 'x' },
  ]);
});

test('the header is optional and recognised by its column names', () => {
  assert.deepEqual(parseLabelledCsv('hi,greet\nbye,leave\n'), [{ text: 'hi', intent: 'greet' }, { text: 'bye', intent: 'leave' }]);
  assert.deepEqual(parseLabelledCsv('sentence,label\nhi,greet\n'), [{ text: 'hi', intent: 'greet' }]);
  // A first row that merely looks like data is kept.
  assert.deepEqual(parseLabelledCsv('text,greet\n'), [{ text: 'text', intent: 'greet' }]);
  // Extra columns (some published files have a stray empty one) are ignored.
  assert.deepEqual(parseLabelledCsv('sentence,label,\nhi,greet,\n'), [{ text: 'hi', intent: 'greet' }]);
});

test('rows without an intent and unterminated quotes are reported', () => {
  assert.throws(() => parseLabelledCsv('hi,greet\njust text\n', 'train.csv'),
    (e) => isAppError(e) && e.code === 'CSV_BAD_ROW' && e.message.includes('train.csv') && e.message.includes('row 2'));
  assert.throws(() => parseCsvRecords('"open,greet\n'), (e) => isAppError(e) && e.code === 'CSV_UNTERMINATED_QUOTE');
});
