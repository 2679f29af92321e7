/**
 * backup-job failures end the run at once and say what to do: a backup directory that cannot be
 * created (which sent Node's recursive mkdir into an endless loop under /proc) fails naming the
 * directory and the setting, and the job is recorded failed; so does one that exists but takes no
 * files (ARCHIVE_WRITE_FAILED had no hint); a failure without a hint of its own still gets one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const dir = mkdtempSync(join(tmpdir(), 'astore-jobfail-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('backup-job failures', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const astore = (args: string[], extra: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['bin/astore', ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 30_000 });
  const lastJob = (): { id: string; status: string; finishedAt: string | null; log: string } => {
    const r = astore(['backups', 'jobs', '--json'], {});
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout)[0];
  };

  before(async () => {
    db = await createTestDatabase('bkjobfail');
    const home = mkdtempSync(join(dir, 'home-'));
    process.env.ASTORE_HOME = home;
    const s = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await s.close();
    env = { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url };
    delete env.STORE_BACKUP_ENGINE;
  });
  after(async () => { await db.drop(); });

  for (const [what, backupDir] of [['under /proc', '/proc/nope/backups'], ['under a regular file', join(dir, 'a-file', 'backups')]] as const) {
    it(`a backup directory ${what} fails at once, naming it and the setting, and the job is recorded failed`, () => {
      writeFileSync(join(dir, 'a-file'), 'not a directory');
      const started = Date.now();
      const r = astore(['backup-job'], { STORE_BACKUP_DIR: backupDir });
      assert.equal(r.error, undefined, 'backup-job did not finish within 30 s');
      assert.ok(Date.now() - started < 20_000);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`error \\[BACKUP_JOB_FAILED\\].*cannot create backup directory ${backupDir}: E[A-Z]+`));
      assert.match(r.stderr, /hint: set store\.backup\.dir \(or STORE_BACKUP_DIR\) to a directory/);
      const job = lastJob();
      assert.equal(job.status, 'failed');
      assert.ok(job.finishedAt);
      assert.match(job.log, /cannot create backup directory/);
    });
  }

  it('a backup directory that exists but takes no files: the hint says the directory and the setting', () => {
    // /proc exists, but no file can be created in it (as a directory without write permission).
    const job = astore(['backup-job'], { STORE_BACKUP_DIR: '/proc' });
    assert.equal(job.status, 1, job.stderr);
    assert.match(job.stderr, /error \[BACKUP_JOB_FAILED\].*cannot create archive \/proc\/\.store\.dump_/);
    assert.match(job.stderr, /hint: the directory \/proc must exist .*writable by this process.*store\.backup\.dir \/ STORE_BACKUP_DIR/);
    assert.equal(lastJob().status, 'failed');
    const once = astore(['backup', '-o', '/proc/store.dump'], {});
    assert.equal(once.status, 1, once.stderr);
    assert.match(once.stderr, /error \[ARCHIVE_WRITE_FAILED\]: cannot create archive \/proc\//);
    assert.match(once.stderr, /hint: the directory \/proc must exist .*astore backup -o FILE/);
  });

  it('a failure without a hint of its own gets one pointing at the job log', () => {
    // A pg_dump that fails: BACKUP_DUMP_FAILED passes on pg_dump's stderr and has no hint.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump: error: out of luck" >&2\nexit 1\n', { mode: 0o755 });
    const r = astore(['backup-job'], { STORE_BACKUP_DIR: join(dir, 'backups'), STORE_BACKUP_ENGINE: 'pg_dump', PATH: `${bin}:${process.env.PATH}` });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /error \[BACKUP_JOB_FAILED\].*out of luck/);
    const job = lastJob();
    assert.match(r.stderr, new RegExp(`hint: see job ${job.id}'s log \\(astore backups jobs --json\\)`));
  });
});

describe('backup commands on a store that was never migrated', () => {
  let db: TestDatabase;
  before(async () => { db = await createTestDatabase('bknomig'); });
  after(async () => { await db.drop(); });

  for (const args of [['backups', 'jobs'], ['backup-job']]) {
    it(`${args.join(' ')}: SCHEMA_NOT_CURRENT with the way out, not a stack trace`, () => {
      const home = mkdtempSync(join(dir, 'nomig-'));
      const r = spawnSync(process.execPath, ['bin/astore', ...args], {
        env: { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url, STORE_BACKUP_DIR: join(home, 'backups') }, encoding: 'utf8', timeout: 30_000,
      });
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /^error \[SCHEMA_NOT_CURRENT\]: the store schema is at release \(none\)/m);
      assert.match(r.stderr, /hint: run `astore migrate`/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
});
