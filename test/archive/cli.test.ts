/**
 * `astore archive list|verify|sql` against stock pg_restore on an archive made by the machine's
 * pg_dump, from a file and from stdin; a damaged archive makes verify exit non-zero naming the offset.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { loadVaried } from './varied-db.ts';
import { cleanUp } from '../support/cleanup.ts';

const run = promisify(execFile);
let db: TestDatabase;
let dir: string;
let file: string;

before(async () => {
  db = await createTestDatabase('arccli');
  await loadVaried(db.url);
  dir = mkdtempSync(join(tmpdir(), 'astore-arccli-'));
  file = join(dir, 'db.dump');
  await run('pg_dump', ['-Fc', '-f', file, '-d', db.url]);
});
after(() => cleanUp(() => db.drop(), () => rmSync(dir, { recursive: true, force: true })));

function astore(args: string[], stdinFile?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/astore', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (stdinFile) child.stdin.end(readFileSync(stdinFile)); else child.stdin.end();
  });
}

const noRestrict = (s: string) => s.replace(/^\\(un)?restrict .*\n\n?/gm, '');

test('archive list prints what pg_restore --list prints (file and stdin)', async () => {
  const { stdout: want } = await run('pg_restore', ['--list', file]);
  const a = await astore(['archive', 'list', file]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, want);
  const b = await astore(['archive', 'list', '-'], file);
  assert.equal(b.stdout, want);
});

test('archive sql prints the script pg_restore -f - prints', async () => {
  const { stdout: want } = await run('pg_restore', ['-f', '-', file], { maxBuffer: 64 << 20 });
  const a = await astore(['archive', 'sql', '-'], file);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, noRestrict(want));
  const out = join(dir, 'script.sql');
  const f = await astore(['archive', 'sql', '-f', out, file]);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(readFileSync(out, 'utf8'), a.stdout);
  assert.equal(statSync(out).mode & 0o777, 0o600, 'the script holds every row: for this user alone');
});

test('archive verify reports rows per table, and fails with the offset on a truncated archive', async () => {
  const ok = await astore(['archive', 'verify', '--json', file]);
  assert.equal(ok.code, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as { ok: boolean; tables: Array<{ table: string; rows: number }> };
  assert.equal(report.ok, true);
  assert.equal(report.tables.find((t) => t.table === 'customers')!.rows, 5);

  const cut = join(dir, 'cut.dump');
  const bytes = readFileSync(file);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  const bad = await astore(['archive', 'verify', cut]);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /DEFECT \[ARCHIVE_TRUNCATED\]/);
  assert.match(bad.stderr, /offset \d+/);
  // The first defect's advice, carried into the failure (it had none).
  assert.match(bad.stderr, /\nhint: the file is incomplete .*use an intact copy of the archive/);
  const text = join(dir, 'plain.sql');
  writeFileSync(text, '--\n-- PostgreSQL database dump\n');
  const wrong = await astore(['archive', 'list', '-'], text);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /ARCHIVE_BAD_MAGIC.*offset 0/);
});

test('archive sql -f leaves its file as it was unless the whole script is written', async () => {
  const leftovers = () => readdirSync(dir).filter((n) => n.includes('.partial-'));
  // The archive itself as the script's file: refused, the archive intact.
  const self = join(dir, 'self.dump');
  writeFileSync(self, readFileSync(file));
  const onSelf = await astore(['archive', 'sql', self, '-f', self]);
  assert.equal(onSelf.code, 2, onSelf.stderr);
  assert.match(onSelf.stderr, /error \[SQL_TARGET_INVALID\]: cannot write the script to .*self\.dump: it is the archive being read\nhint: /);
  assert.deepEqual(readFileSync(self), readFileSync(file));

  // Not an archive: an existing script is not emptied.
  const precious = join(dir, 'precious.sql');
  writeFileSync(precious, 'select 1;\n');
  const garbage = join(dir, 'garbage.dump');
  writeFileSync(garbage, 'not an archive at all');
  const bad = await astore(['archive', 'sql', garbage, '-f', precious]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /ARCHIVE_BAD_MAGIC/);
  assert.equal(readFileSync(precious, 'utf8'), 'select 1;\n');

  // Damage found only after much of the script: no partial script under the name, none left aside.
  const cut = join(dir, 'cut-for-sql.dump');
  const bytes = readFileSync(file);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  const partial = join(dir, 'partial.sql');
  const truncated = await astore(['archive', 'sql', cut, '-f', partial]);
  assert.equal(truncated.code, 2, truncated.stderr);
  assert.match(truncated.stderr, /ARCHIVE_TRUNCATED/);
  assert.equal(existsSync(partial), false);
  assert.deepEqual(leftovers(), []);

  // A directory, or a directory that is not there: bad input (exit 2), not a crash on an unhandled 'error' event.
  const inDir = await astore(['archive', 'sql', file, '-f', dir]);
  assert.equal(inDir.code, 2, inDir.stderr);
  assert.match(inDir.stderr, /error \[SQL_TARGET_INVALID\]: .*it is a directory\nhint: give the script's own name/);
  const missing = await astore(['archive', 'sql', file, '-f', join(dir, 'no-such-dir', 'x.sql')]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /error \[SQL_TARGET_INVALID\]: .*ENOENT.*\nhint: check that .*no-such-dir exists and is writable/);
  assert.doesNotMatch(inDir.stderr + missing.stderr, /node:events|    at /);
  assert.deepEqual(leftovers(), []);
});
