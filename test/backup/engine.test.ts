/**
 * store.backup.engine: a database with an object the store's dumper refuses (a user function)
 * fails every backup with a hint naming the setting — also through backup-job, which used to
 * drop the hint — and with `pg_dump` chosen in the config file or the environment, scheduled and
 * on-demand backups succeed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { stringify } from 'yaml';
import { listBackups, loadBackupSettings } from '../../src/backup/index.ts';
import { openStore } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const dir = mkdtempSync(join(tmpdir(), 'astore-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('store.backup.engine', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const astore = (args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync('bin/astore', args, { env: { ...env, ...extra }, encoding: 'utf8' });

  before(async () => {
    db = await createTestDatabase('bkengine');
    const home = mkdtempSync(join(dir, 'home-'));
    process.env.ASTORE_HOME = home;
    const s = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await s.close();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`create function public.touch() returns trigger language plpgsql as $$ begin new.updated = now(); return new; end $$`);
    await c.end();
    env = { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url, STORE_BACKUP_DIR: join(dir, 'backups') };
    delete env.STORE_BACKUP_ENGINE;
  });
  after(async () => { await db.drop(); });

  it('is builtin by default; anything but builtin or pg_dump is refused naming the setting', () => {
    assert.equal(loadBackupSettings({ env: { ASTORE_HOME: dir } }).engine, 'builtin');
    assert.throws(() => loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_ENGINE: 'pgdump' } }),
      (e: { code?: string; message?: string }) => e.code === 'BACKUP_CONFIG_INVALID' && /store\.backup\.engine.*builtin or pg_dump/.test(e.message!));
  });

  it('astore backup reads only the engine: a bad value of another setting does not stop it, a bad engine does', () => {
    const typos = { STORE_BACKUP_ENGINE: 'pg_dump', STORE_BACKUP_SCHEDULE: '61 * * * *', STORE_BACKUP_HISTORY_FILES_KEEP_DAILY: 'six' };
    const r = astore(['backup', '-o', join(dir, 'typos.dump')], typos);
    assert.equal(r.status, 0, r.stderr);
    const job = astore(['backup-job'], typos);
    assert.equal(job.status, 2, 'backup-job still needs every setting');
    assert.match(job.stderr, /BACKUP_CONFIG_INVALID.*store\.backup\.schedule/);
    const bad = astore(['backup', '-o', join(dir, 'bad-engine.dump')], { STORE_BACKUP_ENGINE: 'pgdump' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /BACKUP_CONFIG_INVALID.*store\.backup\.engine/);
  });

  it('builtin: the refusal names the object and its hint the setting, in backup and in backup-job', () => {
    const r = astore(['backup', '-o', join(dir, 'x.dump')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /DUMP_UNSUPPORTED_OBJECT.*function public\.touch\(\)/);
    assert.match(r.stderr, /hint: .*store\.backup\.engine: pg_dump.*STORE_BACKUP_ENGINE=pg_dump/);
    const job = astore(['backup-job']);
    assert.equal(job.status, 1, job.stderr);
    assert.match(job.stderr, /error \[BACKUP_JOB_FAILED\].*function public\.touch\(\)/);
    assert.match(job.stderr, /hint: .*store\.backup\.engine: pg_dump/, 'backup-job keeps the hint of the failure');
  });

  it('pg_dump not installed: a clear error saying to install it, not a crash', () => {
    // A PATH with node alone: pg_dump cannot be found.
    const bin = mkdtempSync(join(dir, 'path-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = spawnSync(process.execPath, ['--initial-old-space-size=64', 'bin/astore', 'backup', '-o', join(dir, 'none.dump')], {
      env: { ...env, PATH: bin, STORE_BACKUP_ENGINE: 'pg_dump' }, encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /BACKUP_DUMP_FAILED.*pg_dump could not be started/);
    assert.match(r.stderr, /hint: install the PostgreSQL client tools/);
    assert.doesNotMatch(r.stderr, /    at /, 'no stack trace');
  });

  it('pg_dump, from the environment or the config file: backup-job and backup succeed and the archive holds the function', async () => {
    const job = astore(['backup-job'], { STORE_BACKUP_ENGINE: 'pg_dump' });
    assert.equal(job.status, 0, job.stderr);
    const good = (await listBackups(join(dir, 'backups'))).filter((b) => b.status === 'good');
    assert.equal(good.length, 1);

    const config = join(dir, 'config.yaml');
    writeFileSync(config, stringify({ store: { backup: { engine: 'pg_dump' } } }));
    const out = join(dir, 'on-demand.dump');
    const r = astore(['backup', '--config', config, '-o', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { bytes: number; sha256: string };
    assert.equal(summary.bytes, readFileSync(out).length);
    assert.equal(summary.sha256, createHash('sha256').update(readFileSync(out)).digest('hex'), 'the summary hashes the file written');
    for (const file of [good[0]!.path, out]) {
      const list = spawnSync('pg_restore', ['-l', file], { encoding: 'utf8' });
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /FUNCTION public touch\(\)/);
      assert.match(list.stdout, /TABLE DATA astore workspaces/);
    }
  });
});
