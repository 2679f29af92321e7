import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { findRunningCluster, openDatabase, startCluster, type RunningCluster } from '../../src/store/index.ts';
import { withHomeLock } from '../../src/store/home-lock.ts';
import { createTestDatabase, stopServerIn } from '../support/pg.ts';

test('the test harness gives a real PostgreSQL database', async () => {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const r = await client.query<{ v: string }>('select current_setting($$server_version$$) as v');
  await client.end();
  await db.drop();
  assert.match(r.rows[0]!.v, /^15\./);
});

/**
 * Runs close-child.ts; returns its admin URL and a function that closes it and waits for its exit.
 * The child is added to `children`, for the test's cleanup to kill if the test ends first.
 */
async function childUsingServer(home: string, children: ChildProcess[]): Promise<{ url: string; owned: boolean; pid: number; stderr(): string; close(): Promise<{ code: number | null; out: string }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/close-child.ts'], { env: { ...process.env, ASTORE_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); process.stderr.write(d); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const [url, owned] = await new Promise<[string, boolean]>((resolve, reject) => {
    child.stdout.on('data', () => { const m = /^ready (\S+) (true|false)$/m.exec(out); if (m) resolve([m[1]!, m[2] === 'true']); });
    void exited.then((code) => reject(new Error(`close-child exited ${code}: ${out}`)));
  });
  return {
    url, owned, pid: child.pid!,
    stderr: () => err,
    async close() {
      child.stdin.end('go\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, out };
    },
  };
}

/**
 * A fresh home, and the children spawned with it. Also when an assertion fails: a child still
 * waiting for its line is killed, the server left running (by the second child, or by a killed
 * one) is stopped, then the home removed. A child left waiting kept the test file from ending,
 * and the server was given 10 s to stop before its folder was removed under it.
 */
function scratchHome(t: TestContext): { home: string; pidFile: string; children: ChildProcess[] } {
  const home = mkdtempSync(join(tmpdir(), 'astore-close-'));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    await stopServerIn(join(home, 'pg'));
    rmSync(home, { recursive: true, force: true });
  });
  return { home, pidFile: join(home, 'pg', 'postmaster.pid'), children };
}

test('a process that started the embedded server stops it when done, or leaves it to another process still connected — and exits either way', { timeout: 120_000 }, async (t) => {
  const { home, pidFile, children } = scratchHome(t);
  const alone = await childUsingServer(home, children);
  assert.equal(alone.owned, true, 'it started the server');
  // The server logs values a constraint refused (tenants' text): not for other local users.
  assert.equal(statSync(join(home, 'postgres.log')).mode & 0o777, 0o600);
  const r1 = await alone.close();
  assert.equal(r1.code, 0, r1.out);
  assert.match(r1.out, /closed/);
  assert.ok(!existsSync(pidFile), 'nobody else was connected: the server is stopped');

  const shared = await childUsingServer(home, children);
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
});

/**
 * An attached process whose pool has gone idle (its sessions close after 10 s: a command waiting
 * on its operator) still counts as using the server: the process that started the server saw no
 * session of it, stopped the server, and the waiting command's next query failed.
 */
test('the server is left running for an attached process whose pool has gone idle, which stops it when it is done', { timeout: 120_000 }, async (t) => {
  const { home, pidFile, children } = scratchHome(t);
  const owner = await openDatabase({ env: { ASTORE_HOME: home } });
  let ownerClosed = false;
  t.after(async () => { if (!ownerClosed) await owner.close(); });
  assert.equal(owner.embedded?.cluster.owned, true);
  const attached = await childUsingServer(home, children);
  assert.equal(attached.owned, false);
  // node-postgres's pool closes a session idle for 10 s (idleTimeoutMillis).
  await new Promise((r) => setTimeout(r, 11_000));
  const { rows } = await owner.pool.query<{ n: string }>(
    'select count(*) as n from pg_stat_activity where application_name like $1', [`% (pid ${attached.pid})`]);
  assert.equal(Number(rows[0]!.n), 1, 'its pool has closed its idle session; one session says it is there');
  await owner.close();
  ownerClosed = true;
  assert.ok(existsSync(pidFile), 'the server is left running for the attached process');
  const r = await attached.close();
  assert.equal(r.code, 0, r.out);
  // Before, only the process that started a server stopped it: this one ran on with nobody to stop it.
  assert.ok(!existsSync(pidFile), 'the last process out stops the server, though it did not start it');
});

/**
 * The owner stops its server under the home's lock, which a process attaching holds from finding
 * the server until its first session is open: the owner used to look for other sessions and stop
 * the server while such a process was in between, and that process's first query failed.
 */
