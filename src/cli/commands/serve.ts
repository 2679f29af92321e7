/** `astore serve`: migrate, then serve the API until SIGINT/SIGTERM, then shut down cleanly. */
import type { Command } from 'commander';
import { createServer } from '../../api/index.ts';
import { openStore } from '../../store/index.ts';
import { ALGORITHM_VERSION } from '../../training/index.ts';

export function register(program: Command): void {
  program.command('serve')
    .description('serve the v1 API (migrates the schema first)')
    .option('--host <host>', 'address to listen on (env HOST)', process.env.HOST ?? '127.0.0.1')
    .option('--port <port>', 'port to listen on (env PORT)', process.env.PORT ?? '8080')
    .option('--postgres <file>', 'PostgreSQL connection from a postgres.yaml (default: DATABASE_URL, else the embedded server)')
    .action(async (o: { host: string; port: string; postgres?: string }) => {
      const store = await openStore({ postgres: o.postgres, migrate: true, poolSize: 20 });
      const app = createServer({
        pool: store.pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, release: store.release,
        logger: { level: process.env.LOG_LEVEL ?? 'info' },
        maxBodyBytes: process.env.ASTORE_MAX_BODY_BYTES ? Number(process.env.ASTORE_MAX_BODY_BYTES) : undefined,
      });
      const url = await app.listen({ host: o.host, port: Number(o.port) });
      const where = store.embedded ? `embedded PostgreSQL in ${store.embedded.home} (port ${store.connection.port})` : `${store.connection.host}:${store.connection.port}/${store.connection.database}`;
      process.stdout.write([
        `Assistant Store ${store.release} listening on ${url}`,
        `database: ${where}`,
        'create an instance and a token:',
        '  bin/astore instances create --name my-instance --owner admin',
        '  bin/astore tokens create --user admin',
        `then use serviceUrl ${url}/instances/<INSTANCE_ID>/api with a BearerTokenAuthenticator`,
        '',
      ].join('\n'));
      await new Promise<void>((resolve) => {
        const stop = (): void => { resolve(); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stdout.write('shutting down\n');
      await app.close();
      await store.close();
    });
}
