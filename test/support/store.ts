/**
 * A whole store for integration tests: a fresh database on the test server, the schema
 * migrated, and the HTTP API listening on an ephemeral loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createInstance, createToken } from '../../src/auth/index.ts';
import { createServer, type ServerHooks } from '../../src/api/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { ALGORITHM_VERSION } from '../../src/training/index.ts';
import { cleanUp } from './cleanup.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';

export interface TestStore {
  db: TestDatabase;
  store: Store;
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  url: string;
  home: string;
  /** Creates an instance owned by `user` and a token for that user. */
  tenant(user: string, name?: string): Promise<{ instanceId: string; token: string; serviceUrl: string }>;
  /** Closes the API and the store, drops the database and removes the home it made; every step runs even when one before it fails. */
  close(): Promise<void>;
}

export async function startTestStore(opts: { hooks?: ServerHooks; maxBodyBytes?: number; home?: string; adminUrl?: string } = {}): Promise<TestStore> {
  // Everything made so far is undone in reverse order, by close() or by a start that fails half
  // way (a home made before openStore failed used to stay behind in the temp folder).
  const undo: Array<() => unknown> = [];
  const close = (): Promise<void> => cleanUp(...undo.splice(0).reverse());
  try {
    const home = opts.home ?? mkdtempSync(join(tmpdir(), 'astore-home-'));
    if (!opts.home) undo.push(() => rmSync(home, { recursive: true, force: true }));
    const db = await createTestDatabase('store', opts.adminUrl);
    undo.push(() => db.drop());
    process.env.ASTORE_HOME = home;
    delete process.env.ASTORE_ENCRYPTION_SECRET;
    const store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    undo.push(() => store.close());
    const app = createServer({
      pool: store.pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, release: store.release,
      hooks: opts.hooks, maxBodyBytes: opts.maxBodyBytes,
    });
    undo.push(() => app.close());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      db, store, app, url, home,
      async tenant(user, name = `${user}-instance`) {
        const i = await createInstance(store.pool, name, user);
        const t = await createToken(store.pool, user);
        return { instanceId: i.id, token: t.token, serviceUrl: `${url}/instances/${i.id}/api` };
      },
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
