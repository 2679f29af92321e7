/**
 * The in-process backup scheduler of `astore serve`, with Kubernetes CronJob semantics: runs at
 * the cron slots of store.backup.schedule (local time), never overlapping (the run lock), a slot
 * run at most once even with several processes (its job row), and after downtime at most ONE
 * catch-up run — for the newest missed slot, and only within the starting deadline when one is
 * set. Older missed slots are dropped, never replayed.
 */
import type pg from 'pg';
import type { PgConnection } from '../config/index.ts';
import { isAppError } from '../errors/index.ts';
import { nextCronTime, parseCron, type CronExpression } from '../schedule/index.ts';
import type { DumpEngine } from './engine.ts';
import { lastScheduledSlot } from './jobs.ts';
import { runBackupJob, type RunResult } from './run.ts';
import type { BackupSettings } from './settings.ts';

export type LogLevel = 'info' | 'warn' | 'error';

export interface SchedulerOptions {
  settings: BackupSettings;
  now?: () => Date;
  /** Default: the one settings.engine names. */
  engine?: DumpEngine | undefined;
  /** `level`: 'error' for a failed or unrun slot, 'warn' for a skipped one (monitoring filters on it), else 'info'. */
  log?: (message: string, level: LogLevel) => void;
  /** Called after every run (tests, metrics). */
  onRun?: (slot: Date, result: RunResult | Error) => void;
}

export interface BackupScheduler {
  /** The next slot the scheduler waits for (undefined when suspended or stopped). */
  readonly nextRun: Date | undefined;
  stop(): Promise<void>;
}

const MAX_TIMEOUT = 2 ** 31 - 1;
const WINDOWS_MS = [60e3, 3600e3, 86400e3, 32 * 86400e3, 366 * 86400e3, 5 * 366 * 86400e3];

/** The newest slot in (after, now], found without walking every slot of a long downtime. */
export function latestSlotBetween(cron: CronExpression, after: Date, now: Date): Date | undefined {
  for (const w of WINDOWS_MS) {
    const from = new Date(Math.max(after.getTime(), now.getTime() - w));
    let slot = nextCronTime(cron, from);
    if (slot.getTime() > now.getTime()) {
      if (from.getTime() === after.getTime()) return undefined;
      continue;
    }
    for (let next = nextCronTime(cron, slot); next.getTime() <= now.getTime(); next = nextCronTime(cron, next)) slot = next;
    return slot;
  }
  return undefined;
}

export function startBackupScheduler(store: { pool: pg.Pool; connection: PgConnection }, opts: SchedulerOptions): BackupScheduler {
  const now = opts.now ?? (() => new Date());
  const write = opts.log ?? ((m: string) => { process.stderr.write(`backup scheduler: ${m}\n`); });
  const log = (m: string, level: LogLevel = 'info'): void => write(m, level);
  const settings = opts.settings;
  const cron = parseCron(settings.schedule);
  const deadlineMs = settings.startingDeadlineSeconds === undefined ? undefined : settings.startingDeadlineSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let nextRun: Date | undefined;
  let running: Promise<void> = Promise.resolve();

  const run = async (slot: Date): Promise<void> => {
    const late = now().getTime() - slot.getTime();
    if (deadlineMs !== undefined && late > deadlineMs) {
      log(`slot ${slot.toISOString()} missed by ${Math.round(late / 1000)} s, past the starting deadline; skipped`, 'warn');
      return;
    }
    try {
      const result = await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot, now, engine: opts.engine });
      if (result.status === 'failed') log(`slot ${slot.toISOString()} failed: ${result.error?.message}`, 'error');
      opts.onRun?.(slot, result);
    } catch (err) {
      // Another process holding the lock is the overlap case: skip, like concurrencyPolicy Forbid.
      const e = err instanceof Error ? err : new Error(String(err));
      if (isAppError(e) && e.code === 'BACKUP_LOCKED') log(`slot ${slot.toISOString()} skipped: another run is in progress`, 'warn');
      else log(`slot ${slot.toISOString()} not run: ${e.message}`, 'error');
      opts.onRun?.(slot, e);
    }
  };

  const arm = (after: Date): void => {
    if (stopped) return;
    const slot = nextCronTime(cron, new Date(Math.max(after.getTime(), now().getTime())));
    nextRun = slot;
    const wait = (): void => {
      if (stopped) return;
      const ms = slot.getTime() - now().getTime();
      if (ms > 0) {
        timer = setTimeout(wait, Math.min(ms, MAX_TIMEOUT));
        return;
      }
      running = run(slot).then(() => arm(slot));
    };
    wait();
  };

  const start = async (): Promise<void> => {
    if (settings.suspend) {
      log('store.backup.suspend is true: no scheduled backups');
      return;
    }
    const last = await lastScheduledSlot(store.pool).catch((err: Error) => { log(`cannot read the job history: ${err.message}`, 'error'); return undefined; });
    const t = now();
    const missed = last ? latestSlotBetween(cron, last, t) : undefined;
    if (missed && !stopped) {
      log(`catching up missed slot ${missed.toISOString()} (one run; older missed slots are dropped)`);
      await run(missed);
    }
    arm(missed ?? t);
  };
  running = start();

  return {
    get nextRun() { return stopped ? undefined : nextRun; },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
