/**
 * AUTO_RETRAIN_ALL_ENABLED + AUTO_RETRAIN_ALL_CRON_SCHEDULE (Quartz, UTC): runs retrain-all at
 * each fire time while the service is up. A schedule with no future fire time (e.g. a one-off
 * date in the past) just logs that and does nothing.
 */
import { nextQuartzTime } from '../schedule/index.ts';
import { retrainAll, type RetrainAllOptions } from '../training/index.ts';
import type pg from 'pg';

export interface Scheduled { stop(): void }

/**
 * `expression` and `options` are checked when the service starts (service/settings.ts), so a bad
 * value fails then, not at fire time.
 */
export function scheduleRetrainAll(pool: pg.Pool, expression: string, options: RetrainAllOptions, log: (line: string) => void, now: () => Date = () => new Date()): Scheduled {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (): void => {
    if (stopped) return;
    const next = nextQuartzTime(expression, now());
    if (!next) { log(`[RETRAIN-ALL] AUTO_RETRAIN_ALL_CRON_SCHEDULE "${expression}" has no future fire time; not scheduled`); return; }
    log(`[RETRAIN-ALL] next auto-retrain-all run at ${next.toISOString()}`);
    // setTimeout holds at most ~24.8 days; re-arm in steps for later dates.
    const delay = Math.min(next.getTime() - now().getTime(), 2 ** 31 - 1);
    timer = setTimeout(() => {
      if (now() < next) { arm(); return; }
      retrainAll(pool, { ...options, log })
        .catch((err: Error) => log(`[RETRAIN-ALL] run failed: ${err.message}`))
        .finally(arm);
    }, Math.max(0, delay));
  };
  arm();
  return { stop() { stopped = true; clearTimeout(timer); } };
}
