import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { stringify } from 'yaml';
import { connectionFromSecretYaml, loadBackupSettings, readSecretConnection } from '../../src/backup/index.ts';
import { readArchiveMetadata } from '../../src/dump/index.ts';
import { CURRENT_RELEASE } from '../../src/store/index.ts';
import { openStore } from '../../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const dir = mkdtempSync(join(tmpdir(), 'astore-bk-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('backup settings', () => {
  it("defaults are the seeds' values", () => {
    const s = loadBackupSettings({ env: { ASTORE_HOME: dir } });
    assert.deepEqual({ ...s, dir: undefined }, {
      suspend: false, schedule: '0 23 * * *', jobsSuccess: 30, jobsFailed: 10, weeklyBackupDay: 0, keepWeekly: 4, keepDaily: 6,
      dir: undefined, startingDeadlineSeconds: undefined, engine: 'builtin',
    });
    assert.equal(s.dir, join(dir, 'store-backups'));
  });

  it('reads nested and dotted keys from the config file; environment variables win', () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, stringify({
      store: { backup: { suspend: true, schedule: '30 1 * * *', history: { files: { keep_daily: 3, weekly_backup_day: 5 } } } },
      'store.backup.history.jobs.failed': 2,
    }));
    const s = loadBackupSettings({ config: file, env: { ASTORE_HOME: dir, STORE_BACKUP_HISTORY_FILES_KEEP_DAILY: '9', STORE_BACKUP_SUSPEND: 'false' } });
    assert.equal(s.schedule, '30 1 * * *');
    assert.equal(s.weeklyBackupDay, 5);
    assert.equal(s.jobsFailed, 2);
    assert.equal(s.keepDaily, 9);
    assert.equal(s.suspend, false);
  });

  it('a count must fit the int32 of the CronJob job-history limits it also becomes', () => {
    const file = join(dir, 'big-counts.yaml');
    writeFileSync(file, stringify({ 'store.backup.history.jobs.failed': 2 ** 31 }));
    assert.throws(() => loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }), (e: { code?: string; message?: string; hint?: string }) =>
      e.code === 'BACKUP_CONFIG_INVALID' && /jobs\.failed from config file .* is 2147483648, expected a whole number from 0 to 2147483647$/.test(e.message!)
        && /STORE_BACKUP_HISTORY_JOBS_FAILED/.test(e.hint!));
    assert.throws(() => loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_HISTORY_JOBS_SUCCESS: String(Number.MAX_SAFE_INTEGER) } }),
      /jobs\.success from STORE_BACKUP_HISTORY_JOBS_SUCCESS is "9007199254740991", expected a whole number from 0 to 2147483647/);
    assert.equal(loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_HISTORY_JOBS_SUCCESS: '2147483647' } }).jobsSuccess, 2 ** 31 - 1);
  });

  it("reads the seeds' postgres.backup.schedule as the schedule; two different values under its two names are refused", () => {
    const file = join(dir, 'seeds-name.yaml');
    const home = { ASTORE_HOME: dir };
    writeFileSync(file, 'postgres.backup.schedule: "15 2 * * *"\n');
    assert.equal(loadBackupSettings({ config: file, env: home }).schedule, '15 2 * * *');
    writeFileSync(file, stringify({ postgres: { backup: { schedule: '15 2 * * *' } } }));
    assert.equal(loadBackupSettings({ config: file, env: home }).schedule, '15 2 * * *');
    assert.equal(loadBackupSettings({ config: file, env: { ...home, POSTGRES_BACKUP_SCHEDULE: '0 4 * * *' } }).schedule, '0 4 * * *');
    assert.equal(loadBackupSettings({ config: file, env: { ...home, STORE_BACKUP_SCHEDULE: '0 5 * * *' } }).schedule, '0 5 * * *');
    assert.throws(() => loadBackupSettings({ config: file, env: { ...home, STORE_BACKUP_SCHEDULE: '0 5 * * *', POSTGRES_BACKUP_SCHEDULE: '0 4 * * *' } }),
      /STORE_BACKUP_SCHEDULE sets store\.backup\.schedule to "0 5 \* \* \*" and POSTGRES_BACKUP_SCHEDULE sets postgres\.backup\.schedule to "0 4 \* \* \*"/);
    writeFileSync(file, stringify({ 'store.backup.schedule': '0 1 * * *', 'postgres.backup.schedule': '0 1 * * *' }));
    assert.equal(loadBackupSettings({ config: file, env: home }).schedule, '0 1 * * *');
    writeFileSync(file, stringify({ 'store.backup.schedule': '0 1 * * *', 'postgres.backup.schedule': '0  1 * *  *' }));
    assert.equal(loadBackupSettings({ config: file, env: home }).schedule, '0 1 * * *', 'the same schedule spaced otherwise');
    writeFileSync(file, stringify({ 'store.backup.schedule': '0 1 * * *', 'postgres.backup.schedule': '0 3 * * *' }));
    assert.throws(() => loadBackupSettings({ config: file, env: home }), /one setting under two names/);
    writeFileSync(file, stringify({ 'postgres.backup.schedul': '0 3 * * *' }));
    assert.throws(() => loadBackupSettings({ config: file, env: home }), /does not know: postgres\.backup\.schedul/);
    writeFileSync(file, stringify({ 'postgres.backup.schedule': 'at eleven' }));
    assert.throws(() => loadBackupSettings({ config: file, env: home }), /postgres\.backup\.schedule from .* is "at eleven", expected a 5-field cron/);
  });

  it('reads a mix of nested and dotted keys; refuses store.backup keys it does not know, naming them', () => {
    const file = join(dir, 'mixed.yaml');
    writeFileSync(file, stringify({ 'store.backup': { suspend: true, 'history.files': { keep_daily: 2 } }, other: { section: 1 } }));
    const s = loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } });
    assert.equal(s.suspend, true);
    assert.equal(s.keepDaily, 2);
    writeFileSync(file, stringify({ store: { backup: { schedul: '0 1 * * *', history: { files: { keep_dialy: 3 } } } }, unrelated: true }));
    assert.throws(() => loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }), (e: { code?: string; message?: string; hint?: string }) =>
      e.code === 'BACKUP_CONFIG_INVALID' && /does not know: store\.backup\.schedul, store\.backup\.history\.files\.keep_dialy$/.test(e.message!) && /store\.backup\.schedule/.test(e.hint!));
    // A command that reads only some settings is not stopped by it (the scheduler is).
    assert.equal(loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }, ['engine']).engine, 'builtin');
  });

  it('one setting written dotted and nested with two values is refused naming both; the same value twice is fine', () => {
    const file = join(dir, 'twice.yaml');
    writeFileSync(file, 'store.backup.schedule: "0 1 * * *"\nstore:\n  backup:\n    schedule: "0 2 * * *"\n');
    assert.throws(() => loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }), (e: { code?: string; message?: string; hint?: string }) =>
      e.code === 'BACKUP_CONFIG_INVALID'
        && /sets store\.backup\.schedule twice, to "0 1 \* \* \*" \(as store\.backup\.schedule\) and to "0 2 \* \* \*" \(as store → backup → schedule\)$/.test(e.message!)
        && /keep one of them/.test(e.hint!));
    writeFileSync(file, 'store.backup.schedule: "0 1 * * *"\nstore:\n  backup:\n    schedule: "0  1 * * *"\n');
    assert.equal(loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }).schedule.split(/\s+/).join(' '), '0 1 * * *');
  });

  it('a config file that is a list or plain text is refused; an empty one sets nothing', () => {
    const file = join(dir, 'not-a-map.yaml');
    for (const [text, holds] of [['- a\n- b\n', 'a list'], ['\u00ff\u0001garbage', 'a string'], ['42\n', 'a number']] as const) {
      writeFileSync(file, text);
      assert.throws(() => loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }), (e: { code?: string; message?: string; hint?: string }) =>
        e.code === 'BACKUP_CONFIG_INVALID' && e.message!.endsWith(`is not a mapping of settings (it holds ${holds})`) && /store\.backup\.schedule/.test(e.hint!), text);
    }
    writeFileSync(file, '# nothing set yet\n');
    assert.equal(loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }).schedule, loadBackupSettings({ env: { ASTORE_HOME: join(dir, 'none') } }).schedule);
  });

  it('an empty section (every setting under it commented out) is no unknown key; an empty unknown key still is', () => {
    const file = join(dir, 'empty-section.yaml');
    writeFileSync(file, 'store:\n  backup:\n    # suspend: true\n    # schedule: "0 1 * * *"\n');
    assert.equal(loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }).schedule, '0 23 * * *');
    writeFileSync(file, 'store:\n  backup:\n    suspend: true\n    history:\n      jobs:\n      files:\n        keep_daily: 2\n');
    const s = loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } });
    assert.equal(s.suspend, true);
    assert.equal(s.keepDaily, 2);
    writeFileSync(file, 'store.backup:\n  schedul:\n');
    assert.throws(() => loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }), (e: { code?: string; message?: string }) =>
      e.code === 'BACKUP_CONFIG_INVALID' && /does not know: store\.backup\.schedul$/.test(e.message!));
    writeFileSync(file, 'store:\n  backup:\n    history: 3\n');
    assert.throws(() => loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }), (e: { code?: string; message?: string }) =>
      e.code === 'BACKUP_CONFIG_INVALID' && /does not know: store\.backup\.history$/.test(e.message!));
  });

  it('store.backup.suspend takes true/false, 1/0 or yes/no in any case, like the other switches; anything else is refused', () => {
    const cases: Array<[string, boolean]> = [['yes', true], [' No ', false], ['1', true], ['0', false], ['TRUE', true], ['false', false]];
    for (const [value, on] of cases) {
      assert.equal(loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_SUSPEND: value } }).suspend, on, JSON.stringify(value));
    }
    const file = join(dir, 'switch.yaml');
    for (const [value, on] of [['yes', true], [1, true], ['No', false], [false, false]] as const) {
      writeFileSync(file, stringify({ store: { backup: { suspend: value } } }));
      assert.equal(loadBackupSettings({ config: file, env: { ASTORE_HOME: dir } }).suspend, on, JSON.stringify(value));
    }
    for (const value of ['on', 'ture', '2']) {
      assert.throws(() => loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_SUSPEND: value } }),
        (e: { code?: string; message?: string }) => e.code === 'BACKUP_CONFIG_INVALID' && /store\.backup\.suspend.*yes or no/.test(e.message!), value);
    }
  });

  it('rejects bad values naming the setting', () => {
    assert.throws(() => loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_SCHEDULE: '61 * * * *' } }), /store\.backup\.schedule/);
    assert.throws(() => loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_HISTORY_FILES_WEEKLY_BACKUP_DAY: '7' } }), /weekly_backup_day.*0-6/);
    assert.throws(() => loadBackupSettings({ env: { ASTORE_HOME: dir, STORE_BACKUP_HISTORY_FILES_KEEP_WEEKLY: '-1' } }), /keep_weekly/);
  });

  it('with `only`, a mistake in another setting does not stop a command that never uses it', () => {
    const env = { ASTORE_HOME: dir, STORE_BACKUP_SCHEDULE: 'bad', STORE_BACKUP_DIR: join(dir, 'elsewhere'), STORE_BACKUP_ENGINE: 'pg_dump' };
    const s = loadBackupSettings({ env }, ['dir', 'weeklyBackupDay']);
    assert.equal(s.dir, join(dir, 'elsewhere'));
    assert.equal(s.engine, 'builtin', 'settings not asked for keep their defaults');
    assert.equal(loadBackupSettings({ env }, ['engine']).engine, 'pg_dump');
    assert.throws(() => loadBackupSettings({ env }), /store\.backup\.schedule/);
    // The settings asked for are still checked.
    assert.throws(() => loadBackupSettings({ env: { ...env, STORE_BACKUP_HISTORY_FILES_WEEKLY_BACKUP_DAY: '7' } }, ['dir', 'weeklyBackupDay']), /weekly_backup_day/);
  });
});

