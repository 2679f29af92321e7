/**
 * TLS to the target: a private PostgreSQL with a certificate signed by a CA made here. With that
 * CA in PG_CA_FILE, `--testPGConnection` and the restore succeed over verified TLS; with another
 * CA both fail with PG_TLS naming the certificate problem, and the target is untouched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { stringify } from 'yaml';
import { createInstance, createToken } from '../../src/auth/index.ts';
import { createServer } from '../../src/api/index.ts';
import { verifyArchive } from '../../src/archive/index.ts';
import { restore, type RestoreOptions } from '../../src/restore/index.ts';
import { openStore, startCluster, type RunningCluster, type Store } from '../../src/store/index.ts';
import { ALGORITHM_VERSION } from '../../src/training/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { checksum, pgDump, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

const openssl = (args: string[], cwd: string): void => { execFileSync('openssl', args, { cwd, stdio: 'ignore' }); };

/** A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA. */
function makeCertificates(dir: string): { ca: string; otherCa: string; cert: string; key: string } {
  mkdirSync(dir, { mode: 0o755 });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=astore test CA', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=some other CA', '-keyout', 'other.key', '-out', 'other.crt'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt'], dir);
  const key = join(dir, 'server.key');
  chmodSync(key, 0o600);
  // PostgreSQL refuses a key others can read; as root the server runs as `postgres`, which must own it.
  if (userInfo().uid === 0) {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    chownSync(key, id('-u'), id('-g'));
  }
  return { ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other.crt'), cert: join(dir, 'server.crt'), key };
}

describe('pgmig over TLS', () => {
  let root: string;
  let cluster: RunningCluster;
  let a: TestStore;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let certs: ReturnType<typeof makeCertificates>;
  let options: RestoreOptions;
  let postgresYaml: string;
  let workspace: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pgmig-tls-'));
    const home = join(root, 'home');
    mkdirSync(home);
    certs = makeCertificates(join(root, 'tls'));
    cluster = await startCluster({
      dataDir: join(root, 'pg'), password: 'tls-password', port: 0,
      settings: { ssl: 'on', ssl_cert_file: certs.cert, ssl_key_file: certs.key },
    });
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('create database target');
    await admin.end();
    url = cluster.url('target');

    // The source: a store on the shared test server, dumped with stock pg_dump.
    a = await startTestStore({ home });
    const src = await createInstance(a.store.pool, 'source', 'alice');
    workspace = randomUUID();
    await a.store.pool.query(`insert into workspaces (id, instance_id, name, language) values ($1, $2, 'over tls', 'en')`, [workspace, src.id]);
    pgDump(a.db.url, join(root, 'a.dump'));

    // The target store on the TLS server, with its API for the resource-controller listing.
    store = await openStore({ env: { DATABASE_URL: url, ASTORE_HOME: home }, migrate: true });
    app = createServer({ pool: store.pool, key: store.key, algorithmVersion: ALGORITHM_VERSION, release: store.release });
    const api = await app.listen({ host: '127.0.0.1', port: 0 });
    const target = await createInstance(store.pool, 'target', 'bob');
    const token = await createToken(store.pool, 'bob');
    postgresYaml = join(root, 'postgres.yaml');
    writeFileSync(postgresYaml, stringify({
      host: '127.0.0.1', port: cluster.port, database: 'target', username: 'postgres', su_username: 'postgres', su_password: 'tls-password',
    }));
    options = {
      source: join(root, 'a.dump'), resourceController: writeRc(root, api, [token.token]), target: postgresYaml,
      mapping: writeMapping(root, { [src.id]: target.id }), interactive: false, cwd: root, env: { ASTORE_HOME: home },
    };
  });
  after(() => cleanUp(
    () => app?.close(), () => store?.close(), () => a?.close(),
    // The TLS server is this test's own: a failed close before it used to leave it running.
    () => cluster?.stop(),
    () => rmSync(root, { recursive: true, force: true }),
  ));

  const testConnection = (ca: string): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['bin/pgmig', '--testPGConnection', '-t', postgresYaml, '--json'], {
      env: { ...process.env, PG_CA_FILE: ca, DATABASE_URL: '' }, encoding: 'utf8',
    });

  test('with another CA: PG_TLS naming the certificate, and the target is untouched', async () => {
    const r = testConnection(certs.otherCa);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /error \[PG_TLS\]: TLS handshake with 127\.0\.0\.1:\d+ failed: .*certificate/);
    assert.match(r.stderr, /PG_CA_FILE/);

    const before = await checksum(url);
    await assert.rejects(restore({ ...options, env: { ...options.env, PG_CA_FILE: certs.otherCa } }), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'PG_TLS', err.message);
      assert.match(err.message!, /TLS handshake .*certificate/);
      return true;
    });
    assert.deepEqual(await checksum(url), before);
  });

  test('with the right CA: the connection test passes over TLS, and the restore succeeds', async () => {
    const r = testConnection(certs.ca);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, server: JSON.parse(r.stdout).server, tls: true, tls_verified: true });

    const s = await restore({ ...options, env: { ...options.env, PG_CA_FILE: certs.ca } });
    assert.equal(s.workspaces, 1);
    const w = await store.pool.query(`select name from workspaces where id = $1`, [workspace]);
    assert.equal(w.rows[0]?.name, 'over tls');
  });

  test('sslmode=require without a CA: the connection test does not call the unverified TLS "verified"', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `${url}?sslmode=require` };
    delete env.PG_CA_FILE;
    const r = spawnSync(process.execPath, ['bin/pgmig', '--testPGConnection'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^PostgreSQL OK: 127\.0\.0\.1:\d+\/target \(server [^,]+, TLS, server certificate not verified/);
    assert.doesNotMatch(r.stdout, /TLS verified/);
    const j = spawnSync(process.execPath, ['bin/pgmig', '--testPGConnection', '--json'], { env, encoding: 'utf8' });
    assert.equal(j.status, 0, j.stderr);
    assert.deepEqual({ ...JSON.parse(j.stdout), server: undefined }, { ok: true, server: undefined, tls: true, tls_verified: false });
  });

  test('astore backup reads COPY output off a verified TLS connection', async () => {
    // The dump takes the socket over from node-postgres during COPY: over TLS that socket is a TLSSocket.
    const file = join(root, 'over-tls.dump');
    const r = spawnSync(process.execPath, ['bin/astore', 'backup', '--postgres', postgresYaml, '-o', file], {
      env: { ...process.env, PG_CA_FILE: certs.ca, DATABASE_URL: '', ASTORE_HOME: join(root, 'home') }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const report = await verifyArchive(file);
    assert.ok(report.ok, JSON.stringify(report.defects));
    const rows = (table: string): number | undefined => report.tables.find((t) => t.schema === 'astore' && t.table === table)?.rows;
    assert.equal(rows('workspaces'), (await store.pool.query('select 1 from workspaces')).rowCount);
    assert.equal(rows('instances'), (await store.pool.query('select 1 from instances')).rowCount);
  });
});
