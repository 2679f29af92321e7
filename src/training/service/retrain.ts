/**
 * The seeds' auto-retrain-all job: find every workspace whose model is missing or stale (by
 * training version, algorithm version, or training-data hash), submit them to the training queue
 * in batches with the configured waits, and log the `[RETRAIN-ALL-SUMMARY]` line the seeds'
 * validation command greps for.
 */
import type pg from 'pg';
import { AppError } from '../../errors/index.ts';
import { modelIsCurrent } from '../../workspaces/index.ts';
import { ALGORITHM_VERSION, trainingDataHash } from '../model/index.ts';
import { readTrainingData } from './data.ts';
import { enqueue, queueCounts } from './queue.ts';

export interface RetrainAllOptions {
  /** BATCH_RETRAIN_ALL_SIZE: workspaces submitted per batch. */
  batchSize: number;
  /** WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL */
  waitBetweenBatchesS: number;
  /** WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL: seconds between submissions inside a batch. */
  waitBetweenTrainingsS: number;
  /** Give up waiting for the submitted trainings after this long (the rest finish in the background). */
  timeoutS?: number;
  log?(line: string): void;
  progress?(p: { affected: number; submitted: number; done: number; failed: number }): void;
  sleep?(ms: number): Promise<void>;
}

export interface RetrainAllSummary { affected: number; retrained: number; failed: number; durationS: number }

const RETRAIN_ALL_LOCK = 0x72_65_74_72_61_69; // "retrai"

export function retrainOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RetrainAllOptions {
  const num = (name: string, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new AppError('CONFIG_INVALID', `${name}=${v} is not a non-negative number`, { exitCode: 2 });
    return n;
  };
  return {
    batchSize: Math.max(1, num('BATCH_RETRAIN_ALL_SIZE', 100)),
    waitBetweenBatchesS: num('WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL', 0),
    waitBetweenTrainingsS: num('WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL', 0),
  };
}

/** Workspaces whose model is missing, or stale by version, algorithm or training-data hash. */
export async function findAffected(pool: pg.Pool): Promise<string[]> {
  const r = await pool.query<{ id: string; stale: boolean; data_hash: string | null }>(`
    select w.id, not ${modelIsCurrent('$1')} as stale, m.data_hash
      from workspaces w left join models m on m.workspace_id = w.id order by w.created, w.id`, [ALGORITHM_VERSION]);
  const affected: string[] = [];
  const client = await pool.connect();
  try {
    for (const row of r.rows) {
      if (row.stale) { affected.push(row.id); continue; }
      // A model marked current whose data differs (e.g. restored alongside changed data) is stale too.
      const snap = await readTrainingData(client, row.id);
      if (snap && trainingDataHash(snap.data) !== row.data_hash) affected.push(row.id);
    }
  } finally {
    client.release();
  }
  return affected;
}

async function countDone(pool: pg.Pool, ids: string[]): Promise<{ done: number; failed: number }> {
  const r = await pool.query<{ done: string; failed: string }>(`
    select count(*) filter (where ${modelIsCurrent('$2')}) as done,
           count(*) filter (where f.failed_version = w.training_version) as failed
      from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id
     where w.id = any($1::uuid[])`, [ids, ALGORITHM_VERSION]);
  return { done: Number(r.rows[0]!.done), failed: Number(r.rows[0]!.failed) };
}

export async function retrainAll(pool: pg.Pool, opts: RetrainAllOptions): Promise<RetrainAllSummary> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = opts.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const lock = await pool.connect();
  try {
    const got = await lock.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RETRAIN_ALL_LOCK]);
    if (!got.rows[0]!.ok) {
      throw new AppError('RETRAIN_ALL_RUNNING', 'another retrain-all run is in progress', { hint: 'wait for it to finish; `astore retrain status` shows its progress', exitCode: 6 });
    }
    const start = Date.now();
    const affected = await findAffected(pool);
    log(`[RETRAIN-ALL] Affected workspaces found: ${affected.length}`);
    let submitted = 0;
    const report = async (): Promise<{ done: number; failed: number }> => {
      const c = affected.length ? await countDone(pool, affected) : { done: 0, failed: 0 };
      opts.progress?.({ affected: affected.length, submitted, ...c });
      return c;
    };
    for (let i = 0; i < affected.length; i += opts.batchSize) {
      // Do not flood the queue: a batch goes in once the previous ones are mostly taken.
      while ((await queueCounts(pool)).queued > opts.batchSize) { await report(); await sleep(200); }
      const batch = affected.slice(i, i + opts.batchSize);
      if (opts.waitBetweenTrainingsS > 0) {
        for (const id of batch) { await enqueue(pool, [id]); submitted++; await sleep(opts.waitBetweenTrainingsS * 1000); }
      } else {
        await enqueue(pool, batch);
        submitted += batch.length;
      }
      await report();
      if (i + opts.batchSize < affected.length && opts.waitBetweenBatchesS > 0) await sleep(opts.waitBetweenBatchesS * 1000);
    }
    const deadline = Date.now() + (opts.timeoutS ?? 3600) * 1000;
    let c = await report();
    while (c.done + c.failed < affected.length && Date.now() < deadline) {
      await sleep(250);
      c = await report();
    }
    const summary = { affected: affected.length, retrained: c.done, failed: c.failed, durationS: Math.round((Date.now() - start) / 100) / 10 };
    log(`[RETRAIN-ALL-SUMMARY] Affected workspaces found: ${summary.affected}, Retrained Total: ${summary.retrained}, Failed: ${summary.failed}, Duration: ${summary.durationS}s`);
    return summary;
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [RETRAIN_ALL_LOCK]).catch(() => {});
    lock.release();
  }
}

export interface RetrainStatus { workspaces: number; affected: number; queued: number; training: number; done: number; failed: number; avgTrainMs: number | null }

export async function retrainStatus(pool: pg.Pool): Promise<RetrainStatus> {
  const r = await pool.query<{ total: string; done: string; failed: string; avg: string | null }>(`
    select count(*) as total,
           count(*) filter (where ${modelIsCurrent('$1')}) as done,
           count(*) filter (where f.failed_version = w.training_version) as failed,
           avg(m.train_ms) as avg
      from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id`, [ALGORITHM_VERSION]);
  const q = await queueCounts(pool);
  const row = r.rows[0]!;
  const total = Number(row.total);
  return {
    workspaces: total, affected: total - Number(row.done), queued: q.queued, training: q.training,
    done: Number(row.done), failed: Number(row.failed), avgTrainMs: row.avg === null ? null : Math.round(Number(row.avg)),
  };
}

/** The seeds' planning formula: N·60/(replicas·2) + N·2 seconds. */
export function seedsEstimateSeconds(n: number, replicas: number): number {
  return Math.floor((n * 60) / (replicas * 2) + n * 2);
}

/** From this store's measured training times: N trainings spread over `replicas` trainers. */
export function measuredEstimateSeconds(n: number, replicas: number, avgTrainMs: number): number {
  return Math.ceil((n * avgTrainMs) / replicas / 1000);
}
