/**
 * Real PostgreSQL for tests. `scripts/test.mjs` starts one server for the run and passes its
 * admin URL in ASTORE_TEST_PG_URL; a test file run on its own starts a private server instead.
 * Each call to `createTestDatabase` makes a fresh, uniquely named database.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster, type RunningCluster } from '../../src/store/embedded.ts';

let privateCluster: Promise<RunningCluster> | undefined;

/** Admin URL (database `postgres`) of the test server. */
export async function adminUrl(): Promise<string> {
  const shared = process.env.ASTORE_TEST_PG_URL;
  if (shared) return shared;
  privateCluster ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), 'astore-pg-'));
    let c: RunningCluster;
    try {
      c = await startCluster({ dataDir: join(root, 'pg'), password: 'test-password', port: 0 });
    } catch (err) {
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
    // The server must outlive every test and after hook of the file. An `after` registered here
    // belonged to whichever hook or test first asked for the server and ran as soon as that one
    // ended: the server stopped under the file's remaining tests, whose after hooks then failed
    // (ECONNREFUSED) before removing their folders. Unreferenced, the server does not keep the
    // process alive, and 'beforeExit' comes once everything else is done; the interval keeps
    // the process alive until the server has stopped.
    c.detach();
    process.once('beforeExit', () => {
      const keepAlive = setInterval(() => {}, 1 << 30);
      void c.stop().finally(() => {
        clearInterval(keepAlive);
        rmSync(root, { recursive: true, force: true });
      });
    });
    return c;
  })();
  return (await privateCluster).url('postgres');
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

/** A fresh database on the test server, or on the server of `admin` (another PostgreSQL version). */
export async function createTestDatabase(prefix = 't', admin?: string): Promise<TestDatabase> {
  admin ??= await adminUrl();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const db: TestDatabase = {
    name,
    url: withDatabase(admin, name),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try { await c.query(`drop database if exists "${name}" with (force)`); } finally { await c.end(); }
    },
  };
  return db;
}

/** Path to ../shared beside the checkout, or undefined: tests using it then say they skip that part. */
export function sharedDir(): string | undefined {
  const dir = process.env.ASTORE_SHARED_DIR ?? join(process.cwd(), '..', 'shared');
  return existsSync(dir) ? dir : undefined;
}

/** One statement on its own connection (role and database set-up in tests). */
export async function sqlAt(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return await c.query(text); } finally { await c.end(); }
}

/** `url` with another role's credentials. */
export function asRole(url: string, role: string, password: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = password;
  return u.toString();
}

/**
 * Stops a PostgreSQL still running on `dataDir`, for the cleanup of tests whose server was
 * started by a child process (`astore serve`, a CLI command) that may have failed or been killed
 * without stopping it: removing the folder alone would leave the server running. A fast shutdown
 * (SIGINT), then SIGKILL if it is not gone within a minute.
 */
export async function stopServerIn(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return; // no server ever ran here, or it stopped cleanly
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  // A pid file left by a killed server may name a pid reused since: only the postmaster of this
  // data directory (its command line names it) is signalled.
  const ours = (): boolean => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir); } catch { return false; }
  };
  if (!ours()) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (ours()) {
    if (Date.now() > deadline) { process.kill(pid, 'SIGKILL'); return; }
    await new Promise((r) => setTimeout(r, 50));
  }
}
