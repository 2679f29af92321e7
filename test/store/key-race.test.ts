/**
 * Two processes opening a new store at once (two `astore migrate`, or serve and a command on first
 * start): each found no key file, generated its own key and renamed it over the other's, and each
 * then recorded its own fingerprint over the other's. One of them went on with a key that no file
 * held any more, and the database could end up recording a key that was lost with it. With two
 * homes, both recorded a key and the later one won, whatever the first had encrypted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseSecretYaml, SECRET_FILE_NAME } from '../../src/auth/index.ts';
import { openStore, recordedFingerprint, STORE_SCHEMA, type Store } from '../../src/store/index.ts';
import { cleanUp } from '../support/cleanup.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase } from '../support/pg.ts';

test('stores opened at once on a new database share one key: the one in the key file and in the database', { timeout: 60_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'astore-keyrace-'));
  const db = await createTestDatabase('keyrace');
  const opened: Store[] = [];
  t.after(() => cleanUp(...opened.map((s) => () => s.close()), () => db.drop(), () => rmSync(home, { recursive: true, force: true })));
  process.env.ASTORE_HOME = home;
  delete process.env.ASTORE_ENCRYPTION_SECRET;
  const results = await Promise.allSettled([1, 2, 3].map(() => openStore({ env: { DATABASE_URL: db.url }, migrate: true, poolSize: 2 })));
  for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
  assert.equal(opened.length, 3, `every open succeeds: ${results.map((r) => r.status === 'rejected' ? (r.reason as Error).message : 'ok').join('; ')}`);
  const inFile = parseSecretYaml(readFileSync(join(home, SECRET_FILE_NAME), 'utf8'), 'key file').fingerprint;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const recorded = await recordedFingerprint(client, STORE_SCHEMA).finally(() => client.end());
  assert.equal(recorded, inFile, 'the database records the key in the file');
  assert.deepEqual(opened.map((s) => s.key.fingerprint), [inFile, inFile, inFile], 'every store runs with that key');
});

test('two homes opening one new database at once: one store gets it, the other is told KEY_MISSING and makes no key', { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'astore-keyrace-'));
  const db = await createTestDatabase('keyrace');
  t.after(() => cleanUp(() => db.drop(), () => rmSync(root, { recursive: true, force: true })));
  const homes = [join(root, 'a'), join(root, 'b')];
  const runs = await Promise.all(homes.map((home) => runAstore(['migrate'], { ASTORE_HOME: home, DATABASE_URL: db.url, ASTORE_ENCRYPTION_SECRET: '' })));
  const won = runs.findIndex((r) => r.code === 0);
  assert.notEqual(won, -1, runs.map((r) => r.output).join('\n'));
  const lost = runs[1 - won]!;
  assert.equal(lost.code, 5, lost.output);
  // It waits for the winner, then finds the database set up with a key its home does not have.
  assert.match(lost.stderr, /error \[KEY_MISSING\]/);
  assert.ok(!existsSync(join(homes[1 - won]!, SECRET_FILE_NAME)), 'no second key is made');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const recorded = await recordedFingerprint(client, STORE_SCHEMA).finally(() => client.end());
  assert.equal(recorded, parseSecretYaml(readFileSync(join(homes[won]!, SECRET_FILE_NAME), 'utf8'), 'winner').fingerprint);
});
