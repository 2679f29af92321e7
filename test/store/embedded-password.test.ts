/**
 * An ASTORE_HOME whose postgres.yaml no longer holds the embedded server's password (edited, or
 * copied from another home): commands fail with PG_AUTH and a hint naming the file, not a stack
 * trace, and the server they started for the attempt is stopped again.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAstore } from '../support/cli.ts';

const home = mkdtempSync(join(tmpdir(), 'astore-embpw-'));
after(() => rmSync(home, { recursive: true, force: true }));

const postgresOf = (dir: string): string =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(join(dir, 'pg'))).join('\n');

test('a wrong su_password in the home\'s postgres.yaml is PG_AUTH with a hint, and leaves no server running', { timeout: 120_000 }, async () => {
  const first = await runAstore(['db', 'info'], { ASTORE_HOME: home, DATABASE_URL: '' }, 90_000);
  assert.equal(first.code, 0, first.output);
  const file = join(home, 'postgres.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/su_password: .*/, 'su_password: not-the-password'));
  const r = await runAstore(['db', 'info'], { ASTORE_HOME: home, DATABASE_URL: '' }, 90_000);
  assert.equal(r.code, 3, r.output);
  assert.match(r.stderr, new RegExp(`error \\[PG_AUTH\\]: the embedded PostgreSQL in ${home} refused the password in ${file}`));
  assert.match(r.stderr, /hint: .*put back the postgres\.yaml/);
  assert.doesNotMatch(r.stderr, /    at /, 'no stack trace');
  assert.equal(postgresOf(home), '', 'the server started for the attempt was stopped');
});
