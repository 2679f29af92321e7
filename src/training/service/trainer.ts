/**
 * A training worker: claims jobs from the queue, trains in worker threads, stores the model.
 * Runs inside `astore serve` and as `astore train-worker`; any number of them share the queue.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import type pg from 'pg';
import { isAppError } from '../../errors/index.ts';
import { isDatabaseUnavailable, withTransaction } from '../../store/index.ts';
import { ALGORITHM_VERSION } from '../model/index.ts';
import { hasModel, readTrainingData, saveFailure, saveModel, type TrainedModel } from './data.ts';
import { claim, disown, fail, finish, release, renew, stillHeld, sweep, type Job } from './queue.ts';
import { TrainingThreads } from './threads.ts';
import { MAX_MODEL_BYTES } from './train.ts';

/** What the trainer logs through: a pino logger fits, as does the service's. */
export interface TrainerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TrainerOptions {
  /** Parallel trainings (worker threads). Default: cores − 1, at least one. */
  concurrency?: number;
  /** How long a claim lasts without renewal; a dead worker's job is retried after this. */
  leaseMs?: number;
  pollMs?: number;
  /**
   * How often to enqueue workspaces whose model is missing or stale (AUTO_RETRAIN); 0 turns the
   * sweep off, as retrain-all does, which submits in its own batches.
   */
  sweepMs?: number;
  maxAttempts?: number;
  /** A model larger than this fails its training for good (default MAX_MODEL_BYTES, 128 MiB). */
  maxModelBytes?: number;
  logger?: TrainerLog;
  /** Called after each job, for progress displays and tests. */
  onTrained?(workspaceId: string, ok: boolean): void;
}

export function defaultConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

