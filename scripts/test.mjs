#!/usr/bin/env node
// Runs every test file under test/ with node's test runner. One real PostgreSQL server (the
// embedded one from npm) is started for the whole run; each test file creates its own
// databases on it, and tests that need a special server (TLS, crash) start their own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { startCluster } = await import('../src/store/embedded.ts');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = findTests('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const root = mkdtempSync(join(tmpdir(), 'astore-test-'));
let cluster;
try {
  cluster = await startCluster({ dataDir: join(root, 'pg'), password: 'test-password', port: 0 });
} catch (err) {
  rmSync(root, { recursive: true, force: true });
  throw err;
}
console.log(`test PostgreSQL on 127.0.0.1:${cluster.port} (${root})`);

const child = spawn(process.execPath, [
  '--test', '--import', 'tsx', '--test-concurrency=2', '--test-reporter=spec',
  ...files.map((f) => relative(process.cwd(), f)),
], { stdio: 'inherit', env: { ...process.env, ASTORE_TEST_PG_URL: cluster.url('postgres') } });

// Interrupted (Ctrl-C, kill): the test runner gets the signal (a second one kills it) and is
// waited for, then the server is stopped and its folder removed as after a normal run; the
// folder, and the server when the signal reached this process alone, used to stay behind.
let interrupted;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    child.kill(interrupted ? 'SIGKILL' : signal);
    interrupted ??= signal;
  });
}

const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await cluster.stop();
rmSync(root, { recursive: true, force: true });
process.exit(interrupted ? 128 + constants.signals[interrupted] : code);
