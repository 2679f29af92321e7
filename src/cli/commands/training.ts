/** Training: `train-worker`, `store-admin`, `retrain-all`, `retrain status`, `retrain estimate`. */
import type { Command } from 'commander';
import { pino } from 'pino';
import { readServiceSettings, startAdmin } from '../../service/index.ts';
import {
  autoRetrainFromEnv, defaultConcurrency, measuredEstimateSeconds, retrainAll, retrainOptionsFromEnv, retrainStatus, seedsEstimateSeconds, Trainer,
} from '../../training/index.ts';
import { nonNegativeInt, positiveInt, positiveNumber } from '../args.ts';
import { logLevel } from '../log-level.ts';
import { printJson, printTable, withStore } from '../output.ts';
import { Progress } from '../progress.ts';

/**
 * The trainer's warnings (a failed claim, a lost lease, a failed sweep) as JSON lines on stderr;
 * LOG_LEVEL=info adds each training (the commands print their own progress already).
 */
function cliLogger(): pino.Logger {
  return pino({ level: logLevel('warn') }, pino.destination(2));
}

/** Resolves on the first SIGINT or SIGTERM; a second one is left to the fallback, which exits at once. */
function untilStopSignal(): Promise<void> {
  return new Promise((resolve) => { process.once('SIGINT', () => resolve()); process.once('SIGTERM', () => resolve()); });
}

const pgOption = ['--postgres <file>', 'PostgreSQL connection from a postgres.yaml (default: ASTORE_POSTGRES or DATABASE_URL, else the embedded server)'] as const;

