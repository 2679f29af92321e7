/**
 * A file that is not valid YAML is refused saying where, without quoting it: the yaml package's
 * message ends with an excerpt of the file around the error, and every file read here can hold a
 * password or a token on that very line (postgres.yaml's su_password, a Secret's data, a
 * resourceController.yaml's accessTokens, a config.yaml written by hand), which went to the terminal and
 * logs. The CLI run checks the whole way to stderr and the --json error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSecretYaml } from '../../src/auth/index.ts';
import { connectionFromSecretYaml, loadBackupSettings } from '../../src/backup/index.ts';
import { readPostgresYaml } from '../../src/config/index.ts';
import { readResourceControllerYaml } from '../../src/restore/index.ts';
import { runAstore } from '../support/cli.ts';

const SECRET = 'hunter2SECRET';
// The error is on the line that holds the secret: the excerpt printed exactly that line.
const broken = (key: string) => `host: db\n${key}: ${SECRET} x: y\nport: 1\n`;

function refused(read: () => unknown, code: string): void {
  assert.throws(read, (e: any) => {
    assert.equal(e.code, code);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /not valid YAML: .* at line 2, column \d+$/);
    assert.ok(!`${e.message} ${e.hint}`.includes(SECRET), `the secret was printed: ${e.message}`);
    assert.ok((e.hint ?? '').length > 0, 'a hint says what to do');
    return true;
  });
}

test('postgres.yaml, resourceController.yaml, Secrets and config.yaml: where the YAML is wrong, never what the line holds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-yaml-'));
  try {
    const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
    refused(() => readPostgresYaml(file('postgres.yaml', broken('su_password'))), 'CONFIG_INVALID');
    refused(() => readResourceControllerYaml(file('rc.yaml', broken('accessTokens'))), 'CONFIG_INVALID');
    refused(() => connectionFromSecretYaml(broken('vcap_services'), 'store-secret.yaml'), 'SECRET_INVALID');
    refused(() => parseSecretYaml(broken('auth_encryption_key'), 'auth-encryption-secret.yaml'), 'KEY_FILE_INVALID');
    refused(() => loadBackupSettings({ config: file('config.yaml', broken('schedule')) }), 'BACKUP_CONFIG_INVALID');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('astore with a broken postgres.yaml: the line and column on stderr and in the --json error, the password nowhere', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-yaml-cli-'));
  try {
    const yaml = join(dir, 'postgres.yaml');
    writeFileSync(yaml, broken('su_password'));
    const r = await runAstore(['instances', 'list', '--json', '--postgres', yaml], { ASTORE_HOME: join(dir, 'home') });
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /error \[CONFIG_INVALID\]: .*postgres\.yaml is not valid YAML: .* at line 2, column \d+\nhint: fix the line the message names/);
    const doc = JSON.parse(r.stdout) as { error: { code: string; hint: string } };
    assert.equal(doc.error.code, 'CONFIG_INVALID');
    assert.match(doc.error.hint, /postgres\.yaml/);
    assert.ok(!r.output.includes(SECRET), r.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
