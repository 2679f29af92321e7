/**
 * The seeds' auto-retrain-all job: find every workspace whose model is missing or stale (by
 * training version, algorithm version, or training-data hash), submit them to the training queue
 * in batches with the configured waits, and log the `[RETRAIN-ALL-SUMMARY]` line the seeds'
 * validation command greps for.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import { parseSwitch } from '../../config/index.ts';
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
  /**
   * Give up when no submitted training has finished for this long (no worker running, or all
   * stuck); the jobs already queued stay queued. Default 3600.
   */
  timeoutS?: number;
  log?(line: string): void;
  progress?(p: { affected: number; submitted: number; done: number; failed: number }): void;
  sleep?(ms: number): Promise<void>;
  /**
   * Ends the run early (the service is stopping): nothing more is submitted, the waits end, and
   * the summary says how far it got. Before, a stop closed the pool under the run, which failed
   * without a summary line and left the rest unsubmitted without a word.
   */
  signal?: AbortSignal;
  /**
   * Called once the run holds the retrain-all lock, before anything is submitted: for work that
   * only a run may start (the CLI's own training threads), since a run refused as the second one
   * must not have trained jobs of the first.
   */
  onLocked?(): void;
}

export interface RetrainAllSummary {
  affected: number;
  retrained: number;
  failed: number;
  /** Affected workspaces deleted during the run. */
  deleted: number;
  /** False when the run gave up waiting (see `timeoutS`) or was stopped (`signal`). */
  complete: boolean;
  durationS: number;
}

const RETRAIN_ALL_LOCK = 0x72_65_74_72_61_69; // "retrai"

/**
 * The seeds' variables. Unset or blank means the default. A negative wait counts as no wait:
 * the seeds set the batch wait to 60 − BATCH_RETRAIN_ALL_SIZE, which is negative past 30 replicas.
 */
export function retrainOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RetrainAllOptions {
  const read = (name: string, want: string): number | undefined => {
    const v = env[name]?.trim();
    if (!v) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw invalid(name, env[name]!, want);
    return n;
  };
  const BATCH = 'a whole number of workspaces, at least 1';
  const batchSize = read('BATCH_RETRAIN_ALL_SIZE', BATCH) ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid('BATCH_RETRAIN_ALL_SIZE', env.BATCH_RETRAIN_ALL_SIZE!, BATCH);
  const wait = (name: string): number => {
    const s = Math.max(0, read(name, WAIT) ?? 0);
    // A timer longer than this fires at once (Node clamps it to 1 ms, with only a warning).
    if (s > MAX_WAIT_S) throw invalid(name, env[name]!, WAIT);
    return s;
  };
  return {
    batchSize,
    waitBetweenBatchesS: wait('WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL'),
    waitBetweenTrainingsS: wait('WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL'),
  };
}

const MAX_WAIT_S = 86_400;
const WAIT = `a number of seconds up to ${MAX_WAIT_S} (a day)`;

/**
 * AUTO_RETRAIN (default true): whether workspaces whose model is missing or stale are queued by
 * themselves — by serve when one is opened, and by every training worker's sweep. The seeds turn
 * it off so that retrain-all alone submits them, in its batches.
 */
export function autoRetrainFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return parseSwitch('AUTO_RETRAIN', env.AUTO_RETRAIN) ?? true;
}

