/**
 * `astore serve` on the embedded PostgreSQL stops the server it started however it is stopped
 * itself. It did not when SIGTERM came during startup (Node's default action ended serve at once:
 * its listeners were added only after the banner, so even a SIGTERM sent on seeing the banner
 * could come too early), nor when its stdout reader had gone: the "shutting down" line failed with
 * EPIPE and the CLI exited at once. Either way a postgres process was left running, its data
 * directory in ASTORE_HOME, with nothing to stop it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopServerIn } from '../support/pg.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'astore');

/** serve on a fresh home; `t.after` kills it, stops a server it left and removes the home. */
function startServe(t: TestContext): { home: string; serve: ChildProcessWithoutNullStreams; exited: Promise<number | null>; output: () => string } {
  const home = mkdtempSync(join(tmpdir(), 'astore-stop-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ASTORE_HOME: home, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const serve = spawn(bin, ['serve', '--port', '0', '--training-threads', '0'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
  t.after(async () => {
    serve.kill('SIGKILL');
    await exited;
    await stopServerIn(join(home, 'pg'));
    rmSync(home, { recursive: true, force: true });
  });
  let out = '';
  serve.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  serve.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { home, serve, exited, output: () => out };
}

test('SIGTERM while serve starts up: it finishes starting, then stops the embedded server and exits 0', { timeout: 120_000 }, async (t) => {
  const { home, serve, exited, output } = startServe(t);
  // As soon as the server is up: serve is still creating its database and migrating.
  const pidFile = join(home, 'pg', 'postmaster.pid');
  for (const deadline = Date.now() + 90_000; !existsSync(pidFile); await new Promise((r) => setTimeout(r, 2))) {
    assert.ok(Date.now() < deadline && serve.exitCode === null, `the embedded server never started:\n${output()}`);
  }
  serve.kill('SIGTERM');
  assert.equal(await exited, 0, output());
  assert.ok(!existsSync(pidFile), `the embedded PostgreSQL stopped with serve:\n${output()}`);
  assert.match(output(), /SIGTERM received while starting: stopping once started \(send it again to end at once\)/);
});

test('serve whose stdout reader has gone, then SIGTERM: exit 0 and the embedded server is stopped', { timeout: 120_000 }, async (t) => {
  const { home, serve, exited, output } = startServe(t);
  await new Promise<void>((resolve, reject) => {
    serve.stdout.on('data', () => { if (/tokens create/.test(output())) resolve(); });
    void exited.then((code) => reject(new Error(`serve exited ${code}:\n${output()}`)));
  });
  assert.ok(existsSync(join(home, 'pg', 'postmaster.pid')), 'serve started the embedded server');
  serve.stdout.destroy(); // the reader goes away: serve's next line ("shutting down") fails with EPIPE
  serve.kill('SIGTERM');
  assert.equal(await exited, 0, output());
  assert.doesNotMatch(output(), /error/i);
  assert.ok(!existsSync(join(home, 'pg', 'postmaster.pid')), 'the embedded PostgreSQL stopped with serve');
});
