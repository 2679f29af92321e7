/**
 * `astore secret apply|export` and the files they read and write. Apply on a target that has never
 * run (the README's first restore step) died on ENOENT with a stack trace: ASTORE_HOME did not
 * exist yet. A missing -f file, or an -o in a folder that does not exist, was a stack trace too.
 * `export -o FILE` replaced whatever FILE held, also another store's key: possibly the only copy
 * of the key a backup was written under.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptionKey, formatSecretYaml, parseSecretYaml, SECRET_FILE_NAME } from '../../src/auth/index.ts';
import { runAstore } from '../support/cli.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'astore-secretfiles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const noStackTrace = (stderr: string): void => assert.doesNotMatch(stderr, /\n\s+at |Error: ENOENT/, 'no stack trace');

test('secret apply on a target whose ASTORE_HOME does not exist yet creates it and installs the key (0600)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const key = EncryptionKey.generate();
  writeFileSync(join(dir, 'backed-up.yaml'), formatSecretYaml(key));
  const home = join(dir, 'new', 'home');
  const r = await runAstore(['secret', 'apply', '--no-verify', '-f', join(dir, 'backed-up.yaml')], { ASTORE_HOME: home, ASTORE_ENCRYPTION_SECRET: '' });
  assert.equal(r.code, 0, r.output);
  const installed = join(home, SECRET_FILE_NAME);
  assert.equal(parseSecretYaml(readFileSync(installed, 'utf8'), 'installed').fingerprint, key.fingerprint);
  assert.equal(statSync(installed).mode & 0o777, 0o600);
});

test('secret apply -f of a file that cannot be read is an error code and hint, exit 2', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const r = await runAstore(['secret', 'apply', '--no-verify', '-f', join(dir, 'nope.yaml')], { ASTORE_HOME: dir, ASTORE_ENCRYPTION_SECRET: '' });
  assert.equal(r.code, 2, r.output);
  assert.match(r.stderr, /^error \[KEY_FILE_UNREADABLE\]: .*nope\.yaml/m);
  assert.match(r.stderr, /^hint: /m);
  noStackTrace(r.stderr);
});

test('secret export -o never replaces a file holding another key; the same key, or a new file, is written', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const installed = EncryptionKey.generate();
  writeFileSync(join(dir, SECRET_FILE_NAME), formatSecretYaml(installed), { mode: 0o600 });
  const env = { ASTORE_HOME: dir, ASTORE_ENCRYPTION_SECRET: '' };
  const other = join(dir, 'source-store-key.yaml');
  const otherYaml = formatSecretYaml(EncryptionKey.generate());
  writeFileSync(other, otherYaml);
  const refused = await runAstore(['secret', 'export', '--no-verify', '-o', other], env);
  assert.equal(refused.code, 5, refused.output);
  assert.match(refused.stderr, /^error \[KEY_FILE_EXISTS\]: /m);
  noStackTrace(refused.stderr);
  assert.equal(readFileSync(other, 'utf8'), otherYaml, 'the other key is untouched');

  const fresh = join(dir, 'backup-key.yaml');
  assert.equal((await runAstore(['secret', 'export', '--no-verify', '-o', fresh], env)).code, 0);
  assert.equal(parseSecretYaml(readFileSync(fresh, 'utf8'), 'fresh').fingerprint, installed.fingerprint);
  assert.equal(statSync(fresh).mode & 0o777, 0o600);
  const again = await runAstore(['secret', 'export', '--no-verify', '-o', fresh], env);
  assert.equal(again.code, 0, again.output);
});

test('secret export --keep-other keeps another key in the file under its fingerprint, then writes this one', { timeout: 60_000 }, async (t) => {
  // The backup CronJob exports the key beside the data on every run: after a restore changed the
  // store's key, a refusal would fail every run, and the older backups still need the old key.
  const dir = tempDir(t);
  const installed = EncryptionKey.generate();
  writeFileSync(join(dir, SECRET_FILE_NAME), formatSecretYaml(installed), { mode: 0o600 });
  const env = { ASTORE_HOME: dir, ASTORE_ENCRYPTION_SECRET: '' };
  const previous = EncryptionKey.generate();
  const beside = join(dir, 'backups-key.yaml');
  writeFileSync(beside, formatSecretYaml(previous));
  const r = await runAstore(['secret', 'export', '--no-verify', '--keep-other', '-o', beside], env);
  assert.equal(r.code, 0, r.output);
  assert.equal(parseSecretYaml(readFileSync(beside, 'utf8'), 'new').fingerprint, installed.fingerprint);
  const kept = `${beside}.${previous.fingerprint.replace(/^sha256:/, '')}`;
  assert.equal(parseSecretYaml(readFileSync(kept, 'utf8'), 'kept').fingerprint, previous.fingerprint);
  assert.equal(statSync(kept).mode & 0o777, 0o600);
  assert.match(r.stderr, /held key sha256:[0-9a-f]+: kept as /);
});

test('secret export -o onto a file that is not a key Secret refuses and leaves it as it was', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, SECRET_FILE_NAME), formatSecretYaml(EncryptionKey.generate()), { mode: 0o600 });
  const notes = join(dir, 'notes.yaml');
  writeFileSync(notes, 'my: own file\n');
  const r = await runAstore(['secret', 'export', '--no-verify', '--keep-other', '-o', notes], { ASTORE_HOME: dir, ASTORE_ENCRYPTION_SECRET: '' });
  assert.equal(r.code, 5, r.output);
  assert.match(r.stderr, /^error \[KEY_FILE_EXISTS\]: .*notes\.yaml exists and is not an encryption-key Secret/m);
  assert.equal(readFileSync(notes, 'utf8'), 'my: own file\n');
});

test('secret export -o into a folder that does not exist is an error code, exit 2', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'home'));
  writeFileSync(join(dir, 'home', SECRET_FILE_NAME), formatSecretYaml(EncryptionKey.generate()), { mode: 0o600 });
  const r = await runAstore(['secret', 'export', '--no-verify', '-o', join(dir, 'missing', 'key.yaml')], { ASTORE_HOME: join(dir, 'home'), ASTORE_ENCRYPTION_SECRET: '' });
  assert.equal(r.code, 2, r.output);
  assert.match(r.stderr, /^error \[KEY_FILE_UNWRITABLE\]: .*missing\/key\.yaml/m);
  noStackTrace(r.stderr);
});
