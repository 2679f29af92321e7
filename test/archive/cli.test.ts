/**
 * `astore archive list|verify|sql` against stock pg_restore on an archive made by the machine's
 * pg_dump, from a file and from stdin; a damaged archive makes verify exit non-zero naming the offset.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
