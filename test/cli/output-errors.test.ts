/**
 * What the CLI prints when things go wrong around its output: a reader that stops early
 * (`astore backups list | head -1`) ends the command quietly instead of with an EPIPE stack
 * trace, and a missing archive or a directory in its place comes with a hint.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