function invalid(name: string, value: string, want: string): AppError {
  return new AppError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not ${want}`, {
    hint: `set ${name} to ${want}, or unset it for the default`, exitCode: 2,
  });
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

interface Progress { done: number; failed: number; deleted: number }

/** SQL over workspaces w, models m and training_failures f, with $2 the algorithm and $3 the run's start. */
const TRAINED_SINCE = `${modelIsCurrent('$2')} and m.trained_at >= $3::timestamptz`;
const FAILED_SINCE = 'f.failed_version = w.training_version and f.failed_at >= $3::timestamptz';

/**
 * Done: a current model trained since the run started (a model that only looked current, with a
 * data hash that did not match, is not done until retrained). Failed: training the current data
 * failed since the run started; a failure from before the run is what the run retries (the
 * failure message says to retrain), so it is not settled until that retry ends. Deleted
 * workspaces are settled too.
 */
async function countDone(pool: pg.Pool, ids: string[], since: string): Promise<Progress> {
  const r = await pool.query<{ done: string; failed: string; found: string }>(`
    select count(*) filter (where ${TRAINED_SINCE}) as done,
           count(*) filter (where ${FAILED_SINCE}) as failed,
           count(*) as found
      from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id
     where w.id = any($1::uuid[])`, [ids, ALGORITHM_VERSION, since]);
  const row = r.rows[0]!;
  return { done: Number(row.done), failed: Number(row.failed), deleted: ids.length - Number(row.found) };
}

/** Of `ids`, those not yet settled since `since` (see countDone), in their order. */
async function unsettled(pool: pg.Pool, ids: string[], since: string): Promise<string[]> {
  const r = await pool.query<{ id: string }>(`
    select w.id from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id
     where w.id = any($1::uuid[])
       and not coalesce(${TRAINED_SINCE}, false) and not coalesce(${FAILED_SINCE}, false)`, [ids, ALGORITHM_VERSION, since]);
  const open = new Set(r.rows.map((row) => row.id));
  return ids.filter((id) => open.has(id));
}

export async function retrainAll(pool: pg.Pool, opts: RetrainAllOptions): Promise<RetrainAllSummary> {
  // A pause ends early when the run is stopped (its rejection is the abort, nothing to report).
  const sleep = opts.sleep ?? ((ms: number) => delay(ms, undefined, { signal: opts.signal }).catch(() => undefined));
  const stopping = (): boolean => opts.signal?.aborted === true;
  const log = opts.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const lock = await pool.connect();
  try {
    const got = await lock.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RETRAIN_ALL_LOCK]);
    if (!got.rows[0]!.ok) {
      throw new AppError('RETRAIN_ALL_RUNNING', 'another retrain-all run is in progress', { hint: 'wait for it to finish; `astore retrain status` shows its progress', exitCode: 6 });
    }
    opts.onLocked?.();
    const start = Date.now();
    // The database's clock, as models.trained_at is written with it.
    const since = (await pool.query<{ t: string }>('select now()::text as t')).rows[0]!.t;
    const affected = await findAffected(pool);
    log(`[RETRAIN-ALL] Affected workspaces found: ${affected.length}`);
    let submitted = 0;
    const stallMs = (opts.timeoutS ?? 3600) * 1000;
    let settled = 0;
    let lastProgressAt = Date.now();
    let c: Progress = { done: 0, failed: 0, deleted: 0 };
    const report = async (): Promise<void> => {
      if (affected.length) c = await countDone(pool, affected, since);
      const now = c.done + c.failed + c.deleted;
      if (now > settled) { settled = now; lastProgressAt = Date.now(); }
      opts.progress?.({ affected: affected.length, submitted, done: c.done, failed: c.failed });
    };
    const stalled = (): boolean => Date.now() - lastProgressAt > stallMs;
    let gaveUp = false;
    submit: for (let i = 0; i < affected.length; i += opts.batchSize) {
      // Do not flood the queue: a batch goes in once the previous ones are mostly taken.
      while ((await queueCounts(pool)).queued > opts.batchSize) {
        await report();
        if (stalled()) { gaveUp = true; break submit; }
        if (stopping()) break submit;
        await sleep(200);
      }
      const slice = affected.slice(i, i + opts.batchSize);
      // Workspaces settled since the run started count as submitted: they were queued before it (a
      // restore queues every workspace) and trained meanwhile. Submitted again, each was trained a
      // second time, and those left queued at the end looked like unfinished work.
      const batch = await unsettled(pool, slice, since);
      submitted += slice.length - batch.length;
      if (opts.waitBetweenTrainingsS > 0) {
        for (const id of batch) {
          if (stopping()) break submit;
          await enqueue(pool, [id]); submitted++; await sleep(opts.waitBetweenTrainingsS * 1000);
        }
      } else {
        if (stopping()) break submit;
        await enqueue(pool, batch);
        submitted += batch.length;
      }
      await report();
      if (i + opts.batchSize < affected.length && opts.waitBetweenBatchesS > 0) await sleep(opts.waitBetweenBatchesS * 1000);
    }
    await report();
    while (!gaveUp && !stopping() && settled < affected.length) {
      if (stalled()) { gaveUp = true; break; }
      await sleep(250);
      await report();
    }
    const interrupted = stopping() && settled < affected.length;
    if (interrupted) {
      // What was submitted stays queued, and workers (here or elsewhere) train it; the rest is
      // still affected and is what the next run finds.
      log(`[RETRAIN-ALL] stopped (the service is shutting down) with ${affected.length - submitted} of ${affected.length} not yet submitted` +
        ' and the submitted ones left in the queue; run `astore retrain-all` (or wait for the next scheduled run) for the rest');
    }
    if (gaveUp) {
      log(`[RETRAIN-ALL] no training finished in ${opts.timeoutS ?? 3600} s; stopped waiting with ${affected.length - submitted} not yet submitted` +
        ' (are training workers running? `astore retrain status` shows the queue)');
    }
    const summary: RetrainAllSummary = {
      affected: affected.length, retrained: c.done, failed: c.failed, deleted: c.deleted, complete: !gaveUp && !interrupted,
      durationS: Math.round((Date.now() - start) / 100) / 10,
    };
    log(`[RETRAIN-ALL-SUMMARY] Affected workspaces found: ${summary.affected}, Retrained Total: ${summary.retrained}, Failed: ${summary.failed}` +
      `${summary.deleted ? `, Deleted meanwhile: ${summary.deleted}` : ''}, Duration: ${summary.durationS}s`);
    return summary;
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [RETRAIN_ALL_LOCK]).catch(() => {});
    lock.release();
  }
}

export interface RetrainStatus { workspaces: number; affected: number; queued: number; training: number; done: number; failed: number; avgTrainMs: number | null }

/**
 * Affected is what retrain-all would submit now (findAffected, data hashes included), so `retrain
 * status` and `retrain estimate` never promise fewer trainings than the run performs; done is the
 * rest.
 */
export async function retrainStatus(pool: pg.Pool): Promise<RetrainStatus> {
  const r = await pool.query<{ total: string; failed: string; avg: string | null }>(`
    select count(*) as total,
           count(*) filter (where f.failed_version = w.training_version) as failed,
           avg(m.train_ms) as avg
      from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id`);
  const affected = (await findAffected(pool)).length;
  const q = await queueCounts(pool);
  const row = r.rows[0]!;
  // Workspaces created or deleted between the two reads must not make done negative.
  const total = Math.max(Number(row.total), affected);
  return {
    workspaces: total, affected, queued: q.queued, training: q.training,
    done: total - affected, failed: Number(row.failed), avgTrainMs: row.avg === null ? null : Math.round(Number(row.avg)),
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
