/**
 * The encryption-key Secret as Kubernetes hands it to a pod. The seeds save the key with
 * `oc get secret $INSTANCE-auth-encryption -o yaml > auth-encryption-secret.yaml` and put it back
 * with `oc apply -f` it; a pod that mounts that Secret sees a directory holding one file per data
 * key, the value decoded. The store read only the YAML file, so the Secret applied the seeds' way
 * could not be used by a pod. ASTORE_ENCRYPTION_SECRET may now name such a directory, and
 * `secret export --name` writes the Secret under the seeds' name.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { openStore } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

describe('the key Secret mounted as a directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astore-secretmount-'));
  let db: TestDatabase;
  let home: string;
  let exported: { metadata: { name: string; labels: Record<string, string> }; data: Record<string, string> };

  /** A Secret volume as the kubelet writes it: each data key a file with the decoded value. */
  function mount(name: string, files: Record<string, Buffer | string>): string {
    const at = join(dir, name);
    mkdirSync(at);
    for (const [k, v] of Object.entries(files)) writeFileSync(join(at, k), v);
    return at;
  }
  /** A command that opens the store, from a pod: an empty ASTORE_HOME, the key only in the mount. */
  const inPod = (secret: string) => runAstore(['instances', 'list'], { DATABASE_URL: db.url, ASTORE_HOME: join(dir, 'pod-home'), ASTORE_ENCRYPTION_SECRET: secret });

  before(async () => {
    db = await createTestDatabase('secretmount');
    home = join(dir, 'home');
    process.env.ASTORE_HOME = home;
    const s = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await s.close();
    const r = await runAstore(['secret', 'export', '--name', 'wa-auth-encryption'], { DATABASE_URL: db.url, ASTORE_HOME: home, ASTORE_ENCRYPTION_SECRET: '' });
    assert.equal(r.code, 0, r.output);
    exported = parse(r.stdout);
  });
  after(async () => { await db.drop(); rmSync(dir, { recursive: true, force: true }); });

  it('secret export --name writes the Secret under that name and app label, as the seeds look it up', () => {
    assert.equal(exported.metadata.name, 'wa-auth-encryption');
    assert.equal(exported.metadata.labels.app, 'wa-auth-encryption');
    assert.equal(exported.metadata.labels.service, 'conversation');
  });

  it('a command opens the store with the key read from the mounted Secret', async () => {
    const raw = Buffer.from(exported.data.auth_encryption_key!, 'base64');
    const r = await inPod(mount('decoded', { auth_encryption_key: raw }));
    assert.equal(r.code, 0, r.output);
    // A value given as stringData stays base64 text in the mount: read as well.
    const text = await inPod(mount('text', { auth_encryption_key: exported.data.auth_encryption_key! }));
    assert.equal(text.code, 0, text.output);
  });

  it('a mount without the key, or with another key, is refused with the reason', async () => {
    const empty = await inPod(mount('empty', { other: 'x' }));
    assert.equal(empty.code, 2, empty.output);
    assert.match(empty.stderr, /^error \[KEY_FILE_INVALID\]: .*empty is a directory but holds no readable auth_encryption_key/m);
    const wrong = await inPod(mount('wrong', { auth_encryption_key: randomBytes(32) }));
    assert.equal(wrong.code, 5, wrong.output);
    assert.match(wrong.stderr, /^error \[KEY_MISMATCH\]/m);
  });

  it('secret generate makes the first key of a new deployment, which pods then use from the mounted Secret', async () => {
    const file = join(dir, 'generated.yaml');
    const r = await runAstore(['secret', 'generate', '--name', 'new-auth-encryption', '-o', file], { ASTORE_HOME: join(dir, 'nowhere') });
    assert.equal(r.code, 0, r.output);
    const generated = parse(readFileSync(file, 'utf8')) as typeof exported;
    assert.equal(generated.metadata.name, 'new-auth-encryption');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await runAstore(['secret', 'generate', '-o', file], {});
    assert.equal(again.code, 5, again.output);
    assert.match(again.stderr, /^error \[KEY_FILE_EXISTS\]/m);
    assert.deepEqual(parse(readFileSync(file, 'utf8')), generated, 'an existing file is never replaced');
    // A new deployment's first start: the store is set up under the generated key.
    const fresh = await createTestDatabase('secretgen');
    try {
      const at = mount('generated', { auth_encryption_key: Buffer.from(generated.data.auth_encryption_key!, 'base64') });
      const migrate = await runAstore(['migrate'], { DATABASE_URL: fresh.url, ASTORE_HOME: join(dir, 'gen-home'), ASTORE_ENCRYPTION_SECRET: at });
      assert.equal(migrate.code, 0, migrate.output);
      const listed = await runAstore(['instances', 'list'], { DATABASE_URL: fresh.url, ASTORE_HOME: join(dir, 'gen-home-2'), ASTORE_ENCRYPTION_SECRET: at });
      assert.equal(listed.code, 0, listed.output);
    } finally {
      await fresh.drop();
    }
  });

  it('secret apply cannot replace a mounted Secret and says to update the Secret; a bad --name is refused', async () => {
    const file = join(dir, 'key.yaml');
    writeFileSync(file, readFileSync(join(home, 'auth-encryption-secret.yaml')));
    const at = mount('apply', { auth_encryption_key: Buffer.from(exported.data.auth_encryption_key!, 'base64') });
    const r = await runAstore(['secret', 'apply', '--no-verify', '-f', file], { ASTORE_HOME: home, ASTORE_ENCRYPTION_SECRET: at });
    // Already the installed key: nothing to do.
    assert.equal(r.code, 0, r.output);
    const other = join(dir, 'other.yaml');
    writeFileSync(other, readFileSync(file, 'utf8').replace(exported.data.auth_encryption_key!, randomBytes(32).toString('base64')));
    const refused = await runAstore(['secret', 'apply', '--no-verify', '-f', other], { ASTORE_HOME: home, ASTORE_ENCRYPTION_SECRET: at });
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.stderr, /^error \[KEY_FILE_READ_ONLY\]: .*a directory \(a mounted Kubernetes Secret\)/m);
    assert.match(refused.stderr, /hint: update the Secret itself \(kubectl apply -f /);
    const bad = await runAstore(['secret', 'export', '--no-verify', '--name', 'Bad_Name'], { ASTORE_HOME: home, ASTORE_ENCRYPTION_SECRET: '' });
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.stderr, /ARGUMENT_INVALID.*--name "Bad_Name" is not a Kubernetes Secret name/);
  });
});
