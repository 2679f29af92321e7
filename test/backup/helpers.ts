/** Helpers of the backup tests that interrupt a dump. */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

/** A migrated store holding enough incompressible data (about 50 MB) that a dump of it takes a while to write. */
export async function slowToDumpStore(prefix: string, root: string): Promise<{ db: TestDatabase; store: Store; home: string }> {
  const db = await createTestDatabase(prefix);
  const home = mkdtempSync(join(root, 'home-'));
  process.env.ASTORE_HOME = home;
  const store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  await store.pool.query(`create table public.filler (id int primary key, b bytea)`);
  await store.pool.query(`insert into public.filler select g, decode(string_agg(md5(random()::text), ''), 'hex')
    from generate_series(1, 400) g, generate_series(1, 6250) x group by g`);
  return { db, store, home };
}

/** Polls `pred` every 5 ms; throws once `ms` have passed without it holding. */
export async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
