import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyRetention, BACKUP_LOCK, defaultSettings, listBackups, listJobs, runBackupJob } from '../../src/backup/index.ts';
import type { Store } from '../../src/store/index.ts';
import type { TestDatabase } from '../support/pg.ts';
import { slowToDumpStore, waitFor } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-kill-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function waitForLockRelease(store: Store): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = await store.pool.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted
      and database = (select oid from pg_database where datname = current_database())
      and classid::bigint * 4294967296 + objid::bigint = $1`, [BACKUP_LOCK]);
    if (r.rows[0].n === 0) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error('the killed run still holds the backup lock');
}

describe('a backup killed with SIGKILL mid-write', () => {
  let db: TestDatabase;
  let store: Store;
  let home: string;
  before(async () => {
    ({ db, store, home } = await slowToDumpStore('bkkill', root));
  });
  after(async () => { await store.close(); await db.drop(); });

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: db.url, ASTORE_HOME: home, STORE_BACKUP_DIR: join(root, 'backups') });

  it('backup-job: leaves nothing list or retention treats as good; the next run cleans up and records the kill', async () => {
    const dir = join(root, 'backups');
    const child = spawn('bin/astore', ['backup-job'], { env: env(), stdio: 'ignore' });
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((n) => n.includes('.partial-')), 30_000);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const listed = await listBackups(dir);
    assert.ok(listed.length > 0 && listed.every((e) => e.status !== 'good'), JSON.stringify(listed));
    const settings = { ...defaultSettings(), dir };
    // The killed process's session (and its advisory lock) ends once the server sees the socket close.
    await waitForLockRelease(store);
    const r = await runBackupJob({ pool: store.pool, connection: store.connection, settings });
    assert.equal(r.status, 'succeeded', r.log);
    const after = await listBackups(dir);
    assert.deepEqual(after.map((e) => e.status), ['good']);
    assert.deepEqual(readdirSync(dir).sort(), [after[0]!.name, after[0]!.name + '.done']);
    const jobs = await listJobs(store.pool);
    assert.equal(jobs.length, 2);
    assert.equal(jobs[1]!.status, 'failed');
    assert.match(jobs[1]!.log, /interrupted/);
    assert.equal((await applyRetention(dir, settings)).kept.length, 1);
  });

  it('backup -o FILE: the final name never appears', async () => {
    const out = join(root, 'manual', 'store.dump');
    rmSync(join(root, 'manual'), { recursive: true, force: true });
    spawnSync('mkdir', ['-p', join(root, 'manual')]);
    const child = spawn('bin/astore', ['backup', '-o', out], { env: env(), stdio: 'ignore' });
    await waitFor(() => readdirSync(join(root, 'manual')).some((n) => n.includes('.partial-')), 30_000);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(existsSync(out), false);
    assert.ok(readdirSync(join(root, 'manual')).every((n) => n.startsWith('.store.dump.partial-')));
  });
});
