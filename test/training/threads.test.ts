/**
 * The training threads settle every training they were given, however they end. A thread closed
 * before it had got going (its modules still loading) exits with code 0, which was taken for a
 * clean exit: the training posted to it never settled, so Trainer.stop() soon after a start (a
 * SIGTERM to a serve that had just started training) waited for ever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingThreads } from '../../src/training/service/threads.ts';
import { MAX_MODEL_BYTES } from '../../src/training/index.ts';

const data = {
  language: 'en', counterexamples: [],
  intents: [{ intent: 'hello', examples: [{ text: 'hi there' }] }, { intent: 'bye', examples: [{ text: 'see you' }] }],
};

test('closing the threads rejects a training they had not finished, even one posted before they started', async () => {
  for (const delayMs of [0, 5, 50]) {
    const threads = new TrainingThreads(1);
    const training = threads.train(data, MAX_MODEL_BYTES);
    await new Promise((r) => setTimeout(r, delayMs));
    await threads.close();
    const outcome = await Promise.race([
      training.then(() => 'trained', (e: Error) => `rejected: ${e.message}`),
      new Promise<string>((r) => setTimeout(() => r('never settled'), 5000)),
    ]);
    assert.ok(outcome !== 'never settled', `closed after ${delayMs} ms: the training never settled`);
  }
});

test('a training started after close is refused at once', async () => {
  const threads = new TrainingThreads(1);
  await threads.close();
  await assert.rejects(threads.train(data, MAX_MODEL_BYTES), /shut down/);
});