export function register(program: Command): void {
  program.command('train-worker')
    .description('run a training worker until SIGINT/SIGTERM (scale out by running more, on any machine)')
    .option('--concurrency <n>', 'parallel trainings (worker threads)', String(defaultConcurrency()))
    .option('--no-sweep', 'train only what is queued, never queue stale workspaces itself (where a store-admin process sweeps)')
    .option(...pgOption)
    .action(async (o: { concurrency: string; sweep: boolean; postgres?: string }) => {
      const concurrency = positiveInt(o.concurrency, '--concurrency');
      // With AUTO_RETRAIN=false a worker trains only what is queued (data changes, retrain-all's
      // batches): its sweep queued every stale workspace at once, defeating the seeds' batching.
      const sweep = o.sweep && autoRetrainFromEnv();
      const logger = cliLogger();
      await withStore({ postgres: o.postgres }, async (s) => {
        const trainer = new Trainer(s.pool, { concurrency, ...(sweep ? {} : { sweepMs: 0 }), logger,
          onTrained: (id, ok) => process.stderr.write(`${ok ? 'trained' : 'failed '} ${id}\n`) });
        trainer.start();
        process.stderr.write(`training worker ${trainer.workerId} with ${o.concurrency} thread(s); Ctrl-C to stop\n`);
        await untilStopSignal();
        await trainer.stop();
      });
    });

  program.command('store-admin')
    .description("run the seeds' store-admin until SIGINT/SIGTERM: the AUTO_RETRAIN sweep and the AUTO_RETRAIN_ALL_* schedule, for training workers to carry out")
    .option(...pgOption)
    .action(async (o: { postgres?: string }) => {
      // Checked before the store is opened: a bad schedule fails at once, not at fire time.
      const settings = readServiceSettings(process.env);
      // Info whatever LOG_LEVEL says, as in serve: the seeds validate a run by grepping this log.
      const log = pino({ level: logLevel('info') === 'silent' ? 'silent' : 'info' });
      await withStore({ postgres: o.postgres }, async (s) => {
        const admin = startAdmin(s.pool, settings, { info: (line) => log.info(line), warn: (line) => log.warn(line) });
        await untilStopSignal();
        await admin.close();
      });
    });

  program.command('retrain-all')
    .description('retrain every workspace whose model is missing or stale, in batches (BATCH_RETRAIN_ALL_SIZE, WAIT_TIME_* env)')
    .option('--workers <n>', 'training threads this command runs itself (0: rely on serve / train-worker)', String(defaultConcurrency()))
    .option('--timeout <seconds>', 'give up when no training finishes for this long (queued jobs stay queued)', '3600')
    .option(...pgOption)
    .option('--json', 'print the summary as JSON')
    .action(async (o: { workers: string; timeout: string; postgres?: string; json?: boolean }) => {
      // Checked before the store is opened, so a typo fails at once.
      const workers = nonNegativeInt(o.workers, '--workers');
      const options = { ...retrainOptionsFromEnv(), timeoutS: positiveNumber(o.timeout, '--timeout') };
      const logger = cliLogger();
      // Ctrl-C or SIGTERM ends the run the way serve's stop does: nothing more is submitted, the
      // trainings under way are handed back uncounted (the fallback exit killed them, and each
      // interrupted run cost the workspace one of its attempts), and the summary is still printed.
      const stop = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals): void => {
        // A second signal is left to the fallback, which exits at once.
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        stoppedBy = signal;
        stop.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await withStore({ postgres: o.postgres }, async (s) => {
          // Started once the run holds its lock: a run refused as the second one trained the first one's jobs meanwhile.
          let trainer: Trainer | undefined;
          const bar = new Progress();
          try {
            const summary = await retrainAll(s.pool, {
              ...options, signal: stop.signal,
              onLocked: () => {
                if (workers === 0) return;
                trainer = new Trainer(s.pool, { concurrency: workers, sweepMs: 0, pollMs: 100, logger });
                trainer.start();
              },
              log: (line) => process.stderr.write((process.stderr.isTTY ? '\r\x1b[K' : '') + line + '\n'),
              progress: (p) => bar.update(p.done + p.failed, p.affected, `retrained (${p.submitted} submitted, ${p.failed} failed)`),
            });
            bar.done();
            if (o.json) printJson(summary);
            if (stoppedBy) process.exitCode = stoppedBy === 'SIGINT' ? 130 : 143;
            else if (!summary.complete) process.exitCode = 7;
            else if (summary.failed > 0) process.exitCode = 8;
          } finally {
            await trainer?.stop();
          }
        });
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
    });

  const retrain = program.command('retrain').description('training status and planning');
  retrain.command('status')
    .description('affected / queued / training / done / failed workspaces')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres }, async (s) => {
        const st = await retrainStatus(s.pool);
        if (o.json) printJson(st);
        else printTable([{ ...st, avgTrainMs: st.avgTrainMs ?? '-' }], ['workspaces', 'affected', 'queued', 'training', 'done', 'failed', 'avgTrainMs']);
      });
    });
  retrain.command('estimate')
    .description("how long retrain-all takes: the seeds' formula and this store's measured training times")
    .option('--replicas <list>', 'training replicas to estimate for', '5,10,15')
    .option('--workspaces <n>', 'number of workspaces (default: those affected now)')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { replicas: string; workspaces?: string; postgres?: string; json?: boolean }) => {
      const replicas = o.replicas.split(',').map((r) => positiveInt(r.trim(), '--replicas'));
      const workspaces = o.workspaces === undefined ? undefined : nonNegativeInt(o.workspaces, '--workspaces');
      await withStore({ postgres: o.postgres }, async (s) => {
        const st = await retrainStatus(s.pool);
        const n = workspaces ?? st.affected;
        const rows = replicas.map((r) => ({
          replicas: r, workspaces: n, seedsSeconds: seedsEstimateSeconds(n, r),
          measuredSeconds: st.avgTrainMs === null ? null : measuredEstimateSeconds(n, r, st.avgTrainMs),
        }));
        if (o.json) { printJson({ avgTrainMs: st.avgTrainMs, estimates: rows }); return; }
        process.stdout.write(`Number of workspaces to train ${n}\n`);
        for (const row of rows) {
          process.stdout.write(`Approximate duration of the auto retrain all job if you have ${row.replicas} Training pods: ${row.seedsSeconds} seconds` +
            (row.measuredSeconds === null ? ' (no measured training times yet)\n' : `; measured here (avg ${st.avgTrainMs} ms/model): ${row.measuredSeconds} seconds\n`));
        }
      });
    });
}
