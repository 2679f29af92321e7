/**
 * The home's start-up lock admits one holder at a time, also while a lock left by a dead process
 * is being taken over. Each waiting process that found the lock stale removed the file, so one
 * that came second removed the lock another had just taken over and created, and both went on to
 * set up and start the server at once (what the lock is there to prevent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withHomeLock } from '../../src/store/home-lock.ts';

test('several processes taking over a dead holder\'s lock at once: one holder at a time', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'astore-homelock-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  for (let round = 0; round < 10; round++) {
    writeFileSync(join(home, '.astore-start.lock'), `${hostname()} ${deadPid}\n`);
    let holders = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 6 }, () => withHomeLock(home, async () => {
      holders++;
      most = Math.max(most, holders);
      await new Promise((r) => setTimeout(r, 30));
      holders--;
    }, 30_000)));
    assert.equal(most, 1, `round ${round}: ${most} holders at once`);
    assert.equal(existsSync(join(home, '.astore-start.lock')), false, 'the lock is released');
  }
});
