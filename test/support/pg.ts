/**
 * Real PostgreSQL for tests. `scripts/test.mjs` starts one server for the run and passes its
 * admin URL in ASTORE_TEST_PG_URL; a test file run on its own starts a private server instead.
 * Each call to `createTestDatabase` makes a fresh, uniquely named database.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { startCluster, type RunningCluster } from '../../src/store/embedded.ts';

let privateCluster: Promise<RunningCluster> | undefined;

/** Admin URL (database `postgres`) of the test server. */
export async function adminUrl(): Promise<string> {
  const shared = process.env.ASTORE_TEST_PG_URL;
  if (shared) return shared;
  privateCluster ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), 'astore-pg-'));
    const c = await startCluster({ dataDir: join(root, 'pg'), password: 'test-password', port: 0 });
    after(async () => { await c.stop(); rmSync(root, { recursive: true, force: true }); });
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

export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const admin = await adminUrl();
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
