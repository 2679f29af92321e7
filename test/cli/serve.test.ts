/**
 * The quick start: `astore serve` on a fresh ASTORE_HOME brings up the embedded PostgreSQL,
 * prints its URL and next steps; CLI commands find that server while it runs, and start (then
 * stop) it themselves when it does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopServerIn } from '../support/pg.ts';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'astore');

test('serve on the embedded PostgreSQL, CLI with and without a running server', { timeout: 120_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'astore-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ASTORE_HOME: home, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const serve = spawn(bin, ['serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const serveExited = new Promise<void>((resolve) => serve.once('exit', () => resolve()));
  // Also when an assertion fails: serve stopped (it stops the server it started), a server left
  // running in the home stopped, and only then the home removed. This ran at the end of the test
  // body, so a failure left the home behind, with serve and the embedded PostgreSQL running.
  t.after(async () => {
    if (serve.exitCode === null && serve.signalCode === null) {
      serve.kill('SIGTERM');
      const killer = setTimeout(() => serve.kill('SIGKILL'), 30_000);
      await serveExited;
      clearTimeout(killer);
    }
    await stopServerIn(join(home, 'pg'));
    rmSync(home, { recursive: true, force: true });
  });
  let out = '';
  serve.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  serve.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 90_000);
    serve.stdout.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && /tokens create/.test(out)) { clearTimeout(timer); resolve(m[1]!); }
    });
    serve.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
  });
  assert.match(out, /embedded PostgreSQL/);
  // The printed commands name this store's home, so they work from another shell.
  assert.ok(out.includes(`ASTORE_HOME=${home} bin/astore instances create`), out);
  assert.equal((await fetch(`${url}/health`)).status, 200);

  const instance = (await run(bin, ['instances', 'create', '--name', 'first', '--owner', 'admin'], { env })).stdout.trim();
  assert.match(instance, /^[0-9a-f-]{36}$/);
  const token = (await run(bin, ['tokens', 'create', '--user', 'admin'], { env })).stdout.trim();
  const list = await fetch(`${url}/instances/${instance}/api/v1/workspaces?version=2021-11-27`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(list.status, 200);
  const info = (await run(bin, ['db', 'info'], { env })).stdout;
  assert.match(info, /su_password: /);

  serve.kill('SIGTERM');
  await serveExited;
  assert.ok(!existsSync(join(home, 'pg', 'postmaster.pid')), 'embedded PostgreSQL stopped with serve');

  const listed = JSON.parse((await run(bin, ['instances', 'list', '--json'], { env })).stdout) as Array<{ id: string; name: string }>;
  assert.deepEqual(listed.map((i) => [i.id, i.name]), [[instance, 'first']]);
  assert.ok(!existsSync(join(home, 'pg', 'postmaster.pid')), 'a CLI command stops the server it started');

  const bad = await run(bin, ['tokens', 'revoke', 'nope'], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 2);
  assert.match((bad as { stderr: string }).stderr, /TOKEN_NOT_FOUND/);
});
