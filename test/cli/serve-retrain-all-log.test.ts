/**
 * The seeds validate an auto-retrain-all run by grepping the service log for
 * `[RETRAIN-ALL-SUMMARY] Affected workspaces found`. Those lines must be in the log whatever
 * LOG_LEVEL hides: with LOG_LEVEL=warn they were filtered out with the rest of the info lines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { cleanUp } from '../support/cleanup.ts';

let db: TestDatabase;
let home: string;
before(async () => {
  db = await createTestDatabase('rtlog');
  home = mkdtempSync(join(tmpdir(), 'astore-rtlog-'));
});
after(() => cleanUp(() => db.drop(), () => rmSync(home, { recursive: true, force: true })));

test('serve logs the retrain-all summary with LOG_LEVEL=warn', { timeout: 60_000 }, async (t) => {
  const child = spawn(join(import.meta.dirname, '..', '..', 'bin', 'astore'), ['serve', '--port', '0', '--training-threads', '1'], {
    env: { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url, LOG_LEVEL: 'warn', AUTO_RETRAIN_ALL_ENABLED: 'true', AUTO_RETRAIN_ALL_CRON_SCHEDULE: '*/2 * * * * ?' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  child.stderr.on('data', (d: Buffer) => { out += d; });
  const deadline = Date.now() + 30_000;
  while (!out.includes('[RETRAIN-ALL-SUMMARY]') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await exited;
  assert.match(out, /\[RETRAIN-ALL-SUMMARY\] Affected workspaces found: 0, Retrained Total: 0/, out);
  assert.doesNotMatch(out, /"level":30,(?!.*RETRAIN-ALL)/, 'other info lines stay hidden');
});
