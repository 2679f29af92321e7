/** `astore serve`: migrate, then serve the API and train until SIGINT/SIGTERM, then shut down cleanly. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { listInstances } from '../../auth/index.ts';
import { loadBackupSettings, startBackupScheduler, type BackupSettings } from '../../backup/index.ts';
import { AppError } from '../../errors/index.ts';
import { createService, readServiceSettings, type Service, type ServiceOptions } from '../../service/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { nonNegativeInt, port } from '../args.ts';
import { logLevel } from '../log-level.ts';

export function register(program: Command): void {
  program.command('serve')
    .description('serve the v1 API and train models (migrates the schema first)')
    .option('--host <host>', 'address to listen on (env HOST)', process.env.HOST ?? '127.0.0.1')
    .option('--port <port>', 'port to listen on (env PORT)', process.env.PORT ?? '8080')
    .option('--postgres <file>', 'PostgreSQL connection from a postgres.yaml (default: ASTORE_POSTGRES or DATABASE_URL, else the embedded server)')
    .option('--training-threads <n>', 'training worker threads (default: cores - 1, at least 1; 0 disables training here)')
    .option('--config <file>', 'settings file with store.backup.* (default: ASTORE_HOME/config.yaml when present)')
    .action(async (o: { host: string; port: string; postgres?: string; trainingThreads?: string; config?: string }) => {
      // Every setting is checked before the store (maybe an embedded PostgreSQL) is opened.
      const backupSettings = loadBackupSettings({ config: o.config });
      const settings = readServiceSettings(process.env);
      const threads = o.trainingThreads === undefined ? undefined : nonNegativeInt(o.trainingThreads, '--training-threads');
      const listenPort = port(o.port, '--port (PORT)');
      const level = logLevel('info');
      // Listened for before anything is started: Node's default action for a SIGTERM during
      // startup (or one sent as soon as the banner below appeared, before the listeners used to be
      // added) ended the process at once, leaving the embedded PostgreSQL it had started running.
      // A signal during startup now takes effect once startup is done; a second one still kills.
      let started = false;
      const stopRequested = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          // Said at once, or the first signal seems ignored while startup waits (e.g. on another
          // process's migration).
          if (!started) process.stderr.write(`${signal} received while starting: stopping once started (send it again to end at once)\n`);
          resolve();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      // A request that waits 15 s for a connection gets 503 (retry later) instead of hanging.
      const store = await openStore({ postgres: o.postgres, migrate: true, poolSize: 20, connectTimeoutMs: 15_000 });
      const { service, url, backups } = await start(store, {
        settings,
        logger: { level },
        trainer: threads === 0 ? false : { concurrency: threads },
      }, o.host, listenPort, backupSettings).catch(async (err: unknown) => {
        // Without this the pool and the embedded PostgreSQL keep the process alive with the error
        // printed; exiting lets a supervisor (Kubernetes) see the failure and restart.
        await store.close();
        throw err;
      });
      // The commands must reach this store: run as printed from another shell, without its
      // ASTORE_HOME or --postgres they would open (and create) another one. On an external
      // PostgreSQL the home still holds the encryption key: without it they fail with KEY_MISSING.
      const sameStore = [
        process.env.ASTORE_HOME ? `ASTORE_HOME=${store.home} ` : '',
        process.env.ASTORE_ENCRYPTION_SECRET ? `ASTORE_ENCRYPTION_SECRET=${resolve(process.env.ASTORE_ENCRYPTION_SECRET)} ` : '',
      ].join('');
      const sameDb = o.postgres ? ` --postgres ${resolve(o.postgres)}` : '';
      const urlNote = !o.postgres && !store.embedded ? ' (with the same DATABASE_URL)' : '';
      const where = store.embedded ? `embedded PostgreSQL in ${store.embedded.home} (port ${store.connection.port})` : `${store.connection.host}:${store.connection.port}/${store.connection.database}`;
      // A store that already has instances (a restart, a restored store) needs a token of one of
      // their owners, not another instance. Only a hint: if the query fails, the first-run lines.
      const instances = await listInstances(store.pool).catch(() => []);
      const owner = instances[0]?.owner ?? 'admin';
      process.stdout.write([
        `Assistant Store ${store.release} listening on ${url}`,
        `database: ${where}`,
        ...(instances.length === 0 ? [
          `create an instance and a token${urlNote}:`,
          `  ${sameStore}bin/astore instances create --name my-instance --owner admin${sameDb}`,
        ] : [
          `${instances.length} instance(s); list them, and create a token for an owner${urlNote}:`,
          `  ${sameStore}bin/astore instances list${sameDb}`,
        ]),
        `  ${sameStore}bin/astore tokens create --user ${owner}${sameDb}`,
        `then use serviceUrl ${url}/instances/<INSTANCE_ID>/api with a BearerTokenAuthenticator`,
        backupSettings.suspend ? 'scheduled backups: suspended (store.backup.suspend)' : `scheduled backups: "${backupSettings.schedule}" into ${backupSettings.dir}`,
        '',
      ].join('\n'));
      started = true;
      await stopRequested;
      process.stdout.write('shutting down\n');
      await backups.stop();
      await service.close();
      await store.close();
    });
}

/** Service, listener and backup scheduler; on a failure, whatever was started is closed again. */
async function start(store: Store, opts: ServiceOptions, host: string, port: number, backupSettings: BackupSettings) {
  const service = createService(store, opts);
  try {
    const url = await listen(service, host, port);
    const backups = startBackupScheduler(store, { settings: backupSettings, log: (m, level) => service.app.log[level](`backup scheduler: ${m}`) });
    return { service, url, backups };
  } catch (err) {
    await service.close();
    throw err;
  }
}

async function listen(service: Service, host: string, port: number): Promise<string> {
  try {
    return await service.app.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new AppError('LISTEN_FAILED', `cannot listen on ${host}:${port}: no address of that name (${code})`, {
        hint: '--host / HOST is an address of this machine (127.0.0.1, 0.0.0.0 for every interface, ::) or a name that resolves to one', exitCode: 2, cause: err,
      });
    }
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new AppError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the address is already in use' : (err as Error).message}`, {
        hint: 'stop the process using that port, or choose another with --port / PORT (and --host / HOST)', exitCode: 3, cause: err,
      });
    }
    throw err;
  }
}
