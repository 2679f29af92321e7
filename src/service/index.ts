/**
 * The running service as `astore serve` composes it: the HTTP API, the message endpoint,
 * training workers and the schedulers, wired to one store.
 */
import type { FastifyInstance } from 'fastify';
import { createServer } from '../api/index.ts';
import { customerId, LogWriter, registerLogRoutes, uuid7 } from '../logs/index.ts';
import { MessageService } from '../message/index.ts';
import { maintenanceMessage } from '../restore/index.ts';
import type { Store } from '../store/index.ts';
import { trainingWanted } from '../workspaces/index.ts';
import { ALGORITHM_VERSION, Trainer, enqueue, type TrainerLog, type TrainerOptions } from '../training/index.ts';
import { scheduleRetrainAll, type Scheduled } from './auto-retrain.ts';
import { readServiceSettings, type ServiceSettings } from './settings.ts';

export { readServiceSettings, type ServiceSettings } from './settings.ts';
export { startAdmin, type Admin, type AdminLog } from './admin.ts';

export interface ServiceOptions {
  /** Settings already read (serve reads them before opening the store); default: read from `env`. */
  settings?: ServiceSettings;
  env?: NodeJS.ProcessEnv;
  logger?: boolean | { level: string };
  /** Where retrain-all's lines go; by default the service log, at info whatever LOG_LEVEL says. */
  retrainLog?: (line: string) => void;
  trainer?: TrainerOptions | false;
  /** Debounce before a change's training starts, so a burst of edits trains once. */
  debounceMs?: number;
  /** Why writes are refused now; default: the flag a running restore (pgmig) sets. */
  writesBlocked?(): Promise<string | undefined>;
}

export interface Service {
  app: FastifyInstance;
  trainer: Trainer | undefined;
  /** The message-log writer; undefined with ASTORE_MESSAGE_LOGS=false. */
  logs: LogWriter | undefined;
  close(): Promise<void>;
}

/**
 * Builds the service; its background work (training loops, the retrain-all schedule) starts once
 * `app.listen` succeeds, so a failed start leaves nothing running and `close()` releases the rest.
 */
export function createService(store: Store, opts: ServiceOptions = {}): Service {
  // First, before worker threads exist: a bad setting throws here with nothing to clean up.
  const settings = opts.settings ?? readServiceSettings(opts.env ?? process.env);
  const autoRetrain = settings.autoRetrain;
  const debounceMs = opts.debounceMs ?? 300;
  // The service log, reached through `app` once it exists (the trainer only logs after start()).
  const trainerLog: TrainerLog = {
    info: (obj, msg) => app.log.info(obj, msg),
    warn: (obj, msg) => app.log.warn(obj, msg),
    error: (obj, msg) => app.log.error(obj, msg),
  };
  const trainer = opts.trainer === false ? undefined : new Trainer(store.pool, { sweepMs: autoRetrain ? 30_000 : 0, logger: trainerLog, ...opts.trainer });
  const log = (err: unknown): void => { app.log.warn({ err }, 'enqueueing training failed'); };
  const requestTraining = (id: string, delay: number, changed: boolean): void => {
    enqueue(store.pool, [id], { delayMs: delay, changed }).then(() => setTimeout(() => trainer?.poke(), delay + 5)).catch(log);
  };
  const logs = settings.messageLogs
    ? new LogWriter(store.pool, { retentionDays: settings.logRetentionDays, warn: (msg, err) => app.log.warn({ err }, msg) })
    : undefined;
  const messages = new MessageService({
    algorithmVersion: ALGORITHM_VERSION,
    modelCacheBytes: settings.modelCacheBytes,
    stale: (id) => { if (autoRetrain) requestTraining(id, 0, false); },
    turn: logs && ((t) => logs.record({
      log_id: uuid7(t.received.getTime()), workspace_id: t.workspaceId, language: t.language, customer_id: customerId(t.headers),
      request_timestamp: t.received.toISOString(), response_timestamp: t.answered.toISOString(),
      request: t.request ?? {}, response: t.response,
    })),
  });
  const app = createServer({
    pool: store.pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, autoRetrain, release: store.release,
    logger: opts.logger ?? false,
    maxBodyBytes: settings.maxBodyBytes,
    maxAsyncBodyBytes: settings.maxAsyncBodyBytes,
    hooks: {
      routes: (r) => { messages.register(r); registerLogRoutes(r, logs); },
      trainingChanged: (id) => requestTraining(id, debounceMs, true),
      // The seeds' "open the skill" path: reading a stale workspace starts its training.
      workspaceOpened: (id) => {
        if (!autoRetrain) return;
        store.pool.query(`select 1 from workspaces w left join models m on m.workspace_id = w.id
            left join training_failures f on f.workspace_id = w.id
          where w.id = $1 and ${trainingWanted('$2')}
            and not exists (select 1 from training_jobs j where j.workspace_id = w.id)`, [id, ALGORITHM_VERSION])
          .then((r) => { if (r.rowCount) requestTraining(id, 0, false); }).catch(log);
      },
      writesBlocked: opts.writesBlocked ?? (() => maintenanceMessage(store.pool)),
    },
  });
  for (const w of settings.warnings) app.log.warn(w);
  let retrainSchedule: Scheduled | undefined;
  app.addHook('onListen', async () => {
    trainer?.start();
    logs?.start();
    const all = settings.retrainAll;
    if (all) {
      // The seeds check a run by grepping the log for its [RETRAIN-ALL-SUMMARY] line: these lines
      // are written whatever LOG_LEVEL hides (unless logging is off altogether).
      const retrainLog = app.log.child({}, { level: app.log.level === 'silent' ? 'silent' : 'info' });
      retrainSchedule = scheduleRetrainAll(store.pool, all.schedule, all.options, opts.retrainLog ?? ((line) => retrainLog.info(line)));
    }
  });
  return {
    app, trainer, logs,
    async close() {
      // Before the pool closes under it: a run under way logs its summary and stops submitting.
      await retrainSchedule?.stop();
      await app.close();
      await logs?.close();
      await trainer?.stop();
    },
  };
}
