/**
 * The service's environment settings, read and checked in one place. `serve` reads them before it
 * opens the store, so a bad value stops it at once instead of after the database, worker threads
 * and timers exist (or, for the retrain-all schedule, hours later when it fires).
 */
import { parseSwitch } from '../config/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { parseQuartz } from '../schedule/index.ts';
import { autoRetrainFromEnv, retrainOptionsFromEnv, type RetrainAllOptions } from '../training/index.ts';

export interface ServiceSettings {
  /** AUTO_RETRAIN: train stale workspaces in the background and when they are opened or messaged. */
  autoRetrain: boolean;
  /**
   * When AUTO_RETRAIN_ALL_ENABLED: AUTO_RETRAIN_ALL_CRON_SCHEDULE (checked to parse) and the
   * BATCH_RETRAIN_ALL_SIZE / WAIT_TIME_* options each run uses.
   */
  retrainAll: { schedule: string; options: RetrainAllOptions } | undefined;
  /** ASTORE_MAX_BODY_BYTES */
  maxBodyBytes: number | undefined;
  /** ASTORE_MAX_ASYNC_BODY_BYTES */
  maxAsyncBodyBytes: number | undefined;
  /** ASTORE_MODEL_CACHE_BYTES: how much memory the /message model cache may hold. */
  modelCacheBytes: number | undefined;
  /** ASTORE_MESSAGE_LOGS: keep a log of every /message turn (the v1 logs calls read it). */
  messageLogs: boolean;
  /** ASTORE_LOG_RETENTION_DAYS: message logs older than this are deleted; 0 keeps them. */
  logRetentionDays: number;
  /** Settings that are valid but probably not what was meant; the service logs them. */
  warnings: string[];
}

export function readServiceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const warnings: string[] = [];
  let retrainAll: ServiceSettings['retrainAll'];
  if (envBoolean(env, 'AUTO_RETRAIN_ALL_ENABLED', false)) {
    const schedule = env.AUTO_RETRAIN_ALL_CRON_SCHEDULE?.trim();
    if (!schedule) warnings.push('AUTO_RETRAIN_ALL_ENABLED is true but AUTO_RETRAIN_ALL_CRON_SCHEDULE is empty; auto-retrain-all not scheduled');
    else {
      checkSchedule(schedule);
      retrainAll = { schedule, options: retrainOptionsFromEnv(env) };
    }
  }
  return {
    autoRetrain: autoRetrainFromEnv(env),
    retrainAll,
    maxBodyBytes: envBytes(env, 'ASTORE_MAX_BODY_BYTES'),
    maxAsyncBodyBytes: envBytes(env, 'ASTORE_MAX_ASYNC_BODY_BYTES'),
    modelCacheBytes: envBytes(env, 'ASTORE_MODEL_CACHE_BYTES'),
    messageLogs: envBoolean(env, 'ASTORE_MESSAGE_LOGS', true),
    logRetentionDays: envDays(env, 'ASTORE_LOG_RETENTION_DAYS', 30),
    warnings,
  };
}

/** Unset or blank: the default. */
function envBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  return parseSwitch(name, env[name]) ?? fallback;
}

function envBytes(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name]?.trim();
  if (!v) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    throw new AppError('CONFIG_INVALID', `${name}=${JSON.stringify(env[name])} is not a whole number of bytes >= 1`, {
      hint: `set ${name} to a byte count such as 1572864 (1.5 MB), or leave it unset for that default`, exitCode: 2,
    });
  }
  return Number(v);
}

function envDays(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name]?.trim();
  if (!v) return fallback;
  // 100 years at most: PostgreSQL's make_interval takes an int, and the hourly prune must not fail.
  if (!/^\d+$/.test(v) || Number(v) > 36_500) {
    throw new AppError('CONFIG_INVALID', `${name}=${JSON.stringify(env[name])} is not a whole number of days from 0 to 36500`, {
      hint: `set ${name} to a number of days such as 30, 0 to keep logs forever, or leave it unset for ${fallback}`, exitCode: 2,
    });
  }
  return Number(v);
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
