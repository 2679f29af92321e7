/**
 * A CLI command that started the embedded PostgreSQL and is stopped by a signal stops that server
 * too. Before, `astore backup` and `pgmig` exited from their signal handlers at once, and other
 * commands took Node's default action; a SIGTERM to the node process alone (a supervisor, a
 * Kubernetes Job deleted) left the postgres it had started running in ASTORE_HOME with nothing to
 * stop it. A server another process still uses is left running, as on a normal exit.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parse } from 'yaml';
import { openStore } from '../../src/store/index.ts';
import { stopServerIn } from '../support/pg.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'astore');

describe('signals and the embedded server a command started', () => {
  const root = mkdtempSync(join(tmpdir(), 'astore-sigemb-'));
  const home = join(root, 'home');
  const pidFile = join(home, 'pg', 'postmaster.pid');
  const env: NodeJS.ProcessEnv = { ...process.env, ASTORE_HOME: home };
  delete env.DATABASE_URL;

  before(async () => {
    // An embedded store with about 50 MB of incompressible data, so a dump takes a while; closed
    // again, so the command under test starts (and owns) the server.
    const store = await openStore({ env, migrate: true });
    await store.pool.query(`create table public.filler (id int primary key, b bytea)`);
    await store.pool.query(`insert into public.filler select g, decode(string_agg(md5(random()::text), ''), 'hex')
      from generate_series(1, 400) g, generate_series(1, 6250) x group by g`);
    await store.close();
    assert.equal(existsSync(pidFile), false, 'the setup stopped its server');
  });
  after(async () => {
    await stopServerIn(join(home, 'pg'));
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs astore; resolves once `started` holds (and `beforeSignal` is done), then sends `signal`; returns exit code and stderr. */
  async function interrupt(args: string[], stdout: 'ignore' | 'pipe', started: () => boolean, signal: NodeJS.Signals, delayMs = 300, beforeSignal?: () => Promise<void>): Promise<{ code: number | null; stderr: string; child: ChildProcess }> {
    const child = spawn(bin, args, { env, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    for (const deadline = Date.now() + 60_000; !started(); await new Promise((r) => setTimeout(r, 5))) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `the command never got going:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, delayMs));
    await beforeSignal?.();
    child.kill(signal);
    return { code: await exited, stderr, child };
  }

  it('astore backup -o FILE, SIGTERM: the partial file is removed and the server stopped', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(root, 'out-'));
    const r = await interrupt(['backup', '-o', join(dir, 'store.dump')], 'ignore', () => readdirSync(dir).length > 0, 'SIGTERM');
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /interrupted \(SIGTERM\): no backup was written/);
    assert.doesNotMatch(r.stderr, /^error/m, 'the dump failing as its server stops is not reported as well');
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(existsSync(pidFile), false, `the embedded PostgreSQL was left running:\n${r.stderr}`);
  });

  it('astore backup to a stdout nobody reads (no handler of its own), SIGTERM: the server is stopped', { timeout: 120_000 }, async () => {
    // The dump blocks on the full pipe, its COPY session busy: a session of this process all the same.
    const r = await interrupt(['backup'], 'pipe', () => existsSync(pidFile), 'SIGTERM');
    assert.equal(r.code, 143, r.stderr);
    assert.equal(existsSync(pidFile), false, `the embedded PostgreSQL was left running:\n${r.stderr}`);
  });

  it('a command stopped while it is still starting the server stops that server too', { timeout: 120_000 }, async () => {
    // postmaster.pid appears as the server starts: the command is waiting for it to be ready, or
    // connecting, and has not opened its database yet. Before, nothing was there to stop yet, and
    // the command exited leaving the server it had just started running.
    try {
      const r = await interrupt(['instances', 'list'], 'ignore', () => existsSync(pidFile), 'SIGTERM', 0);
      assert.equal(r.code, 143, r.stderr);
      assert.equal(existsSync(pidFile), false, `the embedded PostgreSQL was left running:\n${r.stderr}`);
    } finally {
      await stopServerIn(join(home, 'pg'));
    }
  });

  it('a command on a server another process started, stopped once that process has gone, stops the server as the last one out', { timeout: 120_000 }, async () => {
    const store = await openStore({ env });
    let closed = false;
    try {
      assert.equal(store.embedded?.cluster.owned, true, 'the test process started the server');
      const r = await interrupt(['backup'], 'pipe', () => existsSync(pidFile), 'SIGTERM', 0, async () => {
        // The command's presence session: it is attached. Then its starter leaves first.
        for (const deadline = Date.now() + 60_000; ; await new Promise((res) => setTimeout(res, 50))) {
          const { rowCount } = await store.pool.query(`select 1 from pg_stat_activity where application_name like 'astore presence (pid %' and application_name <> $1`, [`astore presence (pid ${process.pid})`]);
          if (rowCount) break;
          assert.ok(Date.now() < deadline, 'the command never attached');
        }
        await store.close();
        closed = true;
        assert.equal(existsSync(pidFile), true, 'left running for the command');
      });
      assert.equal(r.code, 143, r.stderr);
      // Before, only the process that started the server stopped it, and this one ran on with nobody to stop it.
      assert.equal(existsSync(pidFile), false, `the embedded PostgreSQL was left running:\n${r.stderr}`);
    } finally {
      if (!closed) await store.close();
      await stopServerIn(join(home, 'pg'));
    }
  });

  it('a server another process is connected to is left running', { timeout: 120_000 }, async () => {
    const password = (parse(readFileSync(join(home, 'postgres.yaml'), 'utf8')) as { su_password: string }).su_password;
    let other: pg.Client | undefined;
    let connecting = false;
    try {
      const r = await interrupt(['backup'], 'pipe', () => {
        // postmaster.pid: pid, data dir, start time, port, socket dir, address, shm key, status.
        const lines = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n') : [];
        if (!connecting && lines[7]?.trim() === 'ready') {
          connecting = true;
          const c = new pg.Client({ host: '127.0.0.1', port: Number(lines[3]), user: 'postgres', password, database: 'postgres' });
          void c.connect().then(() => { other = c; });
        }
        return other !== undefined;
      }, 'SIGTERM');
      assert.equal(r.code, 143, r.stderr);
      assert.equal((await other!.query('select 1 as one')).rows[0].one, 1, 'the server still answers the other process');
      assert.equal(existsSync(pidFile), true);
    } finally {
      await other?.end();
      await stopServerIn(join(home, 'pg'));
    }
  });
});
