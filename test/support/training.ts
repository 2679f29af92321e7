/** Training helpers for tests: training what is queued, and workspaces that are slow to train. */
import assert from 'node:assert/strict';
import type pg from 'pg';
import { Trainer } from '../../src/training/index.ts';

/** Trains what is queued: a one-thread trainer, stopped once the queue is empty (60 s at most). */
export async function trainQueued(pool: pg.Pool): Promise<void> {
  const worker = new Trainer(pool, { concurrency: 1, pollMs: 20, sweepMs: 0 });
  worker.start();
  try {
    for (const deadline = Date.now() + 60_000; (await pool.query('select 1 from training_jobs')).rowCount; await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, 'training did not finish');
    }
  } finally {
    await worker.stop();
  }
}

/**
 * Intents that take a while to train: `n` intents × `m` examples of six words drawn from 3,000
 * made-up ones. Nothing separates the intents but chance, so the solver works hard: 300 × 25
 * trains for about 13 s on this machine, 600 × 20 for about 26 s. The same every run.
 */
export function slowIntents(n: number, m: number): Array<{ intent: string; examples: Array<{ text: string }> }> {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const vocabulary = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}x${(i * 7919 % 1000).toString(36)}`);
  return Array.from({ length: n }, (_, i) => ({
    intent: `intent_${i}`,
    examples: Array.from({ length: m }, () => ({ text: Array.from({ length: 6 }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ') })),
  }));
}
