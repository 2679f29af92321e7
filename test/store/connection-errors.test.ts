/**
 * Connection failures a DBA's pg_hba.conf causes. A server that takes this client only over TLS
 * answers "no pg_hba.conf entry … no encryption" (or "… SSL off"): that was PG_AUTH, "check
 * su_username / su_password", for a right password (or, worded "SSL off", PG_TLS "TLS handshake
 * failed" with a PG_CA_FILE hint, for a connection that had not tried TLS). Asking for TLS from a
 * server that has none was PG_TLS with that same CA hint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type RunningCluster } from '../../src/store/index.ts';
import { cleanUp } from '../support/cleanup.ts';
import { runAstore } from '../support/cli.ts';
import { sqlAt } from '../support/pg.ts';

describe('connection refused by pg_hba.conf or for TLS', () => {
  let root: string;
  let cluster: RunningCluster;
  let url: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'astore-hba-'));
    cluster = await startCluster({ dataDir: join(root, 'pg'), password: 'hba-password', port: 0 });
    url = cluster.url('postgres');
    // Only TLS connections from here on (the server has no certificate, so none gets in).
    writeFileSync(join(root, 'pg', 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n');
    await sqlAt(url, 'select pg_reload_conf()');
  });
  after(() => cleanUp(() => cluster?.stop(), () => rmSync(root, { recursive: true, force: true })));

  test('a server that wants TLS for this client: PG_HBA saying so, not a TLS handshake failure', { timeout: 60_000 }, async () => {
    const r = await runAstore(['db', 'info'], { ASTORE_HOME: join(root, 'home'), DATABASE_URL: url });
    assert.equal(r.code, 3, r.output);
    assert.match(r.stderr, /^error \[PG_HBA\]: .*pg_hba\.conf/m);
    assert.match(r.stderr, /^hint: .*TLS.*sslmode=require/m);
    assert.doesNotMatch(r.output, /hba-password/);
  });

  test('TLS asked of a server that has none: PG_TLS saying the server does not offer it', { timeout: 60_000 }, async () => {
    const r = await runAstore(['db', 'info'], { ASTORE_HOME: join(root, 'home'), DATABASE_URL: `${url}?sslmode=require` });
    assert.equal(r.code, 3, r.output);
    assert.match(r.stderr, /^error \[PG_TLS\]: /m);
    assert.match(r.stderr, /^hint: .*does not offer TLS/m);
  });
});
