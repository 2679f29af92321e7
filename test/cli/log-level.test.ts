/**
 * LOG_LEVEL is checked before a command starts anything. A name pino does not know made pino
 * throw from inside the command: a stack trace and exit 1, after retrain-all had taken its run
 * lock, and serve, whose store was open by then, printed the stack and never exited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel } from '../../src/cli/log-level.ts';
import { runAstore } from '../support/cli.ts';

test('an unknown LOG_LEVEL is CONFIG_INVALID (exit 2) naming the levels, before any database is opened', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-loglevel-'));
  try {
    const home = join(dir, 'home');
    const env: NodeJS.ProcessEnv = { ASTORE_HOME: home, LOG_LEVEL: 'loud', DATABASE_URL: '' };
    for (const args of [['serve', '--port', '0'], ['train-worker'], ['store-admin'], ['retrain-all', '--workers', '1']]) {
      const r = await runAstore(args, env, 30_000);
      assert.equal(r.code, 2, `${args[0]}: ${r.output}`);
      assert.match(r.stderr, /^error \[CONFIG_INVALID\]: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\nhint: /, args[0]);
      assert.doesNotMatch(r.stderr, /    at /, 'no stack trace');
    }
    assert.equal(existsSync(join(home, 'pg')), false, 'no embedded server was set up');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LOG_LEVEL unset or empty is the command\'s default; a known level is used as given', () => {
  assert.equal(logLevel('warn', {}), 'warn');
  assert.equal(logLevel('warn', { LOG_LEVEL: '' }), 'warn');
  assert.equal(logLevel('warn', { LOG_LEVEL: 'debug' }), 'debug');
  assert.equal(logLevel('info', { LOG_LEVEL: 'silent' }), 'silent');
});
