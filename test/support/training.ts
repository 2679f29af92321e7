/** Trains what is queued: a one-thread trainer, stopped once the queue is empty (60 s at most). */
import assert from 'node:assert/strict';
import type pg from 'pg';
import { Trainer } from '../../src/training/index.ts';

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
