/**
 * AUTO_RETRAIN_ALL_ENABLED + AUTO_RETRAIN_ALL_CRON_SCHEDULE (Quartz, UTC): runs retrain-all at
 * each fire time while the service is up. A schedule with no fire time to come (e.g. a one-off
 * date in the past) schedules nothing and logs that, with what to do instead.
 */
import { nextQuartzTime } from '../schedule/index.ts';
import { retrainAll, type RetrainAllOptions } from '../training/index.ts';
import type pg from 'pg';

export interface Scheduled {
  /** Cancels the schedule and stops a run under way, resolving once it has logged its summary. */
  stop(): Promise<void>;
}

/**
 * `expression` and `options` are checked when the service starts (service/settings.ts), so a bad
 * value fails then, not at fire time.
 */
export function scheduleRetrainAll(pool: pg.Pool, expression: string, options: RetrainAllOptions, log: (line: string) => void, now: () => Date = () => new Date()): Scheduled {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const arm = (): void => {
    if (stopped) return;
    const next = nextQuartzTime(expression, now());
    if (!next) {
      // The seeds' example schedule is a one-off date (its year field) that has long passed.
      log(`[RETRAIN-ALL] AUTO_RETRAIN_ALL_CRON_SCHEDULE "${expression}" fires at no time after ${now().toISOString()}, so auto-retrain-all is not scheduled; ` +
        'to retrain now, run `astore retrain-all`; to schedule it, set a time to come (e.g. "0 0 3 * * ?": daily at 03:00 UTC) and restart');
      return;
    }
    log(`[RETRAIN-ALL] next auto-retrain-all run at ${next.toISOString()}`);
    // setTimeout holds at most ~24.8 days; re-arm in steps for later dates.
    const delay = Math.min(next.getTime() - now().getTime(), 2 ** 31 - 1);
    timer = setTimeout(() => {
      if (now() < next) { arm(); return; }
      running = retrainAll(pool, { ...options, log, signal: abort.signal })
        .then(() => undefined, (err: Error) => log(`[RETRAIN-ALL] run failed: ${err.message}`))
        .finally(() => { running = undefined; arm(); });
    }, Math.max(0, delay));
  };
  arm();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}
