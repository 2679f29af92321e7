/**
 * An archive whose COPY text is not UTF-8 (stock `pg_dump -E LATIN1`): pgmig tells the server the
 * archive's encoding, as pg_restore does, so the text comes back as it was written. Loaded as
 * UTF-8, "café" was refused and "Ã©" silently became "é".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openArchive } from '../../src/archive/index.ts';
import { encryptWebhooks, instanceCrn, readSecretFile, SECRET_FILE_NAME } from '../../src/auth/index.ts';
import { maintenanceMessage, restore } from '../../src/restore/index.ts';
import { migrate, recordFingerprint } from '../../src/store/index.ts';
import { createTestDatabase } from '../support/pg.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { cleanUp } from '../support/cleanup.ts';
import { writeMapping, writeRc } from './helpers.ts';

// All in LATIN1's repertoire (pg_dump -E LATIN1 refuses anything else); the second one's UTF-8
// bytes, read as LATIN1 and then as UTF-8 again, are valid UTF-8: the silent kind of damage.
const TEXTS = ['café crème, ß, ü, ñ', 'Ã© stays Ã©'];

describe('pgmig: an archive in another client encoding', () => {
  let dir: string;
  let b: TestStore;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-enc-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    b = await startTestStore({ home, hooks: { writesBlocked: () => maintenanceMessage(b.store.pool) } });
  });
  after(() => cleanUp(() => b?.close(), () => rmSync(dir, { recursive: true, force: true })));

  test('pg_dump -E LATIN1: the restored text is the text that was dumped', async () => {
    const key = readSecretFile(join(b.home, SECRET_FILE_NAME))!;
    const source = await createTestDatabase('latin1');
    const c = new pg.Client({ connectionString: source.url });
    await c.connect();
    const instance = randomUUID();
    const workspace = randomUUID();
    try {
      await migrate(c, { schema: 'astore', context: { encryptWebhooks: (w) => encryptWebhooks(w, key) } });
      const user = randomUUID();
      await c.query(`insert into astore.users (id, name) values ($1, 'someone')`, [user]);
      await c.query(`insert into astore.instances (id, name, owner_id, crn) values ($1, 'latin', $2, $3)`, [instance, user, instanceCrn(instance)]);
      await c.query(`insert into astore.workspaces (id, instance_id, name, language) values ($1, $2, $3, 'fr')`, [workspace, instance, TEXTS[0]]);
      const intent = await c.query(`insert into astore.intents (workspace_id, intent) values ($1, 'salut') returning id`, [workspace]);
      for (const text of TEXTS) await c.query(`insert into astore.examples (intent_id, text) values ($1, $2)`, [intent.rows[0].id, text]);
      await recordFingerprint(c, 'astore', key);
    } finally {
      await c.end();
    }
    const file = join(dir, 'latin1.dump');
    execFileSync('/usr/bin/pg_dump', ['-Fc', '-E', 'LATIN1', '-f', file, '-d', source.url], { stdio: ['ignore', 'ignore', 'inherit'] });
    await source.drop();
    const reader = await openArchive(file);
    assert.equal(reader.copyEncoding(), 'LATIN1', 'the archive really is in LATIN1');
    await reader.close();

    const t = await b.tenant('bob', 'target');
    await restore({
      source: file, mapping: writeMapping(dir, { [instance]: t.instanceId }), resourceController: writeRc(dir, b.url, [t.token]),
      force: true, interactive: false, cwd: dir, env: { DATABASE_URL: b.db.url, ASTORE_HOME: b.home },
    });
    const ws = await b.store.pool.query(`select name from workspaces where id = $1`, [workspace]);
    assert.equal(ws.rows[0]?.name, TEXTS[0]);
    const ex = await b.store.pool.query(`select e.text from examples e join intents i on i.id = e.intent_id where i.workspace_id = $1 order by e.text`, [workspace]);
    assert.deepEqual(ex.rows.map((r) => r.text), [...TEXTS].sort());
  });
});
