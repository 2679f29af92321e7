/**
 * Number-valued options refuse what is not a number of the right kind (exit 2, the option
 * named) before the store is opened, instead of running with NaN: `serve --training-threads abc`
 * used to serve with no training loops, `retrain estimate --workspaces abc` printed NaN.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runAstore } from '../support/cli.ts';
import { cleanUp } from '../support/cleanup.ts';

let db: TestDatabase;
let home: string;

before(async () => {
  db = await createTestDatabase('args');
  home = mkdtempSync(join(tmpdir(), 'astore-args-'));
});
after(() => cleanUp(() => db.drop(), () => rmSync(home, { recursive: true, force: true })));

/** Runs the CLI to its exit; one still running after `ms` (serve accepted the value) is killed. */
async function astore(args: string[], ms = 30_000): Promise<{ code: number | null; out: string }> {
  const r = await runAstore(args, { ASTORE_HOME: home, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, ms);
  return { code: r.code, out: r.output + (r.timedOut ? `\n(still running after ${ms} ms; killed)` : '') };
}

const cases: Array<[string[], RegExp]> = [
  [['serve', '--port', '0', '--training-threads', 'abc'], /--training-threads must be a whole number >= 0, got "abc"/],
  [['serve', '--port', '0', '--training-threads', '-1'], /--training-threads must be a whole number >= 0, got "-1"/],
  [['serve', '--port', 'http'], /--port \(PORT\) must be a port number from 0 to 65535, got "http"/],
  [['retrain-all', '--timeout', 'abc'], /--timeout must be a number > 0, got "abc"/],
  [['retrain-all', '--workers', 'abc'], /--workers must be a whole number >= 0, got "abc"/],
  [['retrain-all', '--workers', '1.5'], /--workers must be a whole number >= 0, got "1.5"/],
  [['retrain', 'estimate', '--workspaces', 'abc'], /--workspaces must be a whole number >= 0, got "abc"/],
  [['train-worker', '--concurrency', '0'], /--concurrency must be a whole number >= 1, got "0"/],
];

test('bad numbers are refused with ARGUMENT_INVALID', { timeout: 90_000 }, async () => {
  const results = await Promise.all(cases.map(([args]) => astore(args)));
  results.forEach((r, i) => {
    const [args, message] = cases[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}:\n${r.out}`);
    assert.match(r.out, /error \[ARGUMENT_INVALID\]/, args.join(' '));
    assert.match(r.out, message, args.join(' '));
  });
});

test('0 workspaces is a valid estimate', { timeout: 60_000 }, async () => {
  assert.equal((await astore(['migrate'])).code, 0);
  const r = await astore(['retrain', 'estimate', '--workspaces', '0', '--replicas', '5']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Number of workspaces to train 0/);
});
