/**
 * The service's environment settings, read and checked in one place. `serve` reads them before it
 * opens the store, so a bad value stops it at once instead of after the database, worker threads
 * and timers exist (or, for the retrain-all schedule, hours later when it fires).
 */
import { AppError, isAppError } from '../errors/index.ts';
import { parseQuartz } from '../schedule/index.ts';

export interface ServiceSettings {
  /** AUTO_RETRAIN: train stale workspaces in the background and when they are opened or messaged. */
  autoRetrain: boolean;
  /** AUTO_RETRAIN_ALL_CRON_SCHEDULE when AUTO_RETRAIN_ALL_ENABLED; checked to parse. */
  retrainAllSchedule: string | undefined;
  maxBodyBytes: number | undefined;
  /** Settings that are valid but probably not what was meant; the service logs them. */
  warnings: string[];
}

const truthy = (v: string | undefined, fallback: boolean): boolean => (v === undefined || v === '' ? fallback : /^(true|1|yes)$/i.test(v));

export function readServiceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const warnings: string[] = [];
  let retrainAllSchedule: string | undefined;
  if (truthy(env.AUTO_RETRAIN_ALL_ENABLED, false)) {
    retrainAllSchedule = env.AUTO_RETRAIN_ALL_CRON_SCHEDULE || undefined;
    if (retrainAllSchedule === undefined) warnings.push('AUTO_RETRAIN_ALL_ENABLED is true but AUTO_RETRAIN_ALL_CRON_SCHEDULE is empty; auto-retrain-all not scheduled');
    else checkSchedule(retrainAllSchedule);
  }
  return {
    autoRetrain: truthy(env.AUTO_RETRAIN, true),
    retrainAllSchedule,
    maxBodyBytes: env.ASTORE_MAX_BODY_BYTES ? Number(env.ASTORE_MAX_BODY_BYTES) : undefined,
    warnings,
  };
}

/** The parser's error names the field; this names the variable the operator has to fix. */
function checkSchedule(expression: string): void {
  try {
    parseQuartz(expression);
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError(err.code, `AUTO_RETRAIN_ALL_CRON_SCHEDULE: ${err.message}`, {
      hint: err.hint, exitCode: 2, details: err.details, cause: err,
    });
  }
}
