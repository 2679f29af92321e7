/**
 * What the CLI prints when things go wrong around its output: a reader that stops early
 * (`astore backups list | head -1`) ends the command quietly instead of with an EPIPE stack
 * trace, and a missing archive or a directory in its place comes with a hint.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { backupName } from '../../src/backup/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'astore-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('a reader that goes away after the first line ends the command with exit 0 and nothing on stderr', async () => {
  // Far more rows than a pipe buffers, so the command is still writing when the reader leaves.
  const backups = join(dir, 'backups');
  mkdirSync(backups);
  for (let i = 0; i < 3000; i++) writeFileSync(join(backups, backupName(new Date(2024, 0, 1, 0, 0, i * 60))), '');
  // A bad schedule is the backup job's problem, not the listing's.
  const child = spawn(process.execPath, ['bin/astore', 'backups', 'list', '--dir', backups],
    { env: { ...process.env, ASTORE_HOME: dir, STORE_BACKUP_SCHEDULE: 'bad' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  let first = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    first += d;
    if (first.includes('\n')) child.stdout.destroy();
  });
  const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  assert.match(first, /^NAME\s+TIME/);
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

it('a reader that goes away does not turn a failure into success', async () => {
  // A table, then the failure: two backups whose checksums do not match their files.
  const backups = join(dir, 'bad-backups');
  mkdirSync(backups);
  for (const i of [1, 2]) {
    const name = backupName(new Date(2024, 0, i, 1, 0, 0));
    writeFileSync(join(backups, name), 'archive');
    writeFileSync(join(backups, `${name}.done`), JSON.stringify({ format: 'astore-backup/1', name, bytes: 7, sha256: '0'.repeat(64), takenAt: new Date(2024, 0, i).toISOString() }));
  }
  const child = spawn(process.execPath, ['bin/astore', 'backups', 'list', '--dir', backups, '--verify'],
    { env: { ...process.env, ASTORE_HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.match(stderr, /error \[BACKUP_VERIFY_FAILED\]/);
  assert.equal(code, 2, stderr);
});

it('backups list: a --dir that is not there, or not a directory, is bad input; the configured one missing means no backups yet', () => {
  const list = (args: string[]) => spawnSync(process.execPath, ['bin/astore', 'backups', 'list', ...args], { encoding: 'utf8', env: { ...process.env, ASTORE_HOME: join(dir, 'fresh-home') } });
  const typo = list(['--dir', join(dir, 'bakcups')]);
  assert.equal(typo.status, 2, typo.stderr);
  assert.match(typo.stderr, /error \[BACKUP_DIR_NOT_FOUND\]: cannot list backups in .*bakcups: no such directory\nhint: check the path given with --dir/);
  const file = join(dir, 'notes.txt');
  writeFileSync(file, 'not a directory');
  const notDir = list(['--dir', file, '--json']);
  assert.equal(notDir.status, 2, notDir.stderr);
  assert.match(notDir.stderr, /error \[BACKUP_DIR_NOT_FOUND\]: cannot list backups in .*notes\.txt: it is not a directory/);
  assert.equal((JSON.parse(notDir.stdout) as { error: { code: string } }).error.code, 'BACKUP_DIR_NOT_FOUND');
  // A store whose first backup-job has not run yet: an empty list, and a line saying why.
  const fresh = list(['--json']);
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.deepEqual(JSON.parse(fresh.stdout), []);
  assert.match(fresh.stderr, /^no backups yet: .*fresh-home.* \(store\.backup\.dir\) does not exist; the first backup-job creates it\n$/);
});

it('an option given an empty value is ARGUMENT_INVALID naming it, before the command does anything', () => {
  const home = join(dir, 'empty-values-home');
  for (const [args, flag] of [[['backup', '-o', ''], '--output'], [['backups', 'list', '--config', ' ', '--json'], '--config'], [['archive', 'sql', 'x.dump', '-f', ''], '--file']] as const) {
    const r = spawnSync(process.execPath, ['bin/astore', ...args], { encoding: 'utf8', env: { ...process.env, ASTORE_HOME: home } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error \\[ARGUMENT_INVALID\\]: option ${flag} has an empty value\\nhint: give .*${flag}`));
    if ((args as readonly string[]).includes('--json')) assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'ARGUMENT_INVALID');
  }
  assert.equal(existsSync(home), false, 'nothing was set up');
});

it('a missing archive is ARCHIVE_NOT_FOUND with a hint', () => {
  const r = spawnSync(process.execPath, ['bin/astore', 'archive', 'list', join(dir, 'nope.dump')], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /error \[ARCHIVE_NOT_FOUND\]: cannot open archive .*nope\.dump/);
  assert.match(r.stderr, /\nhint: check the path .*astore backups list/);
});

it('a directory given as the archive is ARCHIVE_UNREADABLE with a hint, not a read error', () => {
  const r = spawnSync(process.execPath, ['bin/astore', 'archive', 'list', dir], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /error \[ARCHIVE_UNREADABLE\]: cannot open archive .*: is a directory/);
  assert.match(r.stderr, /\nhint: name the archive file itself, not its directory/);
});

it('an ASTORE_HOME that cannot be created is a clear error at once (mkdir -p used to spin on /proc paths)', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, ASTORE_HOME: '/proc/astore-nope/home' };
  delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, ['bin/astore', 'migrate'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /HOME_UNUSABLE.*\/proc\/astore-nope\/home/);
  assert.match(r.stderr, /hint: set ASTORE_HOME to a writable directory/);
});

it('a failed --json command prints its error as JSON on stdout too; one that printed its own document, or whose stdout is an archive, does not', () => {
  const missing = join(dir, 'nope.dump');
  const r = spawnSync(process.execPath, ['bin/pgmig', '-s', missing, '-r', join(dir, 'rc.yaml'), '-t', join(dir, 'pg.yaml'), '--json'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  const doc = JSON.parse(r.stdout) as { error: { code: string; message: string; hint?: string } };
  assert.match(doc.error.code, /^[A-Z_]+$/);
  assert.match(r.stderr, new RegExp(`error \\[${doc.error.code}\\]: `), 'the text error is still on stderr');
  assert.ok(doc.error.message.length > 0 && (doc.error.hint ?? '').length > 0, JSON.stringify(doc));

  // archive verify --json on a damaged file prints its report (ok: false), and nothing more.
  const damaged = join(dir, 'damaged.dump');
  writeFileSync(damaged, 'PGDMP');
  const v = spawnSync(process.execPath, ['bin/astore', 'archive', 'verify', damaged, '--json'], { encoding: 'utf8' });
  assert.equal(v.status, 2, v.stderr);
  assert.equal((JSON.parse(v.stdout) as { ok: boolean }).ok, false);

  // astore backup without -o: stdout is for the archive alone, even when the backup fails.
  const b = spawnSync(process.execPath, ['bin/astore', 'backup', '--json'], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' } });
  assert.equal(b.status, 3, b.stderr);
  assert.match(b.stderr, /error \[PG_REFUSED\]/);
  assert.equal(b.stdout, '');

  // Without --json: stdout stays empty.
  const plain = spawnSync(process.execPath, ['bin/astore', 'archive', 'list', missing], { encoding: 'utf8' });
  assert.equal(plain.stdout, '');
});

it('a command-line mistake commander catches is reported like any failure: error [CODE], a hint, and JSON with --json', () => {
  const r = spawnSync(process.execPath, ['bin/astore', 'instances', 'create', '--json'], { encoding: 'utf8', env: { ...process.env, ASTORE_HOME: dir } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error \[ARGUMENT_INVALID\]: required option '--name <name>' not specified\nhint: /);
  assert.match(r.stderr, /Usage: astore instances create/);
  assert.deepEqual((JSON.parse(r.stdout) as { error: { code: string; message: string } }).error.message, "required option '--name <name>' not specified");
  const u = spawnSync(process.execPath, ['bin/astore', 'tokens', 'list', '--bogus'], { encoding: 'utf8', env: { ...process.env, ASTORE_HOME: dir } });
  assert.match(u.stderr, /^error \[ARGUMENT_INVALID\]: unknown option '--bogus'\nhint: /);
  assert.equal(u.status, 2, 'bad input, as pgmig --help documents (1 is an internal error)');
  const p = spawnSync(process.execPath, ['bin/pgmig', '--bogus'], { encoding: 'utf8', env: { ...process.env, ASTORE_HOME: dir } });
  assert.equal(p.status, 2, p.stderr);
  assert.equal(u.stdout, '', 'no JSON without --json');
  const help = spawnSync(process.execPath, ['bin/astore', 'tokens', 'list', '--help', '--json'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.doesNotMatch(help.stdout, /"error"/, 'help is not a failure');
});

it('a refusal by the operating system names the call and path, with a hint and no stack', () => {
  // The commands wrap the refusals they can foresee (backups list --dir on a file is
  // BACKUP_DIR_NOT_FOUND above); this is the net for the others: an error as fs throws it.
  const script = `import { reportError } from './src/cli/main.ts';
    import { readdirSync } from 'node:fs';
    try { readdirSync(${JSON.stringify(join(dir, 'not-a-dir-file'))}); } catch (err) { reportError(err); }`;
  writeFileSync(join(dir, 'not-a-dir-file'), '');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error \[ENOTDIR\]: not a directory, scandir '.*not-a-dir-file'\nhint: check that path/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
