import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase } from '../support/pg.ts';

test('the test harness gives a real PostgreSQL database', async () => {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const r = await client.query<{ v: string }>('select current_setting($$server_version$$) as v');
  await client.end();
  await db.drop();
  assert.match(r.rows[0]!.v, /^15\./);
});

/** Runs close-child.ts; returns its admin URL and a function that closes it and waits for its exit. */
async function childUsingServer(home: string): Promise<{ url: string; owned: boolean; close(): Promise<{ code: number | null; out: string }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/close-child.ts'], { env: { ...process.env, ASTORE_HOME: home }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const [url, owned] = await new Promise<[string, boolean]>((resolve, reject) => {
    child.stdout.on('data', () => { const m = /^ready (\S+) (true|false)$/m.exec(out); if (m) resolve([m[1]!, m[2] === 'true']); });
    void exited.then((code) => reject(new Error(`close-child exited ${code}: ${out}`)));
  });
  return {
    url, owned,
    async close() {
      child.stdin.end('go\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, out };
    },
  };
}

test('a process that started the embedded server stops it when done, or leaves it to another process still connected — and exits either way', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'astore-close-'));
  const pidFile = join(home, 'pg', 'postmaster.pid');
  try {
    const alone = await childUsingServer(home);
    assert.equal(alone.owned, true, 'it started the server');
    const r1 = await alone.close();
    assert.equal(r1.code, 0, r1.out);
    assert.match(r1.out, /closed/);
    assert.ok(!existsSync(pidFile), 'nobody else was connected: the server is stopped');

    const shared = await childUsingServer(home);
    assert.equal(shared.owned, true);
    const other = new pg.Client({ connectionString: shared.url });
    await other.connect();
    try {
      const started = Date.now();
      const r2 = await shared.close();
      assert.equal(r2.code, 0, `it exited (${r2.out})`);
      assert.ok(Date.now() - started < 25_000, 'without waiting for the other session');
      assert.ok(existsSync(pidFile), 'the server is left running for the other session');
      assert.equal((await other.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await other.end();
    }
  } finally {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 200 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(home, { recursive: true, force: true });
  }
});

test('run as root, the embedded server gets search permission on its data directory\'s parents and nothing else changes', { timeout: 120_000, skip: process.getuid?.() !== 0 && 'only root hands the server to another user' }, async () => {
  const { chmodSync, mkdirSync, statSync } = await import('node:fs');
  const { startCluster } = await import('../../src/store/index.ts');
  const root = mkdtempSync(join(tmpdir(), 'astore-perm-'));
  const tmpMode = statSync(tmpdir()).mode & 0o7777;
  try {
    const inner = join(root, 'private');
    mkdirSync(inner);
    chmodSync(root, 0o700);
    chmodSync(inner, 0o750);
    const cluster = await startCluster({ dataDir: join(inner, 'pg'), password: 'x', port: 0 });
    await cluster.stop();
    assert.equal(statSync(inner).mode & 0o7777, 0o751, 'search permission added, read not');
    assert.equal(statSync(root).mode & 0o7777, 0o711);
    assert.equal(statSync(tmpdir()).mode & 0o7777, tmpMode, `${tmpdir()} keeps its mode (it used to lose its sticky bit)`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
