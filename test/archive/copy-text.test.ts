import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { copyRows, decodeCopyLine, decodeCopyValue, encodeCopyRow, encodeCopyValue } from '../../src/archive/index.ts';

test('every output escape is written and read back', () => {
  const tricky = 'a\\b\tc\nd\re\bf\fg\vh\\N \\. ünïcödé ☃ 日本';
  const enc = encodeCopyValue(tricky);
  assert.equal(enc, 'a\\\\b\\tc\\nd\\re\\bf\\fg\\vh\\\\N \\\\. ünïcödé ☃ 日本');
  assert.equal(decodeCopyValue(enc), tricky);
  assert.equal(encodeCopyValue(null), '\\N');
  assert.equal(decodeCopyValue('\\N'), null);
  assert.equal(decodeCopyValue(''), '');
  assert.equal(encodeCopyValue('\\N'), '\\\\N');
  assert.equal(decodeCopyValue('\\\\N'), '\\N');
});

test('octal and hex escapes decode to bytes, including multi-byte UTF-8', () => {
  assert.equal(decodeCopyValue('\\101\\x42\\x4'), 'AB\u0004');
  assert.equal(decodeCopyValue('\\303\\251t\\xc3\\xa9'), 'été');
  assert.equal(decodeCopyValue('\\0'), '\u0000');
  assert.equal(decodeCopyValue('\\7777'), '\u00ff7'.replace('\u00ff', '\ufffd')); // \777 is byte 0xff: not valid UTF-8 alone
  assert.equal(decodeCopyValue('\\xg'), 'xg'); // not a hex escape: backslash + x taken literally
  assert.equal(decodeCopyValue('\\q'), 'q');
});

test('rows round-trip through encodeCopyRow and decodeCopyLine', () => {
  const row = ['1', null, '', 'x\ty', '\\', '\n'];
  const line = encodeCopyRow(row);
  assert.ok(line.endsWith('\n'));
  assert.equal(line.slice(0, -1).includes('\n'), false);
  assert.deepEqual(decodeCopyLine(line.slice(0, -1)), row);
});

test('copyRows splits lines across chunk boundaries and stops at the end marker', async () => {
  const text = encodeCopyRow(['1', 'é\tx']) + encodeCopyRow([null, 'b']) + '\\.\n\n\n';
  const bytes = Buffer.from(text);
  const pieces = [...bytes].map((b) => Buffer.from([b])); // split inside the multi-byte é as well
  let saw = false;
  const rows: unknown[] = [];
  for await (const batch of copyRows(Readable.from(pieces), { onEnd: (s) => { saw = s; } })) rows.push(...batch);
  assert.deepEqual(rows, [['1', 'é\tx'], [null, 'b']]);
  assert.equal(saw, true);
});

test('copyRows reports a payload without end marker and rejects a half row', async () => {
  let saw = true;
  for await (const b of copyRows(Readable.from([Buffer.from('1\n')]), { onEnd: (s) => { saw = s; } })) void b;
  assert.equal(saw, false);
  await assert.rejects(async () => { for await (const b of copyRows(Readable.from([Buffer.from('1\n2')]))) void b; }, /ARCHIVE_COPY_DATA_INVALID|middle of a row/);
});

test('copyRows joins a line split over many chunks once, and refuses one longer than the limit', async () => {
  // Found by fuzzing: a decompression bomb of one endless line was joined chunk by chunk, in
  // quadratic time and memory, and pgmig's preflight hung on it.
  const long = 'x'.repeat(5000);
  const chunks = [...Array.from({ length: 50 }, (_, i) => Buffer.from(long.slice(i * 100, i * 100 + 100))), Buffer.from(`${long.slice(5000)}\n\\.\n`)];
  const rows: unknown[][] = [];
  for await (const batch of copyRows(Readable.from(chunks))) rows.push(...batch);
  assert.deepEqual(rows, [[long]]);
  const endless = Array.from({ length: 40 }, () => Buffer.from('y'.repeat(100)));
  await assert.rejects(async () => { for await (const b of copyRows(Readable.from(endless), { maxLine: 2000 })) void b; },
    { code: 'ARCHIVE_COPY_DATA_INVALID', message: /longer than 2000 bytes without a newline/ });
});
