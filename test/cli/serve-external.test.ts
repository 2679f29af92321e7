/**
 * `astore serve` against an external PostgreSQL (DATABASE_URL) with its own ASTORE_HOME, and the
 * commands its banner prints run from another shell. The home holds the encryption key even when
 * the database is elsewhere, so the printed commands must name it (they did only for the
 * embedded server): run without it they fail with KEY_MISSING, whose message used to claim
 * encrypted data the database did not have and whose hint did not mention ASTORE_HOME.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runAstore } from '../support/cli.ts';
import { cleanUp } from '../support/cleanup.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'astore');

describe('serve on DATABASE_URL, commands from another shell', () => {
  let db: TestDatabase;
  let dir: string;

  before(async () => {
    db = await createTestDatabase('ext');
    dir = mkdtempSync(join(tmpdir(), 'astore-ext-serve-'));
  });
  after(() => cleanUp(() => db.drop(), () => rmSync(dir, { recursive: true, force: true })));

  /** Starts serve, returns its banner once printed, and stops it. */
  async function banner(env: NodeJS.ProcessEnv): Promise<string> {
    const serve = spawn(bin, ['serve', '--port', '0', '--training-threads', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const serveExited = new Promise<void>((resolve) => serve.once('exit', () => resolve()));
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 90_000);
        const onData = (d: Buffer): void => {
          out += d.toString();
          if (/BearerTokenAuthenticator/.test(out)) { clearTimeout(timer); resolve(); }
        };
        serve.stdout.on('data', onData);
        serve.stderr.on('data', onData);
        serve.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
      });
    } finally {
      // Waited for: the after hook removes the home, and serve still shutting down could write
      // into it again (or, if it hangs, keep running after the test).
      serve.kill('SIGTERM');
      const killer = setTimeout(() => serve.kill('SIGKILL'), 30_000);
      await serveExited;
      clearTimeout(killer);
    }
    return out;
  }

  test('the banner names the home; a command without it says where the key is', { timeout: 120_000 }, async () => {
    const home = join(dir, 'home');
    const env = { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    const out = await banner(env);
    assert.ok(out.includes(`ASTORE_HOME=${home} bin/astore instances create`), out);
    assert.match(out, /create an instance and a token \(with the same DATABASE_URL\):/);
    assert.ok(!out.includes(new URL(db.url).password || '\u0000'), 'the banner does not print the password');

    // The same command from another folder, with DATABASE_URL but not the store's home.
    const elsewhere = await runAstore(['instances', 'list'], { ASTORE_HOME: join(dir, 'other'), DATABASE_URL: db.url });
    assert.equal(elsewhere.code, 5, elsewhere.output);
    assert.match(elsewhere.stderr, /error \[KEY_MISSING\]: the encryption key file .*other.* is missing, but this database was set up with key sha256:/);
    assert.doesNotMatch(elsewhere.stderr, /holds data encrypted/);
    assert.match(elsewhere.stderr, /hint: run it with the store's ASTORE_HOME/);

    const same = await runAstore(['instances', 'list'], { ASTORE_HOME: home, DATABASE_URL: db.url });
    assert.equal(same.code, 0, same.output);

    // A store with instances (restarted, or restored) is not told to create one: a token of an owner is what it needs.
    const created = await runAstore(['instances', 'create', '--name', 'shop', '--owner', 'ops-team'], { ASTORE_HOME: home, DATABASE_URL: db.url });
    assert.equal(created.code, 0, created.output);
    const again = await banner(env);
    assert.match(again, /1 instance\(s\); list them, and create a token for an owner \(with the same DATABASE_URL\):/);
    assert.ok(again.includes(`ASTORE_HOME=${home} bin/astore instances list\n`), again);
    assert.ok(again.includes(`ASTORE_HOME=${home} bin/astore tokens create --user ops-team\n`), again);
    assert.doesNotMatch(again, /instances create/);
  });
});