export class Trainer {
  /** Its loops claim jobs as `${workerId}/1`, `/2`, … (training_jobs.locked_by). */
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly #pool: pg.Pool;
  readonly #opts: Required<Omit<TrainerOptions, 'logger' | 'onTrained'>> & Pick<TrainerOptions, 'logger' | 'onTrained'>;
  readonly #threads: TrainingThreads;
  #running = false;
  /** Set once stop() gives up waiting: trainings cut short hand their jobs back. */
  #aborting = false;
  #loops: Array<Promise<void>> = [];
  readonly #wake = new Set<() => void>();
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(pool: pg.Pool, opts: TrainerOptions = {}) {
    this.#pool = pool;
    this.#opts = {
      concurrency: opts.concurrency ?? defaultConcurrency(), leaseMs: opts.leaseMs ?? 30_000, pollMs: opts.pollMs ?? 500,
      sweepMs: opts.sweepMs ?? 30_000, maxAttempts: opts.maxAttempts ?? 3,
      maxModelBytes: opts.maxModelBytes ?? MAX_MODEL_BYTES, logger: opts.logger, onTrained: opts.onTrained,
    };
    this.#threads = new TrainingThreads(this.#opts.concurrency);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (this.#opts.sweepMs > 0) {
      const doSweep = (): void => { sweep(this.#pool, ALGORITHM_VERSION).then((n) => { if (n > 0) this.poke(); }).catch((err) => this.#opts.logger?.warn({ err }, 'training sweep failed')); };
      doSweep();
      this.#sweepTimer = setInterval(doSweep, this.#opts.sweepMs);
      this.#sweepTimer.unref();
    }
    // Each loop claims as its own worker: sharing the Trainer's id, a loop whose lease had lapsed
    // could still renew and save a job another loop of this Trainer had claimed again meanwhile.
    for (let i = 0; i < this.#opts.concurrency; i++) this.#loops.push(this.#loop(`${this.workerId}/${i + 1}`));
  }

  /** Wakes idle loops now (a job was just enqueued in this process). */
  poke(): void {
    const waiting = [...this.#wake];
    this.#wake.clear();
    for (const w of waiting) w();
  }

  /**
   * Stops claiming and waits up to `graceMs` (default 10 s) for the trainings under way; those
   * still running then are cut short and their jobs handed back for another worker, the attempt
   * not counted. A supervisor's grace period (Kubernetes: 30 s) thus ends in a clean stop, not a
   * kill that would leave the job to its lease and count the attempt.
   */
  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    this.#running = false;
    clearInterval(this.#sweepTimer);
    this.poke();
    const loops = Promise.all(this.#loops);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => { timer = setTimeout(() => resolve('grace over'), opts.graceMs ?? 10_000); });
    const first = await Promise.race([loops, graceOver]);
    clearTimeout(timer);
    if (first === 'grace over') {
      this.#aborting = true;
      await this.#threads.close(); // the trainings under way reject, and their loops hand the jobs back
    }
    await loops;
    await this.#threads.close();
  }

  async #loop(loopId: string): Promise<void> {
    // Claims fail every poll while the database is out: said once a minute, and when they work again.
    let failingSince: number | undefined;
    let saidAt = 0;
    while (this.#running) {
      let job: Job | undefined;
      try {
        job = await claim(this.#pool, loopId, this.#opts.leaseMs, this.#opts.maxAttempts);
        if (failingSince !== undefined) {
          this.#opts.logger?.info({ worker: loopId, failedForS: Math.round((Date.now() - failingSince) / 1000) }, 'claiming training jobs works again');
          failingSince = undefined;
        }
      } catch (err) {
        failingSince ??= Date.now();
        if (Date.now() - saidAt >= 60_000) {
          saidAt = Date.now();
          this.#opts.logger?.warn({ err, worker: loopId, failingForS: Math.round((Date.now() - failingSince) / 1000) }, 'claiming a training job failed; retrying every poll, said again once a minute');
        }
      }
      if (!job) {
        // The wake-up leaves the list when the poll timer ends the wait: kept there, each empty
        // poll left one behind, without bound in an idle serve or train-worker (nothing pokes).
        await new Promise<void>((resolve) => {
          const wake = (): void => { clearTimeout(t); resolve(); };
          const t = setTimeout(() => { this.#wake.delete(wake); resolve(); }, this.#opts.pollMs);
          this.#wake.add(wake);
        });
        continue;
      }
      await this.#run(loopId, job);
    }
  }

  async #run(loopId: string, job: Job): Promise<void> {
    // Set when a renewal finds the job no longer this loop's: another worker claimed it after the
    // lease ran out (renewals failed, the database unreachable) or the workspace was deleted.
    // The training is cut short: its result would be thrown away, and it held a thread (a minute,
    // for a large workspace) that the queue behind it was waiting for.
    const lost = new AbortController();
    const lease = setInterval(() => {
      renew(this.#pool, loopId, job, this.#opts.leaseMs).then((held) => { if (!held) lost.abort(); }).catch(() => {});
    }, this.#opts.leaseMs / 3);
    let snapshotVersion: string | undefined;
    try {
      const client = await this.#pool.connect();
      let snap;
      try { snap = await readTrainingData(client, job.workspaceId); } finally { client.release(); }
      if (!snap) { await finish(this.#pool, loopId, job); return; } // workspace deleted meanwhile
      snapshotVersion = snap.version;
      const trained = await this.#threads.train(snap.data, this.#opts.maxModelBytes, lost.signal);
      // A model trained while the database was out is kept for when it answers again.
      if (!(await this.#whileUnreachable((retry) => this.#save(loopId, job, snap.version, trained, retry), job))) {
        await this.#lostJob(loopId, job, 'trained, but another worker has taken the job over meanwhile; its model is kept');
        return;
      }
      this.#opts.logger?.info({ workspace: job.workspaceId, ms: trained.trainMs }, 'trained');
      this.#opts.onTrained?.(job.workspaceId, true);
    } catch (err) {
      // Neither a shutdown nor an unreachable database is the job's fault: it is handed back
      // uncounted, in an outage once the database answers again. Before, an outage's attempt was
      // counted, and the job waited for its lease.
      const outage = !this.#aborting && isDatabaseUnavailable(err);
      if (this.#aborting || outage) {
        await this.#whileUnreachable(() => this.#handBack(loopId, job), job)
          .catch((e: Error) => this.#opts.logger?.warn({ workspace: job.workspaceId, err: e.message }, 'handing back a training job failed; it is retried once its lease ends'));
        if (outage) this.#opts.logger?.warn({ workspace: job.workspaceId, err: (err as Error).message }, 'training interrupted: the database could not be reached; job handed back');
        else this.#opts.logger?.info({ workspace: job.workspaceId }, 'training cut short by shutdown; job handed back');
        return;
      }
      if (lost.signal.aborted) {
        await this.#lostJob(loopId, job, 'training stopped: the job is no longer this worker\'s (its lease ran out while the database was unreachable and another worker took it over, or the workspace was deleted)');
        return;
      }
      // The hint goes with the message into the workspace's status_errors: what to do about it.
      const message = isAppError(err) && err.hint ? `${err.message} ${err.hint}` : (err as Error).message;
      // The data's own fault (a duplicate intent, a model over the size limit) fails the same way
      // every time: given up at once, instead of training it maxAttempts times.
      const attempts = isAppError(err) && err.status < 500 ? 0 : this.#opts.maxAttempts;
      const gaveUp = await fail(this.#pool, loopId, job, message, attempts).catch(() => false);
      if (gaveUp) {
        await saveFailure(this.#pool, job.workspaceId, snapshotVersion, message)
          .catch((e: Error) => this.#opts.logger?.error({ workspace: job.workspaceId, err: e.message }, 'recording a training failure failed'));
      }
      this.#opts.logger?.warn({ workspace: job.workspaceId, err: message, gaveUp }, 'training failed');
      this.#opts.onTrained?.(job.workspaceId, false);
    } finally {
      clearInterval(lease);
    }
  }

  /** Hands the job back uncounted, or takes the attempt back if another worker has it by now. */
  async #handBack(loopId: string, job: Job): Promise<void> {
    if (!(await release(this.#pool, loopId, job))) await disown(this.#pool, loopId, job);
  }

  /** `fn` again (`retry` true), after a growing wait, while the database cannot be reached and this trainer runs. */
  async #whileUnreachable<T>(fn: (retry: boolean) => Promise<T>, job: Job): Promise<T> {
    for (let wait = 500, retry = false; ; wait = Math.min(wait * 2, 5_000), retry = true) {
      try {
        return await fn(retry);
      } catch (err) {
        if (!isDatabaseUnavailable(err) || !this.#running) throw err;
        if (wait === 500) this.#opts.logger?.warn({ workspace: job.workspaceId, err: (err as Error).message }, 'the database cannot be reached; trying again until it can');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** This loop, alive, lost the job to another worker: its attempt is not one (see disown). */
  async #lostJob(loopId: string, job: Job, message: string): Promise<void> {
    await disown(this.#pool, loopId, job).catch((e: Error) => this.#opts.logger?.warn({ workspace: job.workspaceId, err: e.message }, 'taking back a lost training attempt failed'));
    this.#opts.logger?.warn({ workspace: job.workspaceId }, message);
  }

  /**
   * Model and job completion in one transaction, and only while this worker still holds the job.
   * A `retry` after the connection was lost may find the first try committed, its acknowledgement
   * lost with the connection: the job gone and this data's model in place. That counts as saved;
   * it was logged as a takeover by another worker.
   */
  async #save(loopId: string, job: Job, version: string, trained: TrainedModel, retry: boolean): Promise<boolean> {
    return withTransaction(this.#pool, async (client) => {
      if (!(await stillHeld(client, loopId, job))) return retry && hasModel(client, job.workspaceId, version, trained.dataHash);
      await saveModel(client, job.workspaceId, version, trained);
      await finish(client, loopId, job);
      return true;
    });
  }
}
