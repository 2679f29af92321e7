import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncryptionKey, formatSecretYaml, parseSecretYaml, SECRET_FILE_NAME } from '../../src/auth/index.ts';
import { openStore } from '../../src/store/index.ts';
import pg from 'pg';
import { createTestDatabase } from '../support/pg.ts';
import { startTestStore } from '../support/store.ts';

test('AES-256-GCM round trip; a wrong key is reported, never garbage', () => {
  const k = EncryptionKey.generate();
  const token = k.encrypt('Basic c2VjcmV0');
  assert.ok(token.startsWith('enc:v1:'));
  assert.notEqual(k.encrypt('Basic c2VjcmV0'), token, 'random IV per value');
  assert.equal(k.decrypt(token), 'Basic c2VjcmV0');
  assert.throws(() => EncryptionKey.generate().decrypt(token), (e: any) => e.code === 'KEY_MISMATCH');
  const flipped = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.throws(() => k.decrypt(flipped), (e: any) => e.code === 'KEY_MISMATCH');
  assert.equal(parseSecretYaml(formatSecretYaml(k), 'x').fingerprint, k.fingerprint);
  assert.throws(() => parseSecretYaml('kind: ConfigMap\n', 'cm.yaml'), (e: any) => e.code === 'KEY_FILE_INVALID' && /cm.yaml/.test(e.message));
  // Not YAML, or a dump given by mistake: one line saying so (not the file's bytes), and what to use.
  assert.throws(() => parseSecretYaml('kind: Secret\ndata: [unclosed\n', 'bad.yaml'), (e: any) => {
    assert.equal(e.code, 'KEY_FILE_INVALID');
    assert.match(e.message, /^bad\.yaml is not valid YAML: [^\n]+$/);
    assert.match(e.hint, /astore secret export/);
    return true;
  });
  assert.throws(() => parseSecretYaml('PGDMP\u0001\u000f\u0000\u0004\b\u0001\u0001\u0001', 'store.dump'), (e: any) => {
    assert.equal(e.code, 'KEY_FILE_INVALID');
    assert.equal(e.message, 'store.dump is not a text file, so not an encryption-key Secret');
    assert.match(e.hint, /astore secret export/);
    return true;
  });
});

test('webhook header values are encrypted at rest; wrong or missing key files stop the store', async (ctx) => {
  const s = await startTestStore();
  ctx.after(() => s.close());
  const t = await s.tenant('erin');
  const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
    method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'hooks', webhooks: [{ name: 'main_webhook', url: 'https://x.test', headers: [{ name: 'Authorization', value: 'Bearer top-secret' }] }] }),
  });
  assert.equal(res.status, 201);
  const raw = await s.store.pool.query<{ w: string }>('select webhooks::text as w from workspaces');
  assert.ok(!raw.rows[0]!.w.includes('top-secret'), 'plaintext secret stored');
  assert.match(raw.rows[0]!.w, /enc:v1:/);
  const body = (await res.json()) as { webhooks: Array<{ headers: Array<{ value: string }> }> };
  assert.equal(body.webhooks[0]!.headers[0]!.value, 'Bearer top-secret');

  const keyFile = join(s.home, SECRET_FILE_NAME);
  const original = readFileSync(keyFile, 'utf8');
  writeFileSync(keyFile, formatSecretYaml(EncryptionKey.generate()));
  await assert.rejects(openStore({ env: { DATABASE_URL: s.db.url } }), (e: any) => e.code === 'KEY_MISMATCH' && /astore secret apply/.test(e.hint));
  rmSync(keyFile);
  await assert.rejects(openStore({ env: { DATABASE_URL: s.db.url } }), (e: any) => e.code === 'KEY_MISSING');
  writeFileSync(keyFile, original);
  const again = await openStore({ env: { DATABASE_URL: s.db.url } });
  await again.close();
});

test('a header value that merely looks encrypted is stored encrypted and read back as sent', async () => {
  const s = await startTestStore();
  try {
    const t = await s.tenant('lookalike');
    // It used to be taken as already encrypted: stored in plain text, the workspace then unreadable.
    const lookalike = `enc:v1:${Buffer.alloc(40, 7).toString('base64')}`;
    const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'lookalike', webhooks: [{ name: 'main_webhook', url: 'https://x.test', headers: [{ name: 'X-Token', value: lookalike }] }] }),
    });
    assert.equal(res.status, 201);
    const { workspace_id: id } = (await res.json()) as { workspace_id: string };
    const raw = await s.store.pool.query<{ w: string }>('select webhooks::text as w from workspaces');
    assert.ok(!raw.rows[0]!.w.includes(lookalike), 'stored as sent, not encrypted');
    const read = await fetch(`${t.serviceUrl}/v1/workspaces/${id}?version=2021-11-27&export=true`, { headers: { authorization: `Bearer ${t.token}` } });
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { webhooks: Array<{ headers: Array<{ value: string }> }> }).webhooks[0]!.headers[0]!.value, lookalike);
  } finally {
    await s.close();
  }
});

