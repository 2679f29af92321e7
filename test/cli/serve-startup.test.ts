/**
 * `astore serve` that cannot start exits with the error's code instead of hanging with the error
 * printed (worker threads, pool and timers kept the process alive, so a Kubernetes pod stayed
 * Running instead of crash-looping).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runAstore } from '../support/cli.ts';
import { cleanUp } from '../support/cleanup.ts';


describe('serve startup failures', () => {
  let db: TestDatabase;
  let home: string;

  before(async () => {
    db = await createTestDatabase('serve');
    home = mkdtempSync(join(tmpdir(), 'astore-serve-'));
  });
  after(() => cleanUp(() => db.drop(), () => rmSync(home, { recursive: true, force: true })));

  /** Runs serve to its exit; a process still running after `ms` is killed and the test fails. */
  const serve = async (args: string[], extraEnv: NodeJS.ProcessEnv, ms = 30_000): Promise<{ code: number | null; stderr: string }> => {
    const r = await runAstore(['serve', '--training-threads', '1', ...args], { ASTORE_HOME: home, DATABASE_URL: db.url, LOG_LEVEL: 'warn', ...extraEnv }, ms);
    if (r.timedOut) assert.fail(`serve still running after ${ms} ms:\n${r.output}`);
    return { code: r.code, stderr: r.output };
  };

  test('a bad AUTO_RETRAIN_ALL_CRON_SCHEDULE', { timeout: 60_000 }, async () => {
    const r = await serve(['--port', '0'], { AUTO_RETRAIN_ALL_ENABLED: 'true', AUTO_RETRAIN_ALL_CRON_SCHEDULE: 'bad' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error \[CRON_INVALID\]: AUTO_RETRAIN_ALL_CRON_SCHEDULE: Invalid schedule "bad"/);
    assert.match(r.stderr, /hint: /);
  });

  test('a port already in use', { timeout: 60_000 }, async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await serve(['--host', '127.0.0.1', '--port', String(port)], {});
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`error \\[LISTEN_FAILED\\]: cannot listen on 127.0.0.1:${port}: the address is already in use`));
      assert.match(r.stderr, /hint: .*--port/);
    } finally {
      busy.close();
    }
  });

  test('a --host that names no address: bad input with a hint about --host, not the file-path hint', { timeout: 60_000 }, async () => {
    const r = await serve(['--host', '256.1.1.1', '--port', '0'], {});
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error \[LISTEN_FAILED\]: cannot listen on 256\.1\.1\.1:0: no address of that name \((ENOTFOUND|EAI_AGAIN)\)\nhint: --host \/ HOST is an address of this machine/);
  });
});