function secretYaml(key: string, creds: Record<string, unknown> | undefined): string {
  const vcap = JSON.stringify({ 'user-provided': [{ name: 'pgservice', ...(creds ? { credentials: creds } : {}) }] });
  return stringify({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'wa-store-vcap' }, data: { [key]: Buffer.from(vcap).toString('base64') } });
}

describe('--secret connection', () => {
  let db: TestDatabase;
  let creds: Record<string, unknown>;
  before(async () => {
    db = await createTestDatabase('bksecret');
    const u = new URL(db.url);
    creds = { host: u.hostname, port: Number(u.port), database: db.name, username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    process.env.ASTORE_HOME = mkdtempSync(join(dir, 'home-'));
    const s = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await s.close();
  });
  after(async () => { await db.drop(); });

  for (const key of ['vcap_services', 'store_vcap_services']) {
    it(`data.${key}: connects, and astore backup --secret writes a restorable archive`, async () => {
      const file = join(dir, `${key}.yaml`);
      writeFileSync(file, secretYaml(key, creds));
      const c = readSecretConnection(file);
      const client = new pg.Client({ host: c.host, port: c.port, database: c.database, user: c.user, password: c.password });
      await client.connect();
      assert.equal((await client.query('select current_database() as d')).rows[0].d, db.name);
      await client.end();

      const out = join(dir, `${key}.dump`);
      const env: NodeJS.ProcessEnv = { ...process.env, ASTORE_HOME: join(dir, 'nohome') };
      delete env.DATABASE_URL;
      const r = spawnSync('bin/astore', ['backup', '--secret', file, '-o', out, '--json'], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout);
      assert.equal(summary.schema_release, CURRENT_RELEASE);
      assert.match(summary.key_fingerprint, /\S/);
      assert.equal(summary.bytes, readFileSync(out).length);
      assert.equal(summary.sha256, createHash('sha256').update(readFileSync(out)).digest('hex'), 'the summary hashes the file written');
      const list = spawnSync('pg_restore', ['-l', out], { encoding: 'utf8' });
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /TABLE DATA astore workspaces/);
      const meta = await readArchiveMetadata(out);
      assert.equal(meta?.schema_release, summary.schema_release);
      assert.equal(meta?.key_fingerprint, summary.key_fingerprint);
    });
  }

  it('astore backup > FILE (stdout, as the seeds\' script is used) is a complete archive', () => {
    const file = join(dir, 'stdout-secret.yaml');
    writeFileSync(file, secretYaml('vcap_services', creds));
    const r = spawnSync('bin/astore', ['backup', '--secret', file, '--instance', 'wa', '--json'], { encoding: 'buffer', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr.toString());
    const summary = JSON.parse(r.stderr.toString());
    assert.equal(summary.bytes, r.stdout.length);
    assert.equal(summary.instance, 'wa');
    const out = join(dir, 'stdout.dump');
    writeFileSync(out, r.stdout);
    const list = spawnSync('pg_restore', ['-l', out], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /TABLE DATA astore backup_jobs/);
  });

  it('a secret without credentials fails naming the missing field', () => {
    assert.throws(() => connectionFromSecretYaml(secretYaml('vcap_services', undefined), 's.yaml'),
      (e: Error) => /missing field data\.vcap_services\["user-provided"\]\[\]\.credentials$/.test(e.message));
    assert.throws(() => connectionFromSecretYaml(secretYaml('store_vcap_services', { ...creds, password: undefined }), 's.yaml'),
      /missing field data\.store_vcap_services\["user-provided"\]\[\]\.credentials\.password/);
    assert.throws(() => connectionFromSecretYaml(stringify({ kind: 'Secret', data: { other: 'eA==' } }), 's.yaml'),
      /missing field data\.vcap_services or data\.store_vcap_services/);
  });

  it('a host or name that is no string is refused naming the Secret\'s field, not a DATABASE_URL nobody set', () => {
    for (const [field, value, expected] of [['host', { nested: 'map' }, 'a string'], ['host', 'db host/x', 'a host name or IP address'], ['username', ['a'], 'a string']] as const) {
      assert.throws(() => connectionFromSecretYaml(secretYaml('vcap_services', { ...creds, [field]: value }), 's.yaml'), (e: { code?: string; message: string }) =>
        e.code === 'SECRET_INVALID' && e.message === `s.yaml: credentials.${field} is ${JSON.stringify(value)}, expected ${expected}` && !/DATABASE_URL/.test(e.message));
    }
    for (const [host, bare] of [['db.example.com', 'db.example.com'], ['10.0.0.5', '10.0.0.5'], ['[::1]', '::1'], ['::1', '::1']]) {
      assert.equal(connectionFromSecretYaml(secretYaml('vcap_services', { ...creds, host }), 's.yaml').host, bare);
    }
  });

  it('the CLI exits non-zero naming the missing field', () => {
    const file = join(dir, 'nocreds.yaml');
    writeFileSync(file, secretYaml('vcap_services', { ...creds, host: undefined }));
    const r = spawnSync('bin/astore', ['backup', '--secret', file, '-o', join(dir, 'x.dump')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /SECRET_INVALID.*credentials\.host/);
  });
});