test('a store still running with the key it started with refuses to write secrets once the database has another key', async () => {
  const s = await startTestStore();
  try {
    const t = await s.tenant('rotated');
    const create = (name: string, webhooks?: unknown) => fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, ...(webhooks ? { webhooks } : {}) }),
    });
    const hooks = [{ name: 'main_webhook', url: 'https://x.test', headers: [{ name: 'Authorization', value: 'Bearer s3cret' }] }];
    assert.equal((await create('before', hooks)).status, 201);
    // What pgmig does when it restores data written under another key (after `secret apply`).
    const other = EncryptionKey.generate();
    await s.store.pool.query(`update store_meta set value = to_jsonb($1::text) where key = 'encryption_key_fingerprint'`, [other.fingerprint]);
    const refused = await create('after', hooks);
    assert.equal(refused.status, 503);
    const body = await refused.text();
    assert.match(body, /this running store loaded key .* restart astore serve/);
    assert.equal((await s.store.pool.query(`select 1 from workspaces where name = 'after'`)).rowCount, 0, 'nothing written with the old key');
    assert.equal((await create('no-secrets')).status, 201, 'workspaces without secrets are unaffected');
  } finally {
    await s.close();
  }
});

test('secret apply installs a key and keeps the previous one beside it; export prints the installed key, refusing one the data is not encrypted with', async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { mkdtempSync, readdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const run = promisify(execFile);
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'astore');
  const home = mkdtempSync(join(tmpdir(), 'astore-secret-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const db = await createTestDatabase('secret');
  t.after(() => db.drop());
  const env: NodeJS.ProcessEnv = { ...process.env, ASTORE_HOME: home, DATABASE_URL: db.url };
  delete env.ASTORE_ENCRYPTION_SECRET;
  const first = EncryptionKey.generate();
  const second = EncryptionKey.generate();
  writeFileSync(join(home, 'first.yaml'), formatSecretYaml(first));
  writeFileSync(join(home, 'second.yaml'), formatSecretYaml(second));
  await run(bin, ['secret', 'apply', '-f', join(home, 'first.yaml')], { env });
  await run(bin, ['secret', 'apply', '-f', join(home, 'second.yaml')], { env });
  const installed = parseSecretYaml(readFileSync(join(home, SECRET_FILE_NAME), 'utf8'), 'installed');
  assert.equal(installed.fingerprint, second.fingerprint);
  const kept = readdirSync(home).filter((f) => f.startsWith(`${SECRET_FILE_NAME}.`) && f.endsWith('.bak'));
  assert.equal(kept.length, 1);
  assert.equal(parseSecretYaml(readFileSync(join(home, kept[0]!), 'utf8'), 'kept').fingerprint, first.fingerprint);
  assert.ok(!readdirSync(home).some((f) => f.includes('.tmp-')), 'no temporary file is left');
  const exported = (await run(bin, ['secret', 'export'], { env })).stdout;
  assert.equal(parseSecretYaml(exported, 'export').fingerprint, second.fingerprint);
  // A key that is not the one the data is encrypted with is refused: it would not restore this data.
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`create schema astore; create table astore.store_meta (key text primary key, value jsonb not null);
    insert into astore.store_meta values ('encryption_key_fingerprint', to_jsonb('${first.fingerprint}'::text))`);
  await admin.end();
  await assert.rejects(run(bin, ['secret', 'export'], { env }), (e: any) => e.code === 5 && /KEY_MISMATCH/.test(e.stderr) && e.stdout === '');
  assert.equal(parseSecretYaml((await run(bin, ['secret', 'export', '--no-verify'], { env })).stdout, 'unchecked').fingerprint, second.fingerprint);
  // Applying a key ahead of its data is allowed (the restore order), but says what it means and how to undo it.
  const applied = await run(bin, ['secret', 'apply', '-f', join(home, 'first.yaml')], { env });
  assert.doesNotMatch(applied.stderr, /note:/, 'the key matches the data: nothing to say');
  const ahead = await run(bin, ['secret', 'apply', '-f', join(home, 'second.yaml')], { env });
  assert.match(ahead.stderr, new RegExp(`note: this database was set up with key ${first.fingerprint}`));
  // The order that works: pgmig needs a running serve and the target's instances and tokens, and
  // with the key ahead of its data neither starts (the note used to say to restore before serve).
  assert.doesNotMatch(ahead.stderr, /before starting astore serve/);
  assert.match(ahead.stderr, /put the previous key back \(astore secret apply -f \S+\.bak\)\s+first, start astore serve, create them, then apply this key again and run pgmig/);
  const refused = await run(bin, ['tokens', 'create', '--user', 'admin'], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((refused as { code: number }).code, 5);
  assert.match((refused as { stderr: string }).stderr, /KEY_MISMATCH[\s\S]*hint: .*start astore serve and create the instances and tokens under that previous key, then apply this one again, run pgmig/);
});

test('with DATABASE_URL, a first run creates ASTORE_HOME for the new key; a home that cannot be created is HOME_UNUSABLE', async () => {
  const { mkdtempSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const db = await createTestDatabase('freshhome');
  const root = mkdtempSync(join(tmpdir(), 'astore-fresh-'));
  try {
    const home = join(root, 'not', 'yet');
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['bin/astore', 'migrate'], { env: { ...process.env, DATABASE_URL: db.url, ...env }, encoding: 'utf8' });
    const bad = run({ ASTORE_HOME: home, ASTORE_ENCRYPTION_SECRET: '/proc/astore-nope/key.yaml' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /error \[HOME_UNUSABLE\]: cannot create \/proc\/astore-nope for the encryption key file/);
    const ok = run({ ASTORE_HOME: home });
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(existsSync(join(home, SECRET_FILE_NAME)), 'the key file is in the new home');
  } finally {
    rmSync(root, { recursive: true, force: true });
    await db.drop();
  }
});
