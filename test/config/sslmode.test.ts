/**
 * DATABASE_URL's sslmode as libpq reads it. A misspelt mode turned TLS on silently; prefer and
 * allow insisted on TLS and failed against a server without it, where libpq goes without;
 * verify-ca checked the host name as verify-full does; PG_CA_FILE overrode an explicit disable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionFromUrl } from '../../src/config/index.ts';
import { openDatabase } from '../../src/store/index.ts';
import { createTestDatabase } from '../support/pg.ts';

const url = (mode: string): string => `postgres://u:p@db.example:5432/store?sslmode=${mode}`;

test('each sslmode gives libpq\'s TLS; an unknown one is refused naming the valid modes', () => {
  assert.equal(connectionFromUrl(url('disable'), {}).ssl, undefined);
  for (const mode of ['allow', 'prefer']) {
    const c = connectionFromUrl(url(mode), {});
    assert.deepEqual([c.ssl?.rejectUnauthorized, c.tlsOptional], [false, true], mode);
  }
  const require = connectionFromUrl(url('require'), {});
  assert.deepEqual([require.ssl?.rejectUnauthorized, require.tlsOptional], [false, false]);
  const verifyCa = connectionFromUrl(url('verify-ca'), {});
  assert.equal(verifyCa.ssl?.rejectUnauthorized, true);
  assert.equal(verifyCa.ssl?.checkServerIdentity?.('db.example', {} as never), undefined, 'verify-ca does not check the host name');
  const verifyFull = connectionFromUrl(url('verify-full'), {});
  assert.deepEqual([verifyFull.ssl?.rejectUnauthorized, verifyFull.ssl?.checkServerIdentity], [true, undefined]);
  assert.throws(() => connectionFromUrl(url('requre'), {}), (e: any) => e.code === 'CONFIG_INVALID' && /sslmode=requre/.test(e.message) && /verify-full/.test(e.hint));
});

test('PG_CA_FILE verifies whatever the mode, but not against an explicit sslmode=disable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-sslmode-'));
  try {
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const env = { PG_CA_FILE: ca };
    assert.equal(connectionFromUrl(url('require'), env).ssl?.rejectUnauthorized, true);
    assert.equal(typeof connectionFromUrl(url('verify-ca'), env).ssl?.checkServerIdentity, 'function');
    assert.throws(() => connectionFromUrl(url('disable'), env), (e: any) => e.code === 'CONFIG_INVALID' && /PG_CA_FILE/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sslmode=prefer against a server without TLS connects without it; require fails with PG_TLS', { timeout: 60_000 }, async () => {
  const db = await createTestDatabase('sslmode');
  try {
    const prefer = await openDatabase({ env: { DATABASE_URL: `${db.url}?sslmode=prefer` } });
    try {
      assert.equal((await prefer.pool.query<{ one: number }>('select 1 as one')).rows[0]!.one, 1);
      assert.equal(prefer.connection.ssl, undefined);
    } finally {
      await prefer.close();
    }
    await assert.rejects(openDatabase({ env: { DATABASE_URL: `${db.url}?sslmode=require` } }), (e: any) => e.code === 'PG_TLS');
  } finally {
    await db.drop();
  }
});