test('the owner does not stop the server while another process holds the home lock, and then sees it', { timeout: 120_000 }, async (t) => {
  const { home, pidFile } = scratchHome(t);
  const owner = await openDatabase({ env: { ASTORE_HOME: home } });
  assert.equal(owner.embedded?.cluster.owned, true);
  const url = owner.embedded!.cluster.url('postgres');
  const other = new pg.Client({ connectionString: url, application_name: 'another process' });
  other.on('error', () => {}); // the cleanup stops the server under it
  t.after(() => other.end().catch(() => {}));
  let closing: Promise<void> | undefined;
  await withHomeLock(home, async () => {
    closing = owner.close();
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(existsSync(pidFile), 'not stopped while the lock is held');
    await other.connect();
  });
  await closing;
  assert.ok(existsSync(pidFile), 'left running for the process that connected meanwhile');
  assert.equal((await other.query('select 1 as one')).rows[0].one, 1);
});

/** `fn`'s result once it stops throwing; its last error after `ms`. */
async function eventually<T>(fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const postmasterPid = (pidFile: string): number => Number(readFileSync(pidFile, 'utf8').split('\n')[0]);

/**
 * A first start that fails (here initdb, its data directory's name taken by a file; in life a
 * full disk, a failed initdb) must leave a home the next run can use once the cause is gone. It
 * left a postgres.yaml with port 0, which every later run refused as CONFIG_INVALID.
 */
test('a home whose first start failed starts once the cause is removed', { timeout: 120_000 }, async (t) => {
  const { home } = scratchHome(t);
  writeFileSync(join(home, 'pg'), 'in the way of the data directory');
  // Bad input named, with what to do (it was a bare ENOTDIR, which the CLI printed with a stack trace).
  await assert.rejects(openDatabase({ env: { ASTORE_HOME: home } }), (e: any) =>
    e.code === 'HOME_UNUSABLE' && e.exitCode === 2 && /data directory .*pg: ENOTDIR/.test(e.message) && /move aside or remove what is at/.test(e.hint));
  rmSync(join(home, 'pg'));
  const db = await openDatabase({ env: { ASTORE_HOME: home } });
  try {
    assert.equal((await db.pool.query<{ one: number }>('select 1 as one')).rows[0]!.one, 1);
  } finally {
    await db.close();
  }
});

/**
 * A process stopping a server it found running signals the postmaster named in postmaster.pid:
 * only if that process runs in the data directory. A pid from another machine sharing the home,
 * or reused since, belongs to some other process, which must not be sent the signal.
 */
test('stopping a found server signals only a process running in its data directory', { timeout: 60_000 }, async (t) => {
  const { home } = scratchHome(t);
  const dataDir = join(home, 'pg');
  mkdirSync(dataDir);
  const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => { bystander.kill('SIGKILL'); });
  await new Promise((r) => bystander.once('spawn', r));
  // postmaster.pid: pid, data dir, start time, port, socket dir, address, shm key, status.
  writeFileSync(join(dataDir, 'postmaster.pid'), [bystander.pid, dataDir, '0', '5432', '', '127.0.0.1', '0', 'ready', ''].join('\n'));
  const found = findRunningCluster(dataDir, 'unused');
  assert.equal(found?.pid, bystander.pid, 'postmaster.pid is read as a running server');
  await found!.stop();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(bystander.exitCode, null, 'the other process was not signalled');
  assert.equal(bystander.signalCode, null, 'the other process was not signalled');
  rmSync(join(dataDir, 'postmaster.pid'));
});

/**
 * The server dies under the process that started it (killed: a crash, the OOM killer): that
 * process starts it again on the same data, and its pool goes on; closing still stops it.
 * Before, its queries failed until someone started the server by hand.
 */
test('a killed server is started again by the process that uses it, with its data, and still stopped when it closes', { timeout: 120_000 }, async (t) => {
  const { home, pidFile } = scratchHome(t);
  const db = await openDatabase({ env: { ASTORE_HOME: home } });
  let closed = false;
  t.after(async () => { if (!closed) await db.close(); });
  await db.pool.query('create table kept (x int); insert into kept values (42)');
  const first = postmasterPid(pidFile);
  process.kill(first, 'SIGKILL');
  // The killed server's backends may answer a query or two before they notice: wait for the new one.
  const { rows } = await eventually(async () => {
    assert.notEqual(postmasterPid(pidFile), first, 'another server runs on the same data');
    return db.pool.query<{ x: number }>('select x from kept');
  });
  assert.equal(rows[0]!.x, 42);
  assert.equal(db.embedded!.cluster.owned, true, 'this process started it');
  await db.close();
  closed = true;
  assert.ok(!existsSync(pidFile), 'and stopped it when done');
});

