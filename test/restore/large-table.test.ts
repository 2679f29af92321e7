/**
 * Regression: a table of 150,000 rows never finished loading. The COPY into the staging schema
 * is a slow consumer, so the archive's inflate generator sat at a `yield` while zlib emitted its
 * 'end'; that wake-up had nobody waiting, the generator then slept forever, and PostgreSQL sat in
 * ClientRead waiting for the rest of the COPY. Both a compressed and an uncompressed (-Z0) stock
 * pg_dump archive must load completely. Every row also carries the source instance id in its
 * text, which must come back as written (only the workspace moves to the target instance).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, createToken } from '../../src/auth/index.ts';
import { restore, type RestoreOptions } from '../../src/restore/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

const EXAMPLES = 150_000;

describe('pgmig: a table of 150,000 rows loads to the end', () => {
  let dir: string;
  let a: TestStore;
  let b: TestStore;
  let sourceId: string;
  let targetId: string;
  let base: Omit<RestoreOptions, 'source'>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-large-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    a = await startTestStore({ home });
    sourceId = (await createInstance(a.store.pool, 'big', 'alice')).id;
    const ws = randomUUID();
    await a.store.pool.query(`insert into workspaces (id, instance_id, name, language) values ($1, $2, 'big', 'en')`, [ws, sourceId]);
    const intent = await a.store.pool.query(`insert into intents (workspace_id, intent) values ($1, 'bulk') returning id`, [ws]);
    // The source id inside every row, also across chunk borders: user text, never rewritten.
    await a.store.pool.query(`insert into examples (intent_id, text)
      select $1, 'example ' || g || ' of ' || $2::text from generate_series(1, ${EXAMPLES}) g`, [intent.rows[0].id, sourceId]);
    for (const [file, z] of [['gzip.dump', []], ['plain.dump', ['-Z0']]] as const) {
      execFileSync('/usr/bin/pg_dump', ['-Fc', ...z, '-f', join(dir, file), '-d', a.db.url], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    b = await startTestStore({ home });
    targetId = (await createInstance(b.store.pool, 'target', 'bob')).id;
    const token = await createToken(b.store.pool, 'bob');
    base = {
      resourceController: writeRc(dir, b.url, [token.token]), mapping: writeMapping(dir, { [sourceId]: targetId }),
      force: true, interactive: false, cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    };
  });
  after(() => cleanUp(() => b?.close(), () => a?.close(), () => rmSync(dir, { recursive: true, force: true })));

  for (const file of ['gzip.dump', 'plain.dump']) {
    // Before the fix the load hung forever; the timeout turns a hang into a failure.
    test(`${file}: every row arrives, as written; the workspace moves to the target instance`, { timeout: 60_000 }, async () => {
      const s = await restore({ ...base, source: join(dir, file) });
      assert.ok(s.rows >= EXAMPLES);
      const r = await b.store.pool.query<{ n: number; intact: number }>(
        `select count(*)::int as n, count(*) filter (where text = 'example ' || split_part(text, ' ', 2) || ' of ' || $1)::int as intact from examples`,
        [sourceId]);
      assert.deepEqual(r.rows[0], { n: EXAMPLES, intact: EXAMPLES });
      const w = await b.store.pool.query<{ instance_id: string }>('select instance_id from workspaces');
      assert.deepEqual(w.rows, [{ instance_id: targetId }]);
    });
  }
});
