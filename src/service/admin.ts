/**
 * The seeds' store-admin: the one process of a deployment that owns background retraining, so
 * that the seeds' switches act in one place and changing them restarts no API replica.
 * - AUTO_RETRAIN (default true): every 30 s, workspaces whose model is missing or stale are queued
 *   (elsewhere the training workers sweep themselves; in Kubernetes they run with --no-sweep and
 *   this process sweeps). The seeds set it to false so that retrain-all alone submits, in its batches.
 * - AUTO_RETRAIN_ALL_ENABLED: retrain-all on AUTO_RETRAIN_ALL_CRON_SCHEDULE, its
 *   `[RETRAIN-ALL-SUMMARY]` line in this process's log, which the seeds' validation reads.
 * It trains nothing itself: the training workers take what it queues.
 */
import type pg from 'pg';
import { ALGORITHM_VERSION, sweep } from '../training/index.ts';
import { scheduleRetrainAll, type Scheduled } from './auto-retrain.ts';
import type { ServiceSettings } from './settings.ts';

export interface AdminLog {
  info(line: string): void;
  warn(line: string): void;
}

export interface Admin {
  /** Stops sweeping and the schedule; a retrain-all under way stops submitting and logs its summary first. */
  close(): Promise<void>;
}

export function startAdmin(pool: pg.Pool, settings: ServiceSettings, log: AdminLog, sweepMs = 30_000): Admin {
  for (const w of settings.warnings) log.warn(w);
  let sweeping: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (settings.autoRetrain) {
    const run = (): void => {
      // One sweep at a time: a slow database must not pile them up.
      if (sweeping) return;
      sweeping = sweep(pool, ALGORITHM_VERSION)
        .then((n) => { if (n > 0) log.info(`[AUTO-RETRAIN] queued ${n} workspace(s) whose model is missing or stale`); })
        .catch((err: Error) => log.warn(`[AUTO-RETRAIN] sweep failed (retried in ${sweepMs / 1000} s): ${err.message}`))
        .finally(() => { sweeping = undefined; });
    };
    run();
    timer = setInterval(run, sweepMs);
    log.info(`[AUTO-RETRAIN] on: workspaces whose model is missing or stale are queued every ${sweepMs / 1000} s (AUTO_RETRAIN=false turns this off)`);
  } else {
    log.info('[AUTO-RETRAIN] off (AUTO_RETRAIN=false): stale models are retrained only by retrain-all or when their data changes');
  }
  let schedule: Scheduled | undefined;
  if (settings.retrainAll) {
    schedule = scheduleRetrainAll(pool, settings.retrainAll.schedule, settings.retrainAll.options, (line) => log.info(line));
  } else {
    log.info('[RETRAIN-ALL] auto-retrain-all off: set AUTO_RETRAIN_ALL_ENABLED=true and AUTO_RETRAIN_ALL_CRON_SCHEDULE (Quartz, UTC) to schedule it');
  }
  return {
    async close() {
      clearInterval(timer);
      await schedule?.stop();
      await sweeping;
    },
  };
}
