/**
 * Connection settings as operators write them. A `%` that is not percent-encoding in a
 * DATABASE_URL password was a URIError stack trace; an IPv6 host kept its brackets and was then
 * looked up as a host name; a postgres.yaml password that YAML reads as a number (0123, 0x1F, 1e3)
 * was silently rewritten (123, 31, 1000) and then refused by the server as a wrong password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionFromUrl, connectionUrl, readPostgresYaml } from '../../src/config/index.ts';
import { runAstore } from '../support/cli.ts';

test('a DATABASE_URL whose password holds a bare % is CONFIG_INVALID saying how to encode it, without the password', () => {
  assert.throws(() => connectionFromUrl('postgres://u:s3cr%t@db.example/store', {}), (e: any) =>
    e.code === 'CONFIG_INVALID' && e.exitCode === 2 && /password/.test(e.message) && /%25/.test(e.hint) && !/s3cr/.test(e.message + e.hint));
  assert.equal(connectionFromUrl('postgres://u:s3cr%25t%2F%40@db.example/store', {}).password, 's3cr%t/@');
});

test('astore migrate with such a DATABASE_URL exits 2 with the error code, no stack trace', { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'astore-url-'));
  try {
    const r = await runAstore(['migrate'], { ASTORE_HOME: home, DATABASE_URL: 'postgres://u:s3cr%t@127.0.0.1:1/store' });
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /^error \[CONFIG_INVALID\]: /m);
    assert.doesNotMatch(r.stderr, /URIError|\n\s+at /);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('an IPv6 host in DATABASE_URL is connected to without its brackets', () => {
  const c = connectionFromUrl('postgres://u:p@[::1]:5433/store', {});
  assert.equal(c.host, '::1');
  assert.equal(c.port, 5433);
  assert.equal(connectionFromUrl(connectionUrl(c), {}).host, '::1', 'connectionUrl (backups) brackets it again');
});

test('a postgres.yaml password that looks like a number is read exactly as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-pgyaml-'));
  try {
    const file = join(dir, 'postgres.yaml');
    for (const written of ['0123', '0x1F', '1e3', '12345678901234567890', '.5', '+12', 'mypassword']) {
      writeFileSync(file, `host: db.example\nport: 5432\ndatabase: store\nusername: app\nsu_username: admin\nsu_password: ${written}\n`);
      const p = readPostgresYaml(file);
      assert.equal(p.su_password, written);
      assert.equal(p.port, 5432);
    }
    writeFileSync(file, `host: db.example\ndatabase: "0042"\nsu_username: admin\nsu_password: "quoted # not a comment"\n`);
    const quoted = readPostgresYaml(file);
    assert.equal(quoted.su_password, 'quoted # not a comment');
    assert.equal(quoted.database, '0042');
    assert.equal(quoted.port, 5432, 'the default port');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
