import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scorePredictions, toTrainingData } from '../../src/training/index.ts';
import { bankingData, bankingHeldOut } from './fixtures.ts';

const run = promisify(execFile);

test('scores: thresholded accuracy, in-scope accuracy, macro-F1 and out-of-scope recall', () => {
  const s = scorePredictions([
    { gold: 'a', predicted: 'a', confidence: 0.9 },
    { gold: 'a', predicted: 'a', confidence: 0.1 }, // right intent, but below threshold
    { gold: 'b', predicted: 'a', confidence: 0.8 },
    { gold: 'oos', predicted: 'a', confidence: 0.1 }, // rejected: correct
    { gold: 'NO_NODES_DETECTED', predicted: 'b', confidence: 0.5 }, // accepted: wrong
  ], 0.2);
  assert.equal(s.accuracy, 2 / 5);
  assert.deepEqual(s.inScope, { rows: 3, accuracy: 2 / 3, macroF1: (0.8 + 0) / 2 });
  assert.deepEqual(s.outOfScope, { rows: 2, recall: 0.5 });
  const noOos = scorePredictions([{ gold: 'a', predicted: 'a', confidence: 0.1 }, { gold: 'b', predicted: 'a', confidence: 0.9 }]);
  assert.equal(noOos.accuracy, 0.5);
  assert.equal(noOos.outOfScope, undefined);
});

test('out-of-scope training rows become counterexamples', () => {
  const data = toTrainingData([{ text: 'hi', intent: 'greet' }, { text: 'weather?', intent: 'out_of_scope' }, { text: 'yo', intent: 'greet' }]);
  assert.deepEqual(data.intents, [{ intent: 'greet', examples: [{ text: 'hi' }, { text: 'yo' }] }]);
  assert.deepEqual(data.counterexamples, [{ text: 'weather?' }]);
});

test('astore intents eval trains on a CSV and reports on another, as text and JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-intents-'));
  try {
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const train = bankingData.intents.flatMap((i) => i.examples.map((e) => `${quote(e.text)},${i.intent}`));
    writeFileSync(join(dir, 'train.csv'), ['text,intent', ...train, '"play some music, loud",oos'].join('\n'));
    const test = [...bankingHeldOut.map(([t, i]) => `${quote(t)},${i}`), 'what is the capital of france,oos', 'sing me a song,oos'];
    writeFileSync(join(dir, 'test.csv'), test.join('\r\n'));
    const args = ['intents', 'eval', '--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv')];

    const json = JSON.parse((await run('bin/astore', [...args, '--json'])).stdout);
    assert.equal(json.trainExamples, 28);
    assert.equal(json.counterexamples, 1);
    assert.equal(json.intents, 4);
    assert.equal(json.rows, 10);
    assert.ok(json.inScope.accuracy >= 7 / 8, `in-scope accuracy ${json.inScope.accuracy}`);
    assert.ok(json.inScope.macroF1 > 0.8);
    assert.equal(json.outOfScope.rows, 2);
    assert.ok(json.outOfScope.recall >= 0.5);
    assert.ok(json.trainingMs >= 0 && json.trainingMs < 5000);

    const text = (await run('bin/astore', args)).stdout;
    assert.match(text, /^trained on 28 examples in 4 intents \+ 1 counterexamples in \d+ ms$/m);
    assert.match(text, /^in-scope accuracy \(top intent\): \d+\.\d% over 8 rows$/m);
    assert.match(text, /^out-of-scope recall \(top confidence < 0\.2\): \d+\.\d% over 2 rows$/m);

    await assert.rejects(run('bin/astore', ['intents', 'eval', '--train', join(dir, 'missing.csv'), '--test', join(dir, 'test.csv')]),
      (e: { code: number; stderr: string }) => e.code === 2 && e.stderr.includes('FILE_UNREADABLE'));
    // Empty files, or a header alone, are bad input: they scored accuracy 0 with exit 0.
    writeFileSync(join(dir, 'empty.csv'), '');
    writeFileSync(join(dir, 'header.csv'), 'text,intent\n');
    for (const [train, testFile] of [['empty.csv', 'test.csv'], ['train.csv', 'header.csv']]) {
      await assert.rejects(run('bin/astore', ['intents', 'eval', '--train', join(dir, train!), '--test', join(dir, testFile!)]),
        (e: { code: number; stderr: string }) => e.code === 2 && /error \[CSV_EMPTY\]: .*(empty|header)\.csv has no data rows\.\nhint: /.test(e.stderr));
    }
    await assert.rejects(run('bin/astore', [...args, '--threshold', '']),
      (e: { code: number; stderr: string }) => e.code === 2 && e.stderr.includes('error [ARGUMENT_INVALID]: option --threshold has an empty value'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