/**
 * Only the presence session ends (a backend killed, or the postmaster's crash recovery ending every
 * session): the process attaches again to the same server and still counts as its starter. It
 * took the running server for another process's, never stopped it, and its child process kept it
 * from exiting (`serve` hung on SIGTERM).
 */
test('a process whose presence session was ended on a server it started attaches again, and still stops that server', { timeout: 120_000 }, async (t) => {
  const { home, pidFile } = scratchHome(t);
  const db = await openDatabase({ env: { ASTORE_HOME: home } });
  let closed = false;
  t.after(async () => { if (!closed) await db.close(); });
  const presence = `astore presence (pid ${process.pid})`;
  const first = postmasterPid(pidFile);
  await db.pool.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [presence]);
  await eventually(async () => {
    const r = await db.pool.query('select 1 from pg_stat_activity where application_name = $1', [presence]);
    assert.equal(r.rowCount, 1, 'attached again');
  });
  assert.equal(postmasterPid(pidFile), first, 'the same server');
  assert.equal(db.embedded!.cluster.owned, true, 'still the one that started it');
  await db.close();
  closed = true;
  assert.ok(!existsSync(pidFile), 'and stopped it when done');
});

/**
 * The server stops under a running process (serve) and a CLI command starts it again — or the
 * running process does, whichever comes first. Either way the command, when done, leaves it to
 * the running process: before, that process's presence session was not reopened, so the command
 * saw nobody else on the server and stopped it, and serve answered 503 from then on.
 */
test('after the server was stopped under it, a running process is seen again: a command leaves the server to it', { timeout: 120_000 }, async (t) => {
  const { home, pidFile, children } = scratchHome(t);
  const db = await openDatabase({ env: { ASTORE_HOME: home } });
  let closed = false;
  t.after(async () => { if (!closed) await db.close(); });
  await stopServerIn(join(home, 'pg'));
  const command = await childUsingServer(home, children);
  const admin = new pg.Client({ connectionString: command.url });
  await admin.connect();
  try {
    await eventually(async () => {
      const r = await admin.query('select 1 from pg_stat_activity where application_name = $1', [`astore presence (pid ${process.pid})`]);
      assert.equal(r.rowCount, 1, 'the running process is attached again');
    });
  } finally {
    await admin.end();
  }
  const r = await command.close();
  assert.equal(r.code, 0, r.out);
  assert.ok(existsSync(pidFile), 'the command left the server running');
  assert.equal((await db.pool.query<{ one: number }>('select 1 as one')).rows[0]!.one, 1);
  assert.notEqual(db.embedded!.cluster.owned, command.owned, 'one of the two started it');
  await db.close();
  closed = true;
  assert.ok(!existsSync(pidFile), 'the last process out stops it, whichever started it');
});

/**
 * The server goes away and the home is set up anew meanwhile (another cluster on the same port,
 * same password): the process that used the old one must not attach to it, as its pool was made
 * for another store. Before, its presence sat on the new cluster (which its starter then never
 * stopped) and serve answered 503 with nothing said.
 */
test('a process whose home was set up anew while its server was gone refuses the new cluster and says so', { timeout: 120_000 }, async (t) => {
  const { home, children } = scratchHome(t);
  const running = await childUsingServer(home, children);
  const creds = parse(readFileSync(join(home, 'postgres.yaml'), 'utf8')) as { su_password: string; port: number };
  let replacement: RunningCluster | undefined;
  t.after(async () => { await replacement?.stop(); });
  // Under the home's lock, so the running process cannot start the old cluster again meanwhile.
  await withHomeLock(home, async () => {
    await stopServerIn(join(home, 'pg'));
    renameSync(join(home, 'pg'), join(home, 'pg.old'));
    replacement = await startCluster({ dataDir: join(home, 'pg'), password: creds.su_password, port: creds.port, logFile: join(home, 'postgres.log') });
  });
  await eventually(async () => assert.match(running.stderr(), /now holds another PostgreSQL cluster/));
  const admin = new pg.Client({ connectionString: replacement!.url('postgres') });
  await admin.connect();
  try {
    // It keeps trying (every 5 s at most): it stays off the new cluster all the while.
    for (let i = 0; i < 3; i++) {
      const r = await admin.query('select 1 from pg_stat_activity where application_name like $1', [`% (pid ${running.pid})`]);
      assert.equal(r.rowCount, 0, 'no session of the process on the new cluster');
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await admin.end();
  }
  const r = await running.close();
  assert.equal(r.code, 0, r.out);
  assert.ok(existsSync(join(home, 'pg', 'postmaster.pid')), 'its close left the new cluster alone');
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
